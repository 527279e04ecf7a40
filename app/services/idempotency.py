"""Idempotency keys: a retried creating POST gets the first answer, not a second record."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.models.idempotency import IdempotencyKey


def response_cipher(secret_key: str) -> Fernet:
    """The cipher stored answers are sealed with.

    An answer may hold what must not rest in the clear (a new client's
    secret, a person's phone number), so it is stored encrypted."""
    key = hashlib.sha256(b"wardsafe-idempotency\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class Replay:
    """The stored first answer to a request."""

    status_code: int
    body: bytes
    headers: dict[str, str]


def fingerprint(method: str, route: str, payload: Any) -> str:
    """What makes two requests "the same": method, route and the parsed body."""
    canonical = orjson.dumps([method, route, payload], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def claim(
    session: AsyncSession,
    actor_key: str,
    key: str,
    request_hash: str,
    ttl: timedelta,
    cipher: Fernet,
) -> IdempotencyKey | Replay:
    """Reserve ``key`` for this request, or return the answer it already got.

    The reservation is a row inserted in the request's own transaction: a
    concurrent request with the same key waits on the unique index (or on
    SQLite's write lock) until the first commits, then finds its answer."""
    now = utcnow()
    for _attempt in range(2):
        row = IdempotencyKey(
            actor_key=actor_key, key=key, request_hash=request_hash, expires_at=now + ttl
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
            return row
        except IntegrityError:
            pass
        stored = (
            await session.exec(
                select(IdempotencyKey).where(
                    col(IdempotencyKey.actor_key) == actor_key, col(IdempotencyKey.key) == key
                )
            )
        ).first()
        if stored is None:
            continue
        if stored.expires_at <= now:
            # An expired key is free again.
            await session.exec(delete(IdempotencyKey).where(col(IdempotencyKey.id) == stored.id))
            continue
        if stored.request_hash != request_hash:
            raise ValidationFailed(
                "This Idempotency-Key was used with another request body; use a new key.",
                errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused", "type": "reused"}],
            )
        if stored.status_code is None or stored.response_body is None:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        try:
            body = cipher.decrypt(stored.response_body)
        except InvalidToken:
            # Sealed under another secret key (it was rotated): the answer is
            # lost, and running the request again could duplicate the record.
            raise Conflict(
                "This Idempotency-Key was used, but its answer can no longer be read; "
                "use a new key after checking whether the first request took effect."
            ) from None
        return Replay(stored.status_code, body, dict(stored.response_headers))
    raise Conflict("A request with this Idempotency-Key is still being processed.")


async def complete(
    session: AsyncSession,
    reservation: IdempotencyKey,
    status_code: int,
    body: bytes,
    headers: dict[str, str],
    cipher: Fernet,
) -> None:
    """Store the answer, encrypted, with the reservation; both commit with the write itself."""
    reservation.status_code = status_code
    reservation.response_body = cipher.encrypt(body)
    reservation.response_headers = headers
    session.add(reservation)
    await session.flush()


async def purge_expired(session: AsyncSession) -> int:
    """Delete keys past their lifetime; returns how many."""
    result = await session.exec(
        delete(IdempotencyKey).where(col(IdempotencyKey.expires_at) <= utcnow())
    )
    return int(result.rowcount or 0)
