"""Every string, datetime and date a route takes goes through the shared input types.

The walk covers what FastAPI reads for each route (path, query, header, cookie and
form parameters, and bodies), through its dependencies and, in models, through
nested models, lists, dicts (keys too) and unions. A string without ``Text`` or
``MultilineText``, or a date or datetime without ``InRange`` (``Day``,
``Timestamp``), fails the test with where it is, so a new field cannot forget it.
Open311 reads its parameters by hand: tests/routers/test_input_text.py and
test_input_dates.py cover it.
"""

from __future__ import annotations

import types
import typing
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from fastapi import Body, FastAPI, Form, Header, Path, Query
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import AwareDatetime, BaseModel, Field

from app.config import Settings
from app.main import create_app
from app.schemas.common import Day, InputModel, InRange, Text, Timestamp
from tests.conftest import TEST_SETTINGS

_TIMES = (datetime, date, time, timedelta, AwareDatetime)
_PLAIN = (bool, int, float, Decimal, uuid.UUID, type(None))
_SEQUENCES = (list, set, frozenset, tuple, Sequence)
_MAPPINGS = (dict, Mapping)


def _unchecked(
    annotation: Any, where: str, *, text: bool, in_range: bool, seen: set[type]
) -> Iterator[str]:
    """Where inside ``annotation`` a string, date or datetime lacks its shared type."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        metadata = args[1:]
        yield from _unchecked(
            args[0],
            where,
            text=text or any(isinstance(m, Text) for m in metadata),
            in_range=in_range or any(isinstance(m, InRange) for m in metadata),
            seen=seen,
        )
    elif origin in (typing.Union, types.UnionType):
        for arm in args:
            yield from _unchecked(arm, where, text=text, in_range=in_range, seen=seen)
    elif origin is Literal:
        return
    elif origin in _SEQUENCES or origin in _MAPPINGS:
        if not args:
            yield f"{where}: a {origin.__name__} of unknown items"
        for index, arg in enumerate(args):
            part = "key" if origin in _MAPPINGS and index == 0 else "item"
            if arg is not Ellipsis:
                yield from _unchecked(
                    arg, f"{where}[{part}]", text=text, in_range=in_range, seen=seen
                )
    elif origin is not None:
        yield f"{where}: {annotation!r} is a type this walk does not know"
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        return  # a closed set of values
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for name, field in annotation.model_fields.items():
            yield from _unchecked_field(
                field.annotation, field.metadata, f"{where}.{name}", seen=seen
            )
    elif annotation is str:
        if not text:
            yield f"{where}: a str without Text or MultilineText"
    elif annotation in _TIMES or (isinstance(annotation, type) and issubclass(annotation, date)):
        if not in_range:
            yield f"{where}: {getattr(annotation, '__name__', annotation)} without InRange"
    elif annotation in _PLAIN:
        return
    elif annotation in (list, dict, set, tuple, Any, object):
        yield f"{where}: {annotation!r} says nothing of what it holds"
    else:
        yield f"{where}: {annotation!r} is a type this walk does not know"


def _unchecked_field(
    annotation: Any, metadata: Sequence[Any], where: str, *, seen: set[type]
) -> Iterator[str]:
    yield from _unchecked(
        annotation,
        where,
        text=any(isinstance(m, Text) for m in metadata),
        in_range=any(isinstance(m, InRange) for m in metadata),
        seen=seen,
    )


def _dependant_inputs(dependant: Any) -> Iterator[tuple[str, Any]]:
    """Every (kind, ModelField) FastAPI reads for a dependant, its dependencies' too."""
    for kind in ("path", "query", "header", "cookie", "body"):
        for field in getattr(dependant, f"{kind}_params"):
            yield kind, field
    for sub in dependant.dependencies:
        yield from _dependant_inputs(sub)


def unchecked_inputs(app: FastAPI) -> list[str]:
    """Every input of every route of ``app`` that bypasses the shared types."""
    problems: list[str] = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        seen: set[type] = set()
        for kind, field in _dependant_inputs(route.dependant):
            info = field.field_info
            where = f"{sorted(route.methods or ())} {route.path} {kind} {field.alias}"
            problems.extend(_unchecked_field(info.annotation, info.metadata, where, seen=seen))
    return problems


def _count_inputs(app: FastAPI) -> int:
    return sum(
        1
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for _ in _dependant_inputs(route.dependant)
    )


class TestEveryRouteInput:
    def test_every_string_date_and_datetime_input_carries_the_shared_type(self) -> None:
        app = create_app(Settings(database_url="sqlite+aiosqlite://", **TEST_SETTINGS))
        assert _count_inputs(app) > 150  # the walk really reaches the routes' inputs
        assert unchecked_inputs(app) == []


# --- the walk itself finds what it must ------------------------------------------


class _Leaf(BaseModel):
    label: str
    when: datetime | None = None


class _Nested(InputModel):
    ok: Annotated[str, Text(max_length=5)]
    leaves: list[_Leaf]
    answers: dict[str, Annotated[str, Text()] | int]
    free: dict[str, Any]
    day: Day
    stamp: Timestamp
    bare_day: date


def _forgetful_app() -> FastAPI:
    app = FastAPI()

    @app.post("/things/{name}")
    async def forgetful(  # pragma: no cover - never called
        name: Annotated[str, Path()],
        q: Annotated[str | None, Query()] = None,
        checked: Annotated[str | None, Text(), Query()] = None,
        since: Annotated[AwareDatetime | None, Query()] = None,
        token: Annotated[str | None, Header()] = None,
        body: _Nested = Body(),
    ) -> None:
        pass

    @app.post("/form")
    async def form(  # pragma: no cover - never called
        username: Annotated[str | None, Form()] = None,
        tags: Annotated[list[Annotated[str, Text()]] | None, Form()] = None,
    ) -> None:
        pass

    return app


class TestTheWalk:
    def test_it_finds_each_input_that_forgets_the_shared_type(self) -> None:
        found = unchecked_inputs(_forgetful_app())
        expected = [
            "path name: a str",
            "query q: a str",
            "query since: AwareDatetime without",
            "header token: a str",
            "body body.leaves[item].label: a str",
            "body body.leaves[item].when: datetime without",
            "body body.answers[key]: a str",
            "body body.free[key]: a str",
            "body body.free[item]: typing.Any says nothing",
            "body body.bare_day: date without",
            "body username: a str",
        ]
        for fragment in expected:
            assert any(fragment in problem for problem in found), (fragment, found)
        assert len(found) == len(expected), found

    @pytest.mark.parametrize(
        "annotation",
        [
            Annotated[str, Text()],
            Annotated[str | None, Text(max_length=3)],
            list[Annotated[str, Text()]],
            Annotated[AwareDatetime, InRange()],
            Timestamp | None,
            Day,
            int,
            Literal["a", "b"],
        ],
    )
    def test_it_passes_what_carries_the_shared_type(self, annotation: Any) -> None:
        assert list(_unchecked(annotation, "x", text=False, in_range=False, seen=set())) == []

    def test_a_field_with_its_type_in_field_metadata_passes(self) -> None:
        class Model(BaseModel):
            name: Annotated[str, Text(max_length=3), Field(examples=["abc"])]

        assert list(_unchecked(Model, "m", text=False, in_range=False, seen=set())) == []
