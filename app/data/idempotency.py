"""Idempotency keys: a retried creating POST gets the first answer, not a second record.

The stored answers' storage, and the work run once per key (``run_once``): the
new rows the work writes wait (``held_rows``) for the statement that stores the
answer, and go out with it only if the key was free. The route-level mechanism
that every idempotent route uses is ``app.responses.idempotent``."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import HeldRows, Prepared, held_rows
from app.data.writes import GUARDED, writing
from app.db import columns, flush_pending, utcnow, uuid7
from app.errors import AppError, Conflict, FieldErrorType, ValidationFailed
from app.models.idempotency import IdempotencyKey


def response_cipher(secret_key: str) -> Fernet:
    """The cipher stored answers are sealed with.

    An answer may hold what must not rest in the clear (a new client's
    secret, a person's phone number), so it is stored encrypted."""
    key = hashlib.sha256(b"wardsafe-idempotency\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class Answer:
    """An answer to a creating request: the status, the body and the headers to send again."""

    status_code: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class KeyedRequest:
    """A request sent with an Idempotency-Key: whose key it is, what was asked, how to seal."""

    actor_key: str
    key: str
    request_hash: str
    ttl: timedelta
    cipher: Fernet


def fingerprint(method: str, route: str, payload: Any) -> str:
    """What makes two requests "the same": method, route and the parsed body."""
    canonical = orjson.dumps([method, route, payload], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


_STORED = columns(
    IdempotencyKey.request_hash,
    IdempotencyKey.status_code,
    IdempotencyKey.response_body,
    IdempotencyKey.response_headers,
)


def _opened(cipher: Fernet, sealed: bytes | None) -> bytes | None:
    if sealed is None:
        return None
    try:
        return cipher.decrypt(sealed)
    except InvalidToken:
        return None


# Both statements are built once: building them per request cost a new
# report a third of its CPU (docs/performance.md).
_KEYS = IdempotencyKey.__table__  # type: ignore[attr-defined]
# The stored answers are the service's bookkeeping, written only here (under ``writing``).
GUARDED.add(_KEYS.name)
_STORED_SELECT = Prepared(
    select(*_STORED).where(
        col(IdempotencyKey.actor_key) == bindparam("actor_key"),
        col(IdempotencyKey.key) == bindparam("key"),
        col(IdempotencyKey.expires_at) > bindparam("now", type_=_KEYS.c.expires_at.type),
    )
)


@lru_cache(maxsize=4)
def _upsert(dialect: str) -> Prepared[Any]:
    """``INSERT ... ON CONFLICT (actor_key, key) DO UPDATE ... WHERE <stored key expired>``."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(_KEYS).values(
        {column.name: bindparam(column.name, type_=column.type) for column in _KEYS.columns}
    )
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=["actor_key", "key"],
            set_={
                column.name: statement.excluded[column.name]
                for column in _KEYS.columns
                if column.name not in ("id", "actor_key", "key")
            },
            where=_KEYS.c.expires_at <= bindparam("now", type_=_KEYS.c.expires_at.type),
        ).returning(_KEYS.c.id)
    )


async def stored_answer(session: AsyncSession, keyed: KeyedRequest) -> Answer | None:
    """The answer the key already got, or None when it is free (never used, or expired).

    422 if the key was used for another request; 409 if its answer can no longer be read."""
    row = await _STORED_SELECT.row(
        session, {"actor_key": keyed.actor_key, "key": keyed.key, "now": utcnow()}
    )
    if row is None:
        return None
    request_hash, status_code, response_body, response_headers = row
    if request_hash != keyed.request_hash:
        raise ValidationFailed.field(
            ("header", "Idempotency-Key"),
            "This Idempotency-Key was used with another request body; use a new key.",
            FieldErrorType.REUSED,
        )
    body = _opened(keyed.cipher, response_body)
    if status_code is None or body is None:
        # Sealed under another secret key (it was rotated): the answer is
        # lost, and running the request again could duplicate the record.
        raise Conflict(
            "This Idempotency-Key was used, but its answer can no longer be read; "
            "use a new key after checking whether the first request took effect."
        )
    return Answer(status_code, body, dict(response_headers))


async def store_answer(
    session: AsyncSession, keyed: KeyedRequest, answer: Answer, held: HeldRows | None = None
) -> bool:
    """Store the answer under the key, encrypted, in one statement; False if the key is taken.

    ``INSERT ... ON CONFLICT (actor_key, key) DO UPDATE ... WHERE <stored key expired>``:
    a free key gets its row, an expired one is taken over, and a live one (a
    concurrent request with the same key committed it; PostgreSQL waits on the
    unique index until it does) is left alone and returns no row. The work's
    ``held`` new rows are written only if the key was free (``Prepared.gate``:
    on PostgreSQL, in the same statement)."""
    now = utcnow()
    values = {
        "id": uuid7(),
        "actor_key": keyed.actor_key,
        "key": keyed.key,
        "request_hash": keyed.request_hash,
        "status_code": answer.status_code,
        "response_body": keyed.cipher.encrypt(answer.body),
        "response_headers": answer.headers,
        "expires_at": now + keyed.ttl,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "deleted_at": None,
        "now": now,
    }
    dialect = session.get_bind().dialect.name
    # The held rows came through the unit of write (each with its audit event):
    # the gate writes them on its behalf.
    with writing():
        return await _upsert(dialect).gate(session, values, held or []) is not None


async def run_once(
    session: AsyncSession,
    keyed: KeyedRequest | None,
    run: Callable[[], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """Run ``run`` once per key: the answer, and whether it is a replay of an earlier one.

    The work first, then its answer stored under the key in one statement.
    The key is not read beforehand: a new key, which is nearly every request,
    would pay a round trip for the rare retry (docs/decisions.md). The rows
    the work writes with ``NewRows`` (a new report, its audit event) go out
    with the key's statement, and only if the key was free: on PostgreSQL a
    request whose work is only such rows is one statement. If the key was
    already answered (a retry, or a concurrent request with the same key that
    committed first), this request's work is rolled back and the stored answer
    is replayed (or 422 if it was another body)."""
    if keyed is None:
        return await run(), False
    try:
        with held_rows(session) as held:
            answer = await run()
        # The work's ORM writes go out before the key's row, so what the work
        # trips over (a unique code the first request took) is raised here.
        await flush_pending(session)
        kept = await store_answer(session, keyed, answer, held)
    except (AppError, IntegrityError):
        # A retry, or a concurrent request with the same key, may be why this
        # one failed (the first took the unique code, moved the report on):
        # if it was answered, its answer is this request's answer too.
        await session.rollback()
        stored = await stored_answer(session, keyed)
        if stored is None:
            raise
        return stored, True
    if kept:
        return answer, False
    # The key was answered already: undo this request's work, replay that answer.
    await session.rollback()
    stored = await stored_answer(session, keyed)
    if stored is None:
        # The winner's key expired in the meantime; the client may simply retry.
        raise Conflict("A request with this Idempotency-Key was answered meanwhile; retry it.")
    return stored, True


async def purge_expired(session: AsyncSession) -> int:
    """Delete keys past their lifetime; returns how many."""
    result = await session.exec(
        delete(IdempotencyKey).where(col(IdempotencyKey.expires_at) <= utcnow())
    )
    return int(result.rowcount or 0)
