"""User accounts: who may see and manage whom, and the records themselves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.uniqueness import taken
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns, utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, ValidationFailed
from app.models.users import User
from app.pagination import CursorCodec, Keyset, PageParams
from app.revocations import tokens_ended
from app.schemas.users import UserCreate, UserUpdate
from app.security import (
    RANK,
    ROLE_UNIT_LEVELS,
    Principal,
    Role,
    hash_password,
)
from app.services import auth as auth_service
from app.services import units as unit_service


def visible_users(principal: Principal) -> Visible:
    """The users a principal may see: admin all, officers their province or ward."""
    if principal.role is Role.ADMIN:
        return Visible.all()
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if principal.role is Role.WARD_OFFICER and principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    return Visible.nothing()


_COLUMNS = (
    User.id,
    User.username,
    User.full_name,
    User.phone,
    User.role,
    User.unit_code,
    User.province_code,
    User.ward_code,
    User.is_active,
    User.created_at,
    User.updated_at,
    User.version,
)
USERS = Repository(
    User,
    noun="user",
    columns=_COLUMNS,
    visible=visible_users,
    keyset=Keyset("users", columns(User.username, User.id)),
    filters={"role": User.role, "ward_code": User.ward_code, "username": User.username},
    writes=UnitOfWrite("user"),
)
# Who an account is, for another domain's rule (a fire team's leader must be an active
# group leader of its neighbourhood, a group member's account one of its ward): every
# live account, whoever asks.
ACCOUNT_ROLES = Repository(
    User,
    noun="user",
    columns=(User.id, User.role, User.ward_code, User.neighbourhood_id, User.is_active),
    visible=Visible.all(),
    keyset=Keyset("account-roles", columns(User.id)),
)
# The signed-in user's own account: every user sees it, whatever their role.
OWN_ACCOUNT = Repository(
    User,
    noun="user",
    columns=_COLUMNS,
    visible=lambda principal: Visible.where(id=principal.subject),
    keyset=Keyset("own-account", columns(User.id)),
    missing="This account no longer exists.",
)


async def holds_role(
    session: AsyncSession,
    user_id: uuid.UUID,
    role: Role,
    *,
    ward_code: str | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    active: bool = True,
) -> bool:
    """Whether ``user_id`` is a live account with ``role`` (of ``ward_code`` and of
    ``neighbourhood_id`` when given; an active one unless ``active`` is False), whoever
    asks: another domain's rule (a fire team's leader, a report's assignee)."""
    account = await ACCOUNT_ROLES.find(session, None, user_id)
    return (
        account is not None
        and account.role == role.value
        and (ward_code is None or account.ward_code == ward_code)
        and (neighbourhood_id is None or account.neighbourhood_id == neighbourhood_id)
        and (account.is_active or not active)
    )


def can_manage_user(principal: Principal, role: Role, ward_code: str | None) -> str | None:
    """Why ``principal`` may not manage an account with this role and ward (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is not Role.WARD_OFFICER:
        return "Only administrators and ward officers manage accounts."
    if RANK[role] >= RANK[Role.WARD_OFFICER]:
        return f"A ward officer manages only roles below their own, not {role.value}."
    if ward_code != principal.ward_code:
        return "A ward officer manages only accounts inside their own ward."
    return None


async def _anchor(
    session: AsyncSession, role: Role, unit_code: str | None
) -> tuple[str | None, str | None, str | None, uuid.UUID | None]:
    """Check that ``unit_code`` fits ``role``; returns (unit, province, ward, neighbourhood)."""
    levels = ROLE_UNIT_LEVELS[role]
    if not levels:
        if unit_code is not None:
            raise ValidationFailed.field(("body", "unit_code"), f"A {role.value} has no unit_code.")
        return None, None, None, None
    wanted = " or ".join(f"a {level.value}" for level in levels)
    if unit_code is None:
        raise ValidationFailed.field(
            ("body", "unit_code"),
            f"A {role.value} needs a unit_code naming {wanted}.",
            FieldErrorType.MISSING,
        )
    anchor = await unit_service.resolve_unit(session, unit_code)
    if anchor is None:
        raise ValidationFailed.field(
            ("body", "unit_code"),
            f"No province, ward or neighbourhood has the code {unit_code!r}.",
            FieldErrorType.NOT_FOUND,
        )
    if anchor.level not in levels:
        raise ValidationFailed.field(
            ("body", "unit_code"),
            f"A {role.value}'s unit_code must name {wanted}, not a {anchor.level.value}.",
        )
    return anchor.unit_code, anchor.province_code, anchor.ward_code, anchor.neighbourhood_id


async def list_users(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    role: Role | None = None,
    ward_code: str | None = None,
) -> tuple[Sequence[Any], str | None]:
    """Accounts in the principal's scope, by username."""
    return await USERS.page(
        session, principal, page, codec, role=role.value if role else None, ward_code=ward_code
    )


