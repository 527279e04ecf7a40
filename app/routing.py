"""The router every domain declares its routes on, and the route class its routes take."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import fastapi
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from app.internals import route_path
from app.sessions import close_read_session


class Route(APIRoute):
    """A route that closes the read session its request opened (``ReadSessionDep``)
    as soon as its handler is done: the response is built, not yet sent.

    Its own, not a middleware's: a request that reaches no such route can have
    no read session (``get_read_session`` refuses), so none is left open."""

    closes_read_sessions = True

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def closing(request: Request) -> Response:
            try:
                return await handler(request)
            finally:
                await close_read_session(request.scope)

        return closing


class APIRouter(fastapi.APIRouter):
    """FastAPI's router, which turns away a path outside its prefix at once.

    FastAPI 0.165 matches a request by asking every included router in turn,
    and each router tries every one of its routes, prefix or not: about 110
    regex matches and scope bookkeeping per request, a fifth of the CPU of a
    light read (docs/performance.md). A router whose static prefix the path
    does not start with cannot match (fully or by path alone), so it answers
    "no match" without looking at its routes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", Route)
        super().__init__(*args, **kwargs)
        # The part before any path parameter: "/api/v1/groups/" for
        # "/api/v1/groups/{group_id}/members".
        self._static_prefix = self.prefix.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self._static_prefix and not route_path(scope).startswith(self._static_prefix):
            return Match.NONE, {}
        return super().matches(scope)
