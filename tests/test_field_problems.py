"""Every field problem is an ``errors[]`` entry; no problem names a field beside it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.errors import AppError, FieldErrorType, FieldProblem, ValidationFailed
from tests.conftest import Cast
from tests.factories import assert_problem

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
SOURCES = ("body", "query", "path", "header")


def _app_error_names() -> set[str]:
    names: set[str] = set()
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def _nodes() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(APP.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(), filename=where)):
            yield where, node


def _callee(call: ast.Call) -> str | None:
    """``X`` for ``X(...)`` and for ``X.field(...)``, the class a problem is raised with."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id in _app_error_names():
            return func.value.id
        return func.attr
    return None


class TestSource:
    def test_no_app_error_is_raised_with_a_field_keyword(self) -> None:
        names = _app_error_names()
        offenders = [
            f"{where}:{node.lineno}"
            for where, node in _nodes()
            if isinstance(node, ast.Call)
            and _callee(node) in names
            and any(keyword.arg == "field" for keyword in node.keywords)
        ]
        assert offenders == []

    def test_the_scan_sees_every_raise_site(self) -> None:
        # So that the test above cannot pass by finding nothing to look at.
        raised = [
            node
            for _, node in _nodes()
            if isinstance(node, ast.Call) and _callee(node) == "ValidationFailed"
        ]
        assert len(raised) >= 60

    def test_errors_entries_are_built_only_in_app_errors(self) -> None:
        built = [
            f"{where}:{node.lineno}"
            for where, node in _nodes()
            if isinstance(node, ast.Dict)
            and any(isinstance(key, ast.Constant) and key.value == "loc" for key in node.keys)
            and where != "app/errors.py"
        ]
        assert built == []

    def test_every_field_error_type_is_in_the_api_guide(self) -> None:
        guide = (ROOT / "docs" / "api-guide.md").read_text()
        section = guide[guide.index("### Field problems") :]
        missing = [kind.value for kind in FieldErrorType if f"`{kind.value}`" not in section]
        assert missing == []


class TestValidationFailed:
    def test_one_field_is_one_entry_and_its_message_is_the_detail(self) -> None:
        error = ValidationFailed.field(("query", "from"), "from is after to.", "less_than_equal")
        assert error.detail == "from is after to."
        assert error.extensions == {
            "errors": [
                {"loc": ["query", "from"], "msg": "from is after to.", "type": "less_than_equal"}
            ]
        }

    def test_the_type_defaults_to_value_error_and_extensions_stay_beside_errors(self) -> None:
        error = ValidationFailed.field(("body", "households"), "Too few.", rule="team_size")
        assert error.extensions == {
            "rule": "team_size",
            "errors": [{"loc": ["body", "households"], "msg": "Too few.", "type": "value_error"}],
        }

    def test_several_fields_in_one_raise_keep_their_order(self) -> None:
        error = ValidationFailed(
            "Two things.",
            errors=[
                FieldProblem(("body", "b"), "b is wrong.", FieldErrorType.NOT_FOUND),
                FieldProblem(("body", "a", 2), "a[2] is twice.", FieldErrorType.DUPLICATE),
            ],
        )
        assert error.extensions["errors"] == [
            {"loc": ["body", "b"], "msg": "b is wrong.", "type": "not_found"},
            {"loc": ["body", "a", 2], "msg": "a[2] is twice.", "type": "duplicate"},
        ]

    def test_not_null_names_each_field(self) -> None:
        one = ValidationFailed.not_null(["name"])
        assert one.detail == "name cannot be null."
        two = ValidationFailed.not_null(["lat", "lon"])
        assert two.detail == "These fields cannot be null: lat, lon."
        assert [(e["loc"], e["type"]) for e in two.extensions["errors"]] == [
            (["body", "lat"], "null_not_allowed"),
            (["body", "lon"], "null_not_allowed"),
        ]

    def test_missing_one_of_marks_each_alternative_missing(self) -> None:
        error = ValidationFailed.missing_one_of([("body", "a"), ("body", "b")], "Give a or b.")
        assert error.extensions["errors"] == [
            {"loc": ["body", "a"], "msg": "Give a or b.", "type": "missing"},
            {"loc": ["body", "b"], "msg": "Give a or b.", "type": "missing"},
        ]

    def test_a_field_keyword_is_refused(self) -> None:
        with pytest.raises(TypeError, match="FieldProblem"):
            ValidationFailed("from is after to.", field="from")


def _requests(cast: Cast) -> dict[str, tuple[str, str, dict[str, Any]]]:
    admin = cast.headers(cast.admin)
    return {
        "service, query": (
            "GET",
            "/api/v1/drills",
            {"params": {"from": "2025-02-01", "to": "2025-01-01"}, "headers": admin},
        ),
        "router, query": (
            "GET",
            "/api/v1/cameras",
            {"params": {"radius_m": 300}, "headers": admin},
        ),
        "service, body": (
            "POST",
            "/api/v1/neighbourhoods",
            {"json": {"ward_code": "99999", "code": "KP-X", "name": "X"}, "headers": admin},
        ),
        "service, two fields": (
            "POST",
            "/api/v1/groups",
            {"json": {"kind": "security_self_management", "name": "Tổ mới"}, "headers": admin},
        ),
        "service, null": (
            "PATCH",
            f"/api/v1/users/{cast.resident.id}",
            {"json": {"role": None}, "headers": {**admin, "If-Match": '"1"'}},
        ),
        "framework, query": (
            "GET",
            "/api/v1/wards",
            {"params": {"limit": 999, "province_code": "Quảng Ninh"}, "headers": admin},
        ),
    }


class TestResponses:
    @pytest.mark.parametrize(
        "case",
        [
            "service, query",
            "router, query",
            "service, body",
            "service, two fields",
            "service, null",
            "framework, query",
        ],
    )
    async def test_a_field_problem_is_only_in_errors(
        self, client: httpx.AsyncClient, cast: Cast, case: str
    ) -> None:
        method, url, options = _requests(cast)[case]
        response = await client.request(method, url, **options)
        body = assert_problem(response, 422, "validation-error")
        assert "field" not in body
        assert body["detail"]
        assert body["errors"]
        for error in body["errors"]:
            assert set(error) == {"loc", "msg", "type"}
            assert error["loc"][0] in SOURCES
            assert len(error["loc"]) >= 2
            assert error["msg"]
            assert error["type"]
