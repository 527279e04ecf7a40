"""Filing an anonymous report: its limit, and the sealing of its Idempotency-Key's answer.

The limit counts reports actually filed. One is reserved before the work (so
that concurrent requests cannot all slip under it together) and given back
when the request turns out to be a replay of one already filed, or fails,
its commit included. A replay is never refused, even at the limit: a phone
retrying a report it already filed gets its answer, not a 429.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cryptography.fernet import Fernet
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db import on_rollback
from app.errors import RateLimited
from app.ratelimit import Rate, RateLimiter, client_key
from app.security import Principal
from app.services import idempotency as idempotency_service

# Whose anonymous Idempotency-Keys these are: one global space (below).
ANONYMOUS_ACTOR = "anonymous-report"


@dataclass(frozen=True)
class AnonymousLimits:
    """How many anonymous reports: per client address without a token, per account with
    one (docs/reports.md)."""

    per_address: Rate
    per_account: Rate

    @classmethod
    def of(cls, settings: Settings) -> AnonymousLimits:
        """The limits the settings give."""
        return cls(
            Rate.parse(settings.anonymous_reports_per_address),
            Rate.parse(settings.anonymous_reports_per_account),
        )


def sealed_key(secret_key: str, key: str) -> tuple[str, Fernet]:
    """The stored name of an anonymous caller's Idempotency-Key, and the cipher of its
    stored answer.

    Anonymous keys are not tied to a caller (that would need an account or an
    address), so they are one global space, named by a digest of the key. The
    stored answer holds the tracking code, so it is sealed with a key derived
    from the Idempotency-Key itself (and the secret key): neither the database
    nor the server's secret alone ever yields a tracking code."""
    name = hashlib.sha256(b"wardsafe-anonymous-idempotency-name\x00" + key.encode()).hexdigest()
    sealing = hashlib.sha256(
        b"wardsafe-anonymous-idempotency-key\x00" + secret_key.encode() + b"\x00" + key.encode()
    ).digest()
    return name, Fernet(base64.urlsafe_b64encode(sealing))


def _counter(
    limits: AnonymousLimits, principal: Principal | None, client_host: str | None
) -> tuple[Rate, str, str]:
    """What an anonymous report counts against: the account that sent it, when signed in
    (many residents share an address), else its client address."""
    if principal is not None:
        return limits.per_account, "anonymous-report-account", str(principal.subject)
    return limits.per_address, "anonymous-report-address", client_key(client_host)


async def file_within_limit(
    session: AsyncSession,
    limiter: RateLimiter,
    limits: AnonymousLimits,
    principal: Principal | None,
    client_host: str | None,
    keyed: idempotency_service.KeyedRequest | None,
    work: Callable[[], Awaitable[idempotency_service.Answer]],
) -> tuple[idempotency_service.Answer, bool]:
    """Run ``work`` (filing one anonymous report) once per key, within the limit: the
    answer, and whether it is a replay. 429 once the limit is reached, except for a
    replay."""
    rate, namespace, identifier = _counter(limits, principal, client_host)
    reservation = await limiter.reserve(rate, namespace, identifier)
    if not reservation.decision.allowed:
        stored = await idempotency_service.stored_answer(session, keyed) if keyed else None
        if stored is not None:
            return stored, True
        wait = reservation.decision.retry_after
        source = "account" if principal is not None else "address"
        raise RateLimited(
            f"Too many anonymous reports from your {source}; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    # A commit that fails after the work files nothing either.
    on_rollback(session, reservation.release)
    try:
        answer, replayed = await idempotency_service.run_once(session, keyed, work)
    except BaseException:
        await reservation.release()
        raise
    if replayed:
        await reservation.release()
    return answer, replayed
