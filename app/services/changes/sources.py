"""What the change feed says of each record type: the records of a page of changes,
read for the caller as its own GET of each answers (the same visibility, the same
masking of personal data), in one statement a type (``readers``).

A source is the domain's repository and the presenter its GET uses; a record the
caller cannot see (deleted, moved out of its units, or behind a scope the caller
lacks) is absent from the answer, and the feed then says ``delete``. A domain joins
the feed with one line here and its reader: its change rows are written by the unit
of write already (app/data/writes.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.security import Principal
from app.services.changes import readers

# The records of one type by id, as the caller's GET of each answers (JSON-ready or
# values orjson writes as pydantic would: UUIDs, aware datetimes).
Read = Callable[[AsyncSession, Principal, Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, Any]]]


@dataclass(frozen=True)
class Source:
    """One record type of the feed: its name (``type``) and how its records are read."""

    type: str
    read: Read
    description: str
    # The scopes its GET takes (any one): a caller without them gets none of its changes.
    scopes: tuple[str, ...] = ()

    def readable_by(self, principal: Principal) -> bool:
        return not self.scopes or not principal.scopes.isdisjoint(self.scopes)


SOURCES: dict[str, Source] = {
    source.type: source
    for source in (
        Source("neighbourhood", readers.neighbourhoods, "GET /api/v1/neighbourhoods/{id}"),
        Source(
            "residential_group", readers.residential_groups, "GET /api/v1/residential-groups/{id}"
        ),
        Source("user", readers.users, "GET /api/v1/users/{id}", scopes=("users:read",)),
        Source("group", readers.groups, "GET /api/v1/groups/{id}", scopes=("groups:read",)),
        Source(
            "group_member",
            readers.group_members,
            "GET /api/v1/groups/{group_id}/members/{id}",
            scopes=("groups:read",),
        ),
        Source(
            "exemplary_model",
            readers.exemplary_models,
            "GET /api/v1/exemplary-models/{id}",
            scopes=("groups:read",),
        ),
        Source(
            "certification_criteria_set",
            readers.criteria_sets,
            "GET /api/v1/certification-criteria-sets/{id}",
            scopes=("certifications:read",),
        ),
        Source(
            "certification",
            readers.certifications,
            "GET /api/v1/certifications/{id}",
            scopes=("certifications:read",),
        ),
        Source("camera", readers.cameras, "GET /api/v1/cameras/{id}", scopes=("cameras:read",)),
        Source(
            "footage_request",
            readers.footage_requests,
            "GET /api/v1/footage-requests/{id}",
            scopes=("footage:request", "footage:respond"),
        ),
        Source(
            "fire_team", readers.fire_teams, "GET /api/v1/fire-teams/{id}", scopes=("fire:read",)
        ),
        Source(
            "fire_equipment",
            readers.fire_equipment,
            "GET /api/v1/fire-teams/{team_id}/equipment/{id}",
            scopes=("fire:read",),
        ),
        Source("drill", readers.drills, "GET /api/v1/drills/{id}", scopes=("fire:read",)),
        Source(
            "competition",
            readers.competitions,
            "GET /api/v1/competitions/{id}",
            scopes=("fire:read",),
        ),
        Source(
            "competition_entry",
            readers.competition_entries,
            "GET /api/v1/competitions/{competition_id}/entries/{id}",
            scopes=("fire:read",),
        ),
        Source("report", readers.reports, "GET /api/v1/reports/{id}", scopes=("reports:read",)),
        Source(
            "report_update",
            readers.report_updates,
            "GET /api/v1/reports/{report_id}/updates/{id}",
            scopes=("reports:read",),
        ),
        Source(
            "broadcast",
            readers.broadcasts,
            "GET /api/v1/broadcasts/{id}",
            scopes=("broadcasts:read",),
        ),
        Source(
            "broadcast_acknowledgement",
            readers.broadcast_acknowledgements,
            "GET /api/v1/broadcasts/{broadcast_id}/acknowledgements/{id}",
            scopes=("broadcasts:read",),
        ),
    )
}
