"""Access tokens that must stop before they expire: per-account token epochs.

An account's ``token_epoch`` goes up when its tokens must stop working at once
(deactivated, deleted, its role, unit or password changed, a client deleted);
every access token carries the epoch it was issued at. Each process keeps the
epochs that changed within an access token's lifetime (older changes can only
concern expired tokens), read from the database at most every
``WARDSAFE_TOKEN_REVOCATION_SECONDS``, so a change reaches every process within
that many seconds. A request pays a dictionary lookup; one request in that
interval pays the read (a few rows, by an index).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select, union_all
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import UTCDateTime, columns, fetch_rows, utcnow
from app.models.clients import Client
from app.models.users import User

logger = logging.getLogger("wardsafe.revocations")

# How much earlier than a token's lifetime changes are still read: for a clock
# that differs a little between processes, and a token issued just before.
_MARGIN = timedelta(minutes=1)


def _changed_since_statement() -> Select[Any]:
    """The accounts, people and machine clients, whose epoch changed after ``:since``."""
    since = bindparam("since", type_=UTCDateTime())
    changed = union_all(
        select(*columns(User.id, User.token_epoch)).where(col(User.token_epoch_changed_at) > since),
        select(*columns(Client.id, Client.token_epoch)).where(
            col(Client.token_epoch_changed_at) > since
        ),
    ).subquery()
    return select(*changed.c)


_CHANGED_SINCE = _changed_since_statement()


class Revocations:
    """The token epochs of accounts changed lately, refreshed from the database."""

    def __init__(
        self,
        token_ttl_seconds: int,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = timedelta(seconds=token_ttl_seconds) + _MARGIN
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        # account -> its epoch, for those changed lately: a token of one of them
        # issued at a lower epoch is refused (app/deps.py reads it on every request)
        self.epochs: dict[uuid.UUID, int] = {}
        self._next_refresh = 0.0
        self._refreshing = False
        self._failing = False

    def due(self) -> bool:
        """Whether the epochs are to be read again (the caller then awaits ``refresh``)."""
        return self._clock() >= self._next_refresh and not self._refreshing

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read the epochs changed within a token's lifetime; on a database error keep the
        last ones (the request goes on; it needs the database anyway) and try again at
        the next interval."""
        self._refreshing = True
        self._next_refresh = self._clock() + self._refresh_seconds
        since = utcnow() - self._window
        try:
            async with sessionmaker() as session:
                rows = await fetch_rows(session, _CHANGED_SINCE, {"since": since})
        except (SQLAlchemyError, OSError) as error:
            if not self._failing:
                self._failing = True
                logger.warning(
                    "token epochs could not be read; the last ones read stay in force",
                    extra={"error": type(error).__name__},
                )
            return
        finally:
            self._refreshing = False
        self._failing = False
        self.epochs = {row.id: row.token_epoch for row in rows}


def tokens_ended(model: type[User] | type[Client]) -> dict[str, Any]:
    """The values that end every access token of an account (a user or a machine client),
    for the compare-and-set update that makes the change."""
    return {"token_epoch": col(model.token_epoch) + 1, "token_epoch_changed_at": utcnow()}
