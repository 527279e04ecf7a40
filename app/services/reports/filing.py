"""Filing a report, signed in or anonymous: where it is, its answers, its row and event;
an anonymous report's limit, and the sealing of its Idempotency-Key's answer.

The limit counts reports actually filed. One is reserved before the work (so
that concurrent requests cannot all slip under it together) and given back
when the request turns out to be a replay of one already filed, or fails,
its commit included. A replay is never refused, even at the limit: a phone
retrying a report it already filed gets its answer, not a 429.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.data import idempotency
from app.data.inserts import insert_row, new_row
from app.db import on_rollback, utcnow
from app.errors import (
    FieldErrorType,
    FieldProblem,
    Forbidden,
    RateLimited,
    ValidationFailed,
)
from app.ratelimit import Rate, RateLimiter, client_key
from app.schemas.reports import ReportCreate
from app.security import Principal, hash_secret, new_secret
from app.services import units as unit_service
from app.services.neighbourhoods import NEIGHBOURHOODS
from app.services.reports import categories
from app.services.reports.records import REPORTS

TRACKING_CODE_PREFIX = "wtc_"
# Whose anonymous Idempotency-Keys these are: one global space (below).
ANONYMOUS_ACTOR = "anonymous-report"


def reporting_principal(principal: Principal | None) -> Principal | None:
    """The principal allowed to file reports: a token must carry reports:create."""
    if principal is not None and "reports:create" not in principal.scopes:
        raise Forbidden(
            "Filing a report with a token needs the scope reports:create; "
            "send no token to report anonymously.",
            required_scopes=["reports:create"],
        )
    return principal


async def resolve_place(
    session: AsyncSession,
    principal: Principal | None,
    ward_code: str | None,
    neighbourhood_id: uuid.UUID | None,
) -> tuple[str, str, uuid.UUID | None]:
    """(province, ward, neighbourhood) of a report, defaulting to the caller's own unit."""
    if neighbourhood_id is None and ward_code is None and principal is not None:
        neighbourhood_id = principal.neighbourhood_id
        ward_code = principal.ward_code if neighbourhood_id is None else None
    if neighbourhood_id is not None:
        row = await NEIGHBOURHOODS.find(session, None, neighbourhood_id)
        if row is None:
            raise ValidationFailed.field(
                ("body", "neighbourhood_id"),
                f"No neighbourhood has the id {neighbourhood_id}.",
                FieldErrorType.NOT_FOUND,
            )
        if ward_code is not None and ward_code != row.ward_code:
            raise ValidationFailed.field(
                ("body", "ward_code"), f"Neighbourhood {neighbourhood_id} is not in {ward_code}."
            )
        return row.province_code, row.ward_code, neighbourhood_id
    if ward_code is None:
        raise ValidationFailed.missing_one_of(
            [("body", "ward_code"), ("body", "neighbourhood_id")],
            "Say where: give ward_code or neighbourhood_id.",
        )
    province_code = await unit_service.province_of_ward(session, ward_code)
    if province_code is None:
        raise ValidationFailed.field(
            ("body", "ward_code"), f"No ward has the code {ward_code!r}.", FieldErrorType.NOT_FOUND
        )
    return province_code, ward_code, None


def checked_answers(category: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The category's answers, or a 422 naming each one that does not fit."""
    try:
        return categories.check_answers(category, answers)
    except categories.AnswerError as error:
        raise ValidationFailed(
            str(error),
            errors=[
                FieldProblem(("body", "attributes", code), message)
                for code, message in error.problems
            ],
        ) from None


def untied_stamp() -> dict[str, Any]:
    """An id and times for a record of an anonymous report that say no more than the
    minute it was made: a time-ordered id or a time to the microsecond would match it
    to its request's line in a proxy's access log, and that line holds the address."""
    minute = utcnow().replace(second=0, microsecond=0)
    return {"id": uuid.uuid4(), "created_at": minute, "updated_at": minute}


async def create_report(
    session: AsyncSession, principal: Principal | None, data: ReportCreate
) -> tuple[dict[str, Any], str | None]:
    """File a report; returns its row and, for an anonymous one, its one-time tracking code."""
    if principal is not None and principal.kind != "user":
        raise Forbidden("Reports come from people; ward systems use the Open311 API.")
    anonymous = principal is None or data.anonymous
    # An anonymous report keeps nothing derived from its sender: no place
    # defaulted from the account either.
    province_code, ward_code, neighbourhood_id = await resolve_place(
        session, None if anonymous else principal, data.ward_code, data.neighbourhood_id
    )
    attributes = checked_answers(data.category.value, data.attributes)
    tracking_code = new_secret(TRACKING_CODE_PREFIX, 16) if anonymous else None
    report = new_row(
        REPORTS,
        **(untied_stamp() if anonymous else {}),
        province_code=province_code,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        category=data.category.value,
        description=data.description,
        lat=data.lat,
        lon=data.lon,
        address=data.address,
        media_refs=list(data.media_refs),
        attributes=attributes,
        anonymous=anonymous,
        reporter_id=None if anonymous or principal is None else principal.subject,
        tracking_code_hash=hash_secret(tracking_code) if tracking_code else None,
    )
    fields = (data.model_fields_set | {"category", "description", "ward_code"}) - {"anonymous"}
    # A row, not an ORM object: nothing reads the report back in this request
    # (docs/performance.md, the write path). An anonymous report's event names
    # no actor and no request: the request id would tie the report to the
    # access log line of its request (and to whatever a proxy in front logged).
    await insert_row(
        REPORTS,
        session,
        principal,
        report,
        fields=fields,
        untied=untied_stamp() if anonymous else None,
    )
    return report, tracking_code


# --- an anonymous report's Idempotency-Key and limit ---------------------------


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


def anonymous_key(secret_key: str, key: str) -> tuple[str, str, Fernet]:
    """Whose an anonymous caller's Idempotency-Key is, the name it is stored under and the
    cipher of its answer (``sealed_key``): what ``app.responses.idempotent`` keys it by."""
    name, cipher = sealed_key(secret_key, key)
    return ANONYMOUS_ACTOR, name, cipher


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
    keyed: idempotency.KeyedRequest | None,
    work: Callable[[], Awaitable[idempotency.Answer]],
) -> tuple[idempotency.Answer, bool]:
    """Run ``work`` (filing one anonymous report) once per key, within the limit: the
    answer, and whether it is a replay. 429 once the limit is reached, except for a
    replay."""
    rate, namespace, identifier = _counter(limits, principal, client_host)
    reservation = await limiter.reserve(rate, namespace, identifier)
    if not reservation.decision.allowed:
        stored = await idempotency.stored_answer(session, keyed) if keyed else None
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
        answer, replayed = await idempotency.run_once(session, keyed, work)
    except BaseException:
        await reservation.release()
        raise
    if replayed:
        await reservation.release()
    return answer, replayed
