"""Response helpers the routers share: ETags, and the one way a route is idempotent
(``idempotent``; ``created`` for creating POSTs): a retry with the same
Idempotency-Key and body gets the first answer again."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import orjson
from cryptography.fernet import Fernet
from fastapi import Request, Response
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data import idempotency as idempotency_service
from app.security import Principal

T = TypeVar("T")


def etag(version: int) -> str:
    """The strong ETag of a record version."""
    return f'"{version}"'


def _uuid_text(value: Any) -> str:
    # asyncpg hands back its own UUID subclass, which orjson does not take as a UUID.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def plain_json(content: Any, *, headers: dict[str, str] | None = None) -> Response:
    """Plain data (dicts of a hot read's rows) serialized with orjson, past the response model.

    The shapes are the response models' (the OpenAPI document still names
    them); validating fifty rows into models only to serialize them again cost
    a list a tenth of its CPU. Datetimes come out as pydantic writes them
    (``...Z`` for UTC)."""
    return Response(
        orjson.dumps(content, default=_uuid_text, option=orjson.OPT_UTC_Z),
        headers=headers,
        media_type="application/json",
    )


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialize ``model`` with pydantic straight to bytes."""
    return Response(
        model.model_dump_json().encode(),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


Answer = tuple[int, BaseModel, dict[str, str]]


def replayable(
    answer: idempotency_service.Answer, replayed: bool, extra_headers: dict[str, str] | None = None
) -> Response:
    """The response of an answer, marked ``Idempotency-Replayed: true`` when it is a replay."""
    headers = {**answer.headers, **(extra_headers or {})}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return Response(
        answer.body, status_code=answer.status_code, headers=headers, media_type="application/json"
    )


def keyed_request(
    request: Request, payload: BaseModel, *, actor_key: str, key: str, cipher: Fernet
) -> idempotency_service.KeyedRequest:
    """A request sent with an Idempotency-Key, as ``idempotency_service.run_once`` takes it.

    The fingerprint holds the actual path, not the route's template: the same
    key and body sent to another parent (another group's members) is another
    request."""
    return idempotency_service.KeyedRequest(
        actor_key=actor_key,
        key=key,
        request_hash=idempotency_service.fingerprint(
            request.method, request.url.path, payload.model_dump(mode="json")
        ),
        ttl=timedelta(hours=request.app.state.settings.idempotency_ttl_hours),
        cipher=cipher,
    )


# Who an Idempotency-Key belongs to, the name it is stored under, and the cipher of its
# answer, given the key: by default the caller's own key, sealed with the app's cipher.
Keying = Callable[[str], tuple[str, str, Fernet]]
# How the work runs once per key: ``run_once``, or a service's wrapper around it
# (an anonymous report's limit, app/services/reports/filing.py).
Once = Callable[
    [idempotency_service.KeyedRequest | None, Callable[[], Awaitable[idempotency_service.Answer]]],
    Awaitable[tuple[idempotency_service.Answer, bool]],
]


async def idempotent(
    request: Request,
    session: AsyncSession,
    principal: Principal | None,
    idempotency_key: str | None,
    payload: BaseModel,
    run: Callable[[], Awaitable[Answer]],
    *,
    keying: Keying | None = None,
    once: Once | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Run ``run`` once per Idempotency-Key: a retry with the same body replays its answer.

    ``run`` returns the status, the body and the headers to answer with;
    ``headers`` are added to the answer, first or replayed."""
    keyed = None
    if idempotency_key:
        if keying is None:
            actor_key = principal.actor_key if principal else "anonymous"
            name, cipher = idempotency_key, request.app.state.response_cipher
        else:
            actor_key, name, cipher = keying(idempotency_key)
        keyed = keyed_request(request, payload, actor_key=actor_key, key=name, cipher=cipher)

    async def answer() -> idempotency_service.Answer:
        status, body, answer_headers = await run()
        return idempotency_service.Answer(status, body.model_dump_json().encode(), answer_headers)

    if once is None:
        answered, replayed = await idempotency_service.run_once(session, keyed, answer)
    else:
        answered, replayed = await once(keyed, answer)
    return replayable(answered, replayed, headers)


async def created(
    request: Request,
    session: AsyncSession,
    principal: Principal | None,
    idempotency_key: str | None,
    payload: BaseModel,
    create: Callable[[], Awaitable[T]],
    present: Callable[[T], BaseModel],
    location: Callable[[T], str],
) -> Response:
    """Run ``create`` once per Idempotency-Key and answer 201 with Location and ETag."""

    async def run() -> Answer:
        record = await create()
        body = present(record)
        headers = {"Location": location(record)}
        version = getattr(body, "version", None)
        if isinstance(version, int):
            headers["ETag"] = etag(version)
        return 201, body, headers

    return await idempotent(request, session, principal, idempotency_key, payload, run)


def page_body(rows: Sequence[Any], next_cursor: str | None) -> dict[str, Any]:
    """A list answer from selected rows: ``{"items": [...], "next_cursor": ...}``."""
    # SQLAlchemy's rows and a repository's named tuples both give ``_asdict()``.
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}


def with_etag(response: Response, record: Any) -> None:
    """Set ``ETag`` from the record's version."""
    response.headers["ETag"] = etag(record.version)
