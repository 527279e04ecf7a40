"""Text with control characters or lone surrogates: refused with a 422 naming the field
(Open311: its 400; the token endpoint: RFC 6749's invalid_request), the same on SQLite and
PostgreSQL, and nothing stored (issue 16, item 12). Dates: test_input_dates.py."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import HA_LONG
from app.models.auth import RefreshToken
from app.models.neighbourhoods import Neighbourhood
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from tests.conftest import Cast
from tests.factories import (
    PASSWORD,
    assert_problem,
    make_client,
    make_open311_client,
    make_report,
    token_request,
)
from tests.routers.test_open311 import BASE as OPEN311
from tests.routers.test_open311 import errors

REPORTS = "/api/v1/reports"
MARK = "Karaoke ồn ào ngõ 12"


def refused(response: httpx.Response, loc: list[str | int], kind: str) -> dict[str, Any]:
    """A 422 validation problem whose one field error is ``kind`` at ``loc``."""
    body = assert_problem(response, 422, "validation-error")
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [(loc, kind)], body
    return body["errors"][0]


def raw_json(body: dict[str, Any]) -> dict[str, Any]:
    """httpx arguments sending ``body`` as JSON with \\u escapes, lone surrogates included."""
    return {
        "content": json.dumps(body, ensure_ascii=True).encode(),
        "headers": {"Content-Type": "application/json"},
    }


async def count(session: AsyncSession, statement: Any) -> int:
    session.expunge_all()
    return (await session.exec(statement)).one()


def reports_marked(marker: str) -> Any:
    return select(func.count()).select_from(Report).where(col(Report.description).contains(marker))


class TestControlCharactersInText:
    @pytest.mark.parametrize("q", ["\x00", "ha\x00long", "ha\nlong", "ha\x7flong", "ha\x85long"])
    async def test_ward_search_with_a_control_character_gets_422_naming_q(
        self, client: httpx.AsyncClient, q: str
    ) -> None:
        response = await client.get("/api/v1/wards", params={"q": q})
        error = refused(response, ["query", "q"], "control_character")
        assert error["msg"].startswith("One-line text may not contain control characters")

    async def test_anonymous_report_with_nul_in_its_description_gets_422_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        body = {"category": "noise", "description": f"{MARK}\x00", "address": "Ngõ 12"}
        response = await client.post(REPORTS, json={**body, "ward_code": HA_LONG})
        error = refused(response, ["body", "description"], "control_character")
        assert "U+0000 at position 20" in error["msg"]
        assert "\x00" not in response.text
        assert await count(session, reports_marked(MARK)) == 0

    async def test_description_keeps_its_line_breaks_and_tabs(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        description = f"{MARK}\r\nsau 23 giờ,\tnhiều đêm."
        response = await client.post(
            REPORTS,
            json={
                "category": "noise",
                "description": description,
                "address": "Ngõ 12",
                "ward_code": HA_LONG,
            },
        )
        assert response.status_code == 201, response.text
        report = await session.get(Report, uuid.UUID(response.json()["id"]))
        assert report is not None
        assert report.description == description

    @pytest.mark.parametrize(
        ("extra", "loc"),
        [
            ({"address": "Ngõ 12\nphố Lê Thánh Tông"}, ["body", "address"]),
            ({"attributes": {"time_of_day": "night\x00"}}, ["body", "attributes", "time_of_day"]),
            ({"attributes": {"time\x00": "night"}}, ["body", "attributes", "time\x00", "[key]"]),
            ({"media_refs": ["https://media.example.vn/\x01.jpg"]}, ["body", "media_refs", 0]),
        ],
    )
    async def test_anonymous_report_with_a_control_character_elsewhere_gets_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        extra: dict[str, Any],
        loc: list[str | int],
    ) -> None:
        body = {"category": "noise", "description": MARK, "address": "Ngõ 12", **extra}
        response = await client.post(REPORTS, json={**body, "ward_code": HA_LONG})
        refused(response, loc, "control_character")
        assert await count(session, reports_marked(MARK)) == 0

    async def test_note_with_nul_gets_422_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        report = await make_report(session, HA_LONG, reporter=cast.resident)
        await session.commit()
        response = await client.post(
            f"{REPORTS}/{report.id}/updates",
            json={"note": "Đã làm việc\x00 với chủ quán."},
            headers=cast.headers(cast.ward_officer),
        )
        refused(response, ["body", "note"], "control_character")
        updates = select(func.count()).where(col(ReportUpdate.report_id) == report.id)
        assert await count(session, updates.select_from(ReportUpdate)) == 0

    @pytest.mark.parametrize("name", ["Khu phố\x003", "Khu phố\t3", "Khu phố\n3", "Khu\u2028phố"])
    async def test_name_with_a_control_character_or_line_break_gets_422_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, name: str
    ) -> None:
        response = await client.post(
            "/api/v1/neighbourhoods",
            json={"ward_code": HA_LONG, "code": "KPNUL", "name": name},
            headers=cast.headers(cast.ward_officer),
        )
        refused(response, ["body", "name"], "control_character")
        stored = select(func.count()).select_from(Neighbourhood)
        assert await count(session, stored.where(col(Neighbourhood.code) == "KPNUL")) == 0

    @pytest.mark.parametrize(
        ("path", "loc"),
        [
            ("/api/v1/wards/0668%00", ["path", "code"]),
            ("/problems/not%00found", ["path", "slug"]),
        ],
    )
    async def test_path_parameter_with_nul_gets_422(
        self, client: httpx.AsyncClient, path: str, loc: list[str]
    ) -> None:
        refused(await client.get(path), loc, "control_character")

    async def test_nul_in_a_cursor_gets_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/provinces", params={"cursor": "abc\x00"})
        refused(response, ["query", "cursor"], "control_character")


class TestLoneSurrogates:
    async def test_lone_surrogate_in_a_description_gets_422_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        body = {"category": "noise", "description": f"{MARK} \ud83d", "address": "Ngõ 12"}
        response = await client.post(REPORTS, **raw_json({**body, "ward_code": HA_LONG}))
        error = refused(response, ["body", "description"], "lone_surrogate")
        assert "U+D83D" in error["msg"]
        assert await count(session, reports_marked(MARK)) == 0

    async def test_a_whole_emoji_as_a_surrogate_pair_is_text(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        body = {"category": "noise", "description": f"{MARK} 🔊", "address": "Ngõ 12"}
        response = await client.post(REPORTS, **raw_json({**body, "ward_code": HA_LONG}))
        assert response.status_code == 201, response.text
        assert await count(session, reports_marked(f"{MARK} 🔊")) == 1

    async def test_lone_surrogate_in_an_answer_gets_422(self, client: httpx.AsyncClient) -> None:
        body = {"category": "noise", "description": MARK, "address": "Ngõ 12"}
        response = await client.post(
            REPORTS,
            **raw_json({**body, "ward_code": HA_LONG, "attributes": {"time_of_day": "\udc00"}}),
        )
        refused(response, ["body", "attributes", "time_of_day"], "lone_surrogate")


class TestTokenEndpointForm:
    async def test_username_with_nul_at_sign_in_gets_invalid_request(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await token_request(
            client,
            grant_type="password",
            username=f"{cast.resident.username}\x00",
            password=PASSWORD,
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["error"] == "invalid_request"
        assert body["error_description"].startswith("username: One-line text may not contain")
        tokens = select(func.count()).select_from(RefreshToken)
        assert (
            await count(session, tokens.where(col(RefreshToken.user_id) == cast.resident.id)) == 0
        )

    @pytest.mark.parametrize("field", ["grant_type", "password", "scope", "client_id"])
    async def test_any_form_field_with_a_control_character_gets_invalid_request(
        self, client: httpx.AsyncClient, cast: Cast, field: str
    ) -> None:
        form = {"grant_type": "password", "username": cast.resident.username, "password": PASSWORD}
        form[field] = form.get(field, "x") + "\x1b"
        response = await token_request(client, **form)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert response.json()["error_description"].startswith(f"{field}: ")

    async def test_revoking_a_token_with_nul_gets_invalid_request(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/api/v1/auth/revoke", data={"token": "wrt_\x00"})
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"

    async def test_basic_credentials_with_nul_get_invalid_client(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        machine, secret = await make_client(session, HA_LONG)
        await session.commit()
        credentials = base64.b64encode(f"{machine.client_id}\x00:{secret}".encode()).decode()
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {credentials}"},
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"


# --- Open311: its own 400 ---------------------------------------------------------


@pytest.fixture
async def api_key(session: AsyncSession) -> str:
    _, key = await make_open311_client(session, HA_LONG)
    await session.commit()
    return key


@pytest.mark.parametrize("fmt", ["json", "xml"])
class TestOpen311Text:
    async def test_request_with_nul_in_its_description_gets_400_and_stores_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, api_key: str, fmt: str
    ) -> None:
        form = {
            "api_key": api_key,
            "service_code": "noise",
            "lat": "20.9526",
            "long": "107.0810",
            "description": f"{MARK}\x00",
        }
        response = await client.post(f"{OPEN311}/requests.{fmt}", data=form)
        [description] = errors(response, fmt, 400)
        assert description.startswith("description: Text may not contain control characters")
        assert await count(session, reports_marked(MARK)) == 0

    async def test_description_keeps_its_line_breaks(
        self, client: httpx.AsyncClient, session: AsyncSession, api_key: str, fmt: str
    ) -> None:
        form = {
            "api_key": api_key,
            "service_code": "noise",
            "lat": "20.9526",
            "long": "107.0810",
            "description": f"{MARK}\nsau 23 giờ",
        }
        response = await client.post(f"{OPEN311}/requests.{fmt}", data=form)
        assert response.status_code == 200, response.text
        assert await count(session, reports_marked(f"{MARK}\nsau 23 giờ")) == 1

    @pytest.mark.parametrize(
        ("name", "value"),
        [("address_string", "Ngõ 12\n"), ("attribute[time_of_day]", "night\x00")],
    )
    async def test_request_with_a_control_character_in_another_field_gets_400(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        api_key: str,
        fmt: str,
        name: str,
        value: str,
    ) -> None:
        form = {"api_key": api_key, "service_code": "noise", "description": MARK, name: value}
        form.setdefault("address_string", "Ngõ 12")
        response = await client.post(f"{OPEN311}/requests.{fmt}", data=form)
        [description] = errors(response, fmt, 400)
        assert description.startswith(f"{name}: ")
        assert "may not contain control characters" in description
        assert await count(session, reports_marked(MARK)) == 0

    async def test_list_with_nul_in_a_query_parameter_gets_400(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        response = await client.get(
            f"{OPEN311}/requests.{fmt}", params={"jurisdiction_id": HA_LONG, "status": "open\x00"}
        )
        [description] = errors(response, fmt, 400)
        assert description.startswith("status: One-line text")

    async def test_request_id_with_nul_in_the_path_gets_400(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        response = await client.get(
            f"{OPEN311}/requests/abc%00.{fmt}", params={"jurisdiction_id": HA_LONG}
        )
        [description] = errors(response, fmt, 400)
        assert description.startswith("service_request_id: ")
