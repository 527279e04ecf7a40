"""The chain of custody of footage requests: append-only events linked by SHA-256."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.related import RowsOf
from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns, uuid7
from app.models.footage_requests import CustodyAction, CustodyEvent
from app.pagination import Keyset
from app.schemas.footage_requests import CustodyVerification
from app.security import Principal
from app.services.cameras.footage_access import FOOTAGE_REQUESTS, REQUEST_WRITES

# The "previous hash" of a request's first event.
GENESIS = "0" * 64

_EVENT_COLUMNS = columns(
    CustodyEvent.id,
    CustodyEvent.footage_request_id,
    CustodyEvent.sequence,
    CustodyEvent.camera_id,
    CustodyEvent.action,
    CustodyEvent.actor_id,
    CustodyEvent.actor_kind,
    CustodyEvent.actor_role,
    CustodyEvent.sha256,
    CustodyEvent.media_ref,
    CustodyEvent.size_bytes,
    CustodyEvent.prev_hash,
    CustodyEvent.hash,
    CustodyEvent.created_at,
)

# Appended, never changed (the database refuses it), audited as the request's step.
EVENT_WRITES = UnitOfWrite("custody_event")
# A request's events, in chain order. Every event of a request whose request the caller
# sees: the chain verifies whole, and who sees which events is the caller's to decide.
CUSTODY_EVENTS = Repository(
    CustodyEvent,
    noun="custody event",
    columns=_EVENT_COLUMNS,
    visible=Visible.all(),
    keyset=Keyset("custody-events", columns(CustodyEvent.sequence, CustodyEvent.id)),
    filters={"footage_request_id": CustodyEvent.footage_request_id},
    writes=EVENT_WRITES,
)
_EVENTS_OF = RowsOf(CUSTODY_EVENTS, CustodyEvent.footage_request_id)


@dataclass(frozen=True)
class Step:
    """One event to append: what happened to which camera, and the file where one was handed."""

    camera_id: uuid.UUID
    action: CustodyAction
    sha256: str | None = None
    media_ref: str | None = None
    size_bytes: int | None = None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def canonical(event: Mapping[Any, Any]) -> bytes:
    """The bytes an event's hash covers: every recorded fact, as sorted-key JSON."""
    at: datetime = event["created_at"]
    return orjson.dumps(
        {
            "id": str(event["id"]),
            "footage_request_id": str(event["footage_request_id"]),
            "sequence": event["sequence"],
            "camera_id": str(event["camera_id"]),
            "action": event["action"],
            "actor_id": _text(event["actor_id"]),
            "actor_kind": event["actor_kind"],
            "actor_role": event["actor_role"],
            "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "sha256": event["sha256"],
            "media_ref": event["media_ref"],
            "size_bytes": event["size_bytes"],
        },
        option=orjson.OPT_SORT_KEYS,
    )


def chain_hash(prev_hash: str, content: bytes) -> str:
    """SHA-256 over the previous event's hash and this event's canonical content."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + content).hexdigest()


async def append(
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    steps: Sequence[Step],
    now: datetime,
) -> None:
    """Append ``steps`` to the request's chain and move its recorded head.

    The caller holds the request's lock (a new request, or one whose version
    it bumped), so the head read here is the latest."""
    head = await FOOTAGE_REQUESTS.get(session, principal, request_id)
    length, prev_hash = head.custody_length, head.custody_head
    events: list[CustodyEvent] = []
    for step in steps:
        length += 1
        facts: dict[str, Any] = {
            "id": uuid7(),
            "footage_request_id": request_id,
            "sequence": length,
            "camera_id": step.camera_id,
            "action": step.action.value,
            "actor_id": principal.subject,
            "actor_kind": principal.kind,
            "actor_role": principal.role.value,
            "sha256": step.sha256,
            "media_ref": step.media_ref,
            "size_bytes": step.size_bytes,
            "created_at": now,
        }
        digest = chain_hash(prev_hash, canonical(facts))
        events.append(CustodyEvent(**facts, updated_at=now, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    await EVENT_WRITES.append(session, events)
    await REQUEST_WRITES.set(
        session, request_id, {"custody_length": length, "custody_head": prev_hash}
    )


async def events_of(session: AsyncSession, request_id: uuid.UUID) -> list[Mapping[Any, Any]]:
    """Every stored event of a request, in chain order."""
    rows = (await _EVENTS_OF.of(session, None, [request_id]))[request_id]
    return [row._asdict() for row in rows]


def verify(events: Sequence[Mapping[Any, Any]], length: int, head: str) -> CustodyVerification:
    """Recompute the chain: each event follows the one before and matches its own hash,
    and the last one is the head the request recorded."""

    def broken(sequence: int, detail: str) -> CustodyVerification:
        return CustodyVerification(
            holds=False, events_checked=len(events), broken_at_sequence=sequence, detail=detail
        )

    prev_hash = GENESIS
    for expected, event in enumerate(events, start=1):
        if event["sequence"] != expected:
            return broken(expected, f"Event {expected} is missing from the chain.")
        if event["prev_hash"] != prev_hash:
            return broken(expected, f"Event {expected} does not follow the event before it.")
        if chain_hash(prev_hash, canonical(event)) != event["hash"]:
            return broken(expected, f"Event {expected} was changed after it was recorded.")
        prev_hash = event["hash"]
    if len(events) != length:
        return broken(
            len(events) + 1,
            f"The request recorded {length} events; {len(events)} are stored.",
        )
    if prev_hash != head:
        return broken(len(events), "The last event is not the head the request recorded.")
    return CustodyVerification(
        holds=True,
        events_checked=len(events),
        broken_at_sequence=None,
        detail=f"All {len(events)} events verify and end at the recorded head.",
    )
