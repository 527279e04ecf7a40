"""Machine clients: ward and province systems that sync with client credentials."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns, utcnow
from app.errors import FieldErrorType, Forbidden, ValidationFailed
from app.models.clients import Client
from app.pagination import CursorCodec, Keyset, PageParams
from app.revocations import tokens_ended
from app.schemas.clients import ClientCreate
from app.security import (
    DEFAULT_CLIENT_SCOPES,
    ROLE_SCOPES,
    Principal,
    Role,
    UnitLevel,
    hash_secret,
    new_secret,
)
from app.services import units as unit_service


def visible_clients(principal: Principal) -> Visible:
    """Administrators see every client; nobody else sees any."""
    return Visible.all() if principal.role is Role.ADMIN else Visible.nothing()


CLIENTS = Repository(
    Client,
    noun="client",
    columns=(
        Client.id,
        Client.client_id,
        Client.name,
        Client.role,
        Client.unit_code,
        Client.province_code,
        Client.ward_code,
        Client.scopes,
        Client.is_active,
        Client.created_at,
        Client.updated_at,
        Client.version,
    ),
    visible=visible_clients,
    keyset=Keyset("clients", columns(Client.created_at, Client.id)),
    writes=UnitOfWrite("client"),
)


def _require_admin(principal: Principal) -> None:
    if principal.role is not Role.ADMIN:
        raise Forbidden("Only administrators manage machine clients.")


async def create_client(
    session: AsyncSession, principal: Principal, data: ClientCreate
) -> tuple[Client, str, str]:
    """Register a client; returns it with its secret and its Open311 api_key, which are
    stored only hashed."""
    _require_admin(principal)
    anchor = await unit_service.resolve_unit(session, data.unit_code)
    if anchor is None or anchor.level is UnitLevel.NEIGHBOURHOOD:
        raise ValidationFailed.field(
            ("body", "unit_code"),
            f"No province or ward has the code {data.unit_code!r}.",
            FieldErrorType.NOT_FOUND,
        )
    allowed = ROLE_SCOPES[Role.WARD_SYSTEM]
    scopes = frozenset(data.scopes) if data.scopes is not None else DEFAULT_CLIENT_SCOPES
    if not scopes <= allowed:
        bad = ", ".join(sorted(scopes - allowed))
        raise ValidationFailed.field(
            ("body", "scopes"), f"A ward system cannot hold these scopes: {bad}."
        )
    secret = new_secret("wss_")
    api_key = new_secret("wsk_")
    client = Client(
        client_id=f"wsc_{secrets.token_urlsafe(12)}",
        name=data.name,
        secret_hash=hash_secret(secret),
        api_key_hash=hash_secret(api_key),
        role=Role.WARD_SYSTEM.value,
        unit_code=anchor.unit_code,
        province_code=anchor.province_code,
        ward_code=anchor.ward_code,
        scopes=" ".join(sorted(scopes)),
    )
    await CLIENTS.insert(
        session,
        principal,
        client,
        fields=["name", "unit_code", "scopes", "client_secret", "api_key"],
    )
    return client, secret, api_key


async def list_clients(
    session: AsyncSession, principal: Principal, page: PageParams, codec: CursorCodec
) -> tuple[Sequence[Any], str | None]:
    """Every live client, oldest first."""
    _require_admin(principal)
    return await CLIENTS.page(session, principal, page, codec)


async def delete_client(
    session: AsyncSession, principal: Principal, client_pk: uuid.UUID, expected_version: int
) -> None:
    """Delete a client: its secret stops working at once, its access tokens within seconds."""
    _require_admin(principal)
    client = await CLIENTS.get_for_update(session, principal, client_pk)
    # A delete that also ends the client's tokens: one write, the ``delete`` event.
    await CLIENTS.update(
        session,
        principal,
        client,
        expected_version,
        {"deleted_at": utcnow(), "is_active": False, **tokens_ended(Client)},
        fields=(),
        action="delete",
    )
