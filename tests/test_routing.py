"""The router's prefix check: a path outside the prefix is turned away, one inside is routed."""

from __future__ import annotations

import httpx
from starlette.routing import Match

from app.routers import group_members, reports
from app.routing import APIRouter


def scope(path: str) -> dict[str, object]:
    return {"type": "http", "path": path, "root_path": "", "method": "GET"}


def test_path_outside_the_prefix_is_no_match() -> None:
    assert reports.router.matches(scope("/api/v1/cameras")) == (Match.NONE, {})


def test_prefix_with_a_path_parameter_is_checked_up_to_the_parameter() -> None:
    router = group_members.router
    assert isinstance(router, APIRouter)
    assert router._static_prefix == "/api/v1/groups/"
    assert router.matches(scope("/api/v1/reports")) == (Match.NONE, {})


async def test_routes_after_the_hot_routers_are_still_reached(client: httpx.AsyncClient) -> None:
    # A route of the last router included, and a path parameter under a prefix.
    assert (await client.get("/api/v1/provinces/22")).status_code == 200
    answer = await client.get("/api/v1/broadcasts")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_wrong_method_on_a_known_path_is_still_405(client: httpx.AsyncClient) -> None:
    answer = await client.delete("/api/v1/reports")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