async def get_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> Any:
    """One account in scope, as a row (404 outside it)."""
    return await USERS.get(session, principal, user_id)


async def get_me(session: AsyncSession, principal: Principal) -> Any:
    """The signed-in user's own account."""
    if principal.kind != "user":
        raise Forbidden("A machine client has no user account; its token says who it is.")
    return await OWN_ACCOUNT.get(session, principal, principal.subject)


async def create_user(session: AsyncSession, principal: Principal, data: UserCreate) -> User:
    """Create an account within the principal's powers."""
    unit_code, province_code, ward_code, neighbourhood_id = await _anchor(
        session, data.role, data.unit_code
    )
    reason = can_manage_user(principal, data.role, ward_code)
    if reason:
        raise Forbidden(reason)
    await _ensure_username_free(session, data.username)
    user = User(
        username=data.username,
        full_name=data.full_name,
        phone=data.phone,
        role=data.role.value,
        unit_code=unit_code,
        province_code=province_code,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        password_hash=hash_password(data.password),
    )
    return await USERS.insert(session, principal, user, fields=data.model_fields_set)


async def _ensure_username_free(session: AsyncSession, username: str) -> None:
    if await taken(USERS, session, username=username) is not None:
        raise Conflict(f"The username {username!r} is taken.")


async def update_user(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    expected_version: int,
    data: UserUpdate,
) -> User:
    """Change an account, if its version is still ``expected_version``."""
    user = await USERS.get_for_update(session, principal, user_id)
    reason = can_manage_user(principal, Role(user.role), user.ward_code)
    if reason:
        raise Forbidden(reason)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "role" in changes and changes["role"] is None:
        raise ValidationFailed.not_null(["role"])
    if changes.get("is_active") is False and user.id == principal.subject:
        raise Forbidden("You cannot deactivate your own account.")
    values: dict[str, Any] = {}
    for name in ("full_name", "phone", "is_active"):
        if name in changes:
            values[name] = changes[name]
    if "full_name" in values and values["full_name"] is None:
        raise ValidationFailed.not_null(["full_name"])
    if "is_active" in values and values["is_active"] is None:
        raise ValidationFailed.not_null(["is_active"])
    if "role" in changes or "unit_code" in changes:
        role = Role(changes.get("role") or user.role)
        unit_code = changes.get("unit_code", user.unit_code)
        unit_code, province_code, ward_code, neighbourhood_id = await _anchor(
            session, role, unit_code
        )
        reason = can_manage_user(principal, role, ward_code)
        if reason:
            raise Forbidden(reason)
        values.update(
            role=role.value,
            unit_code=unit_code,
            province_code=province_code,
            ward_code=ward_code,
            neighbourhood_id=neighbourhood_id,
        )
    if changes.get("password"):
        values["password_hash"] = hash_password(changes["password"])
    audited = [("password" if k == "password_hash" else k) for k in values]
    signs_out = values.get("is_active") is False or "password_hash" in values or "role" in values
    if signs_out:
        # Every token of the account stops: its access tokens within seconds
        # on every process, its refresh tokens at once.
        values.update(tokens_ended(User))
    await USERS.update(session, principal, user, expected_version, values, fields=audited)
    if signs_out:
        await auth_service.revoke_user_tokens(session, user.id)
    return user


async def delete_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, expected_version: int
) -> None:
    """Delete (deactivate and hide) an account, if its version is still ``expected_version``."""
    user = await USERS.get_for_update(session, principal, user_id)
    reason = can_manage_user(principal, Role(user.role), user.ward_code)
    if reason:
        raise Forbidden(reason)
    if user.id == principal.subject:
        raise Forbidden("You cannot delete your own account.")
    # A delete that also deactivates the account and ends its tokens: one write, the
    # ``delete`` event.
    await USERS.update(
        session,
        principal,
        user,
        expected_version,
        {"deleted_at": utcnow(), "is_active": False, **tokens_ended(User)},
        fields=(),
        action="delete",
    )
    await auth_service.revoke_user_tokens(session, user.id)


async def create_admin(session: AsyncSession, username: str, password: str, full_name: str) -> User:
    """Create an administrator account (the CLI's create-admin); a taken username conflicts."""
    await _ensure_username_free(session, username)
    user = User(
        username=username,
        full_name=full_name,
        role=Role.ADMIN.value,
        unit_code=None,
        password_hash=hash_password(password),
    )
    return await USERS.insert(
        session, None, user, fields=["username", "full_name", "role", "password"]
    )
