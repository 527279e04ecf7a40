"""Operations: liveness, readiness, metrics, and the problem type registry."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Path, Request, Response

from app import lifecycle, metrics
from app.deps import ReadSessionDep
from app.errors import AppError, NotFound, ServiceUnavailable, problem_responses, problem_type
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.health import HealthRead, ProblemTypeRead, ReadinessRead
from app.services import health as health_service
from app.services.changes import feed as change_feed

router = APIRouter(tags=["operations"])
# Included only where /metrics is served (app/main.py): with a token, or in development.
metrics_router = APIRouter(tags=["operations"])

SHUTTING_DOWN = "The server is shutting down; send requests to another instance."


@router.get("/healthz", response_model=HealthRead)
async def healthz() -> HealthRead:
    """Liveness: the process answers."""
    return HealthRead()


@router.get("/readyz", response_model=ReadinessRead, responses=problem_responses(503))
async def readyz(request: Request) -> ReadinessRead:
    """Readiness: database reachable and migrated, no shutdown begun (503 otherwise); and
    Redis' state."""
    if lifecycle.PROCESS.draining:
        raise ServiceUnavailable(SHUTTING_DOWN, headers={"Retry-After": "5"})
    state = request.app.state
    # Both asked at once, each bounded, so the answer stays within its time.
    problem, redis = await asyncio.gather(
        health_service.readiness_problem(state.engine), state.rate_limiter.ping()
    )
    if problem:
        raise ServiceUnavailable(problem, headers={"Retry-After": "5"}, redis=redis)
    return ReadinessRead(redis=redis)


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        **problem_responses(401),
    },
)
async def prometheus_metrics(request: Request, session: ReadSessionDep) -> Response:
    """Prometheus metrics: request counts and latency by route template, and the change
    feed's lag."""
    metrics.check_scrape_token(
        request.headers.get("authorization"), request.app.state.settings.metrics_token
    )
    body, content_type = metrics.render(await change_feed.lag_seconds(session))
    return Response(body, media_type=content_type)


def _problem_types() -> dict[str, ProblemTypeRead]:
    registry: dict[str, ProblemTypeRead] = {}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        registry[cls.slug] = ProblemTypeRead(
            type=problem_type(cls.slug), title=cls.title, status=cls.status
        )
    return registry


@router.get(
    "/problems/{slug}", response_model=ProblemTypeRead, responses=problem_responses(404, 422)
)
async def describe_problem_type(
    slug: Annotated[str, Text(), Path()],
) -> ProblemTypeRead:
    """Describe a problem ``type`` URI that error responses carry."""
    found = _problem_types().get(slug)
    if found is None:
        raise NotFound(f"No problem type is called {slug!r}.")
    return found
