"""Open311 GeoReport v2 over the reports, in JSON and XML, checked against the specification.

The element names and shapes below are the specification's own examples
(wiki.open311.org/GeoReport_v2): ``<services><service>``, ``<service_definition>``
with ``<attributes><attribute>`` and ``<values><value>``, ``<service_requests>
<request>``, ``<errors><error><code>`` and ``<description>``; JSON lists bare.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import metadata, utcnow
from app.demo.places import BAI_CHAY, HA_LONG
from app.models.audit import AuditEvent
from app.models.clients import Client
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.security import DEFAULT_CLIENT_SCOPES, hash_secret
from app.services.reports import open311_reads
from tests.conftest import Cast
from tests.factories import (
    QUANG_NINH,
    make_open311_client,
    make_report,
)

BASE = "/open311/v2"
FORMATS = ["json", "xml"]

# The fields of each document, in the specification's order.
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
CREATED_FIELDS = ["service_request_id", "service_notice", "account_id"]
UPDATE_FIELDS = [
    "update_id",
    "service_request_id",
    "status",
    "external_status_code",
    "updated_datetime",
    "description",
    "media_url",
]


def xml_of(response: httpx.Response) -> ElementTree.Element:
    """The response's XML document (we only parse our own answers)."""
    assert response.headers["content-type"].startswith("application/xml"), response.text
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)  # noqa: S314 (our own output)


def items(response: httpx.Response, fmt: str, root: str, item: str) -> list[dict[str, Any]]:
    """A list document as dicts of text, whichever the format (XML checked for its names)."""
    if fmt == "json":
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert isinstance(body, list)
        return body
    document = xml_of(response)
    assert document.tag == root
    assert all(child.tag == item for child in document)
    return [{field.tag: field.text for field in child} for child in document]


def errors(response: httpx.Response, fmt: str, status: int) -> list[str]:
    """The specification's error format: ``[{"code", "description"}]`` or ``<errors>``."""
    assert response.status_code == status, response.text
    if fmt == "json":
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert [set(error) for error in body] == [{"code", "description"}] * len(body)
        assert {error["code"] for error in body} == {status}
        return [error["description"] for error in body]
    document = xml_of(response)
    assert document.tag == "errors"
    found = []
    for error in document:
        assert error.tag == "error"
        assert [field.tag for field in error] == ["code", "description"]
        assert error.findtext("code") == str(status)
        found.append(error.findtext("description") or "")
    assert found
    return found


@pytest.fixture
async def key(session: AsyncSession) -> str:
    """An Open311 api_key of a Hạ Long ward system."""
    _, api_key = await make_open311_client(session, HA_LONG)
    await session.commit()
    return api_key


def new_request(api_key: str, **values: str) -> dict[str, str]:
    return {
        "api_key": api_key,
        "service_code": "noise",
        "lat": "20.9526",
        "long": "107.0810",
        "description": "Karaoke rất to sau 23 giờ.",
        **values,
    }


class TestApiKeys:
    async def test_admin_gets_the_api_key_once_beside_the_secret(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast
    ) -> None:
        response = await client.post(
            "/api/v1/clients",
            json={"name": "Hạ Long 311", "unit_code": HA_LONG},
            headers=cast.headers(cast.admin),
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["api_key"].startswith("wsk_")
        assert created["api_key"] != created["client_secret"]
        session.expunge_all()
        stored = await session.get(Client, uuid.UUID(created["id"]))
        assert stored is not None
        assert stored.api_key_hash == hash_secret(created["api_key"])
        listed = await client.get("/api/v1/clients", headers=cast.headers(cast.admin))
        assert created["api_key"] not in listed.text
        assert stored.api_key_hash not in listed.text
        [event] = (
            await session.exec(
                select_model(AuditEvent).where(col(AuditEvent.record_id) == created["id"])
            )
        ).all()
        assert "api_key" in event.changed_fields
        assert created["api_key"] not in str(event.model_dump())
        posted = await client.post(f"{BASE}/requests.json", data=new_request(created["api_key"]))
        assert posted.status_code == 200, posted.text

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_deleted_client_key_stops_working(
        self, client: httpx.AsyncClient, session: AsyncSession, fmt: str
    ) -> None:
        machine, api_key = await make_open311_client(session, HA_LONG)
        machine.deleted_at = utcnow()
        session.add(machine)
        await session.commit()
        response = await client.post(f"{BASE}/requests.{fmt}", data=new_request(api_key))
        assert "api_key" in errors(response, fmt, 403)[0]


class TestDiscovery:
    async def test_discovery_names_the_v2_endpoint_and_formats(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(f"{BASE}/discovery.json")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
        [endpoint] = body["endpoints"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2"
        assert endpoint["type"] == "test"
        assert set(endpoint["formats"]) == {"application/json", "application/xml"}


class TestServices:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_every_category_is_a_realtime_service(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        response = await client.get(f"{BASE}/services.{fmt}")
        assert response.status_code == 200
        services = items(response, fmt, "services", "service")
        assert [s["service_code"] for s in services] == [
            "theft",
            "fighting",
            "drugs",
            "gambling",
            "fire_hazard",
            "suspicious_person",
            "traffic",
            "noise",
            "other",
        ]
        for service in services:
            assert list(service) == SERVICE_FIELDS
            assert service["type"] == "realtime"
        metadata_of = {s["service_code"]: str(s["metadata"]).lower() for s in services}
        assert metadata_of["noise"] == "true"
        assert metadata_of["drugs"] == "false"

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_unknown_jurisdiction_gets_404_in_the_specs_format(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        response = await client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "99999"})
        assert "99999" in errors(response, fmt, 404)[0]

    async def test_a_known_jurisdiction_is_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": HA_LONG})
        assert response.status_code == 200


class TestServiceDefinition:
    async def test_json_definition_lists_attributes_with_values(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(f"{BASE}/services/fire_hazard.json")
        assert response.status_code == 200
        body = response.json()
        assert body["service_code"] == "fire_hazard"
        hazard, people = body["attributes"]
        assert list(hazard)[: len(ATTRIBUTE_FIELDS)] == ATTRIBUTE_FIELDS
        assert (hazard["code"], hazard["datatype"], hazard["order"]) == (
            "hazard",
            "singlevaluelist",
            1,
        )
        assert {"key": "gas_leak", "name": "Rò rỉ khí gas"} in hazard["values"]
        assert people["order"] == 2

    async def test_xml_definition_has_the_specs_elements(self, client: httpx.AsyncClient) -> None:
        document = xml_of(await client.get(f"{BASE}/services/fighting.xml"))
        assert document.tag == "service_definition"
        assert document.findtext("service_code") == "fighting"
        attributes = document.find("attributes")
        assert attributes is not None
        weapons, people = list(attributes)
        assert weapons.tag == "attribute"
        assert weapons.findtext("variable") == "true"
        assert weapons.findtext("required") == "false"
        assert [v.findtext("key") for v in weapons.iter("value")][:2] == ["none", "sticks"]
        assert people.findtext("datatype") == "number"
        assert people.find("values") is None

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_unknown_service_gets_404(self, client: httpx.AsyncClient, fmt: str) -> None:
        response = await client.get(f"{BASE}/services/murder.{fmt}")
        assert "murder" in errors(response, fmt, 404)[0]


class TestPostRequest:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_a_request_becomes_an_anonymous_report(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str, fmt: str
    ) -> None:
        form = new_request(
            key,
            service_code="fire_hazard",
            **{"attribute[hazard]": "gas_leak", "media_url": "https://media.example.vn/1.jpg"},
        )
        response = await client.post(f"{BASE}/requests.{fmt}", data=form)
        assert response.status_code == 200, response.text
        [created] = items(response, fmt, "service_requests", "request")
        assert list(created) == CREATED_FIELDS
        assert created["account_id"] is None
        assert created["service_notice"]
        session.expunge_all()
        report = await session.get(Report, uuid.UUID(created["service_request_id"]))
        assert report is not None
        assert (report.category, report.ward_code, report.province_code) == (
            "fire_hazard",
            HA_LONG,
            QUANG_NINH,
        )
        assert (report.anonymous, report.source, report.reporter_id) == (True, "open311", None)
        assert report.attributes == {"hazard": "gas_leak"}
        assert report.media_refs == ["https://media.example.vn/1.jpg"]
        assert (report.lat, report.lon) == (20.9526, 107.081)

    async def test_contact_details_are_never_stored(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str
    ) -> None:
        contact = {
            "email": "nguoi.bao@example.vn",
            "first_name": "Thị Báo",
            "last_name": "Nguyễn",
            "phone": "0912999888",
            "device_id": "device-7731",
            "account_id": "account-5521",
        }
        response = await client.post(f"{BASE}/requests.json", data=new_request(key, **contact))
        assert response.status_code == 200, response.text
        session.expunge_all()
        everything = []
        for table in metadata.sorted_tables:
            if table.name in ("provinces", "wards"):
                continue
            rows = (await session.exec(select(table))).all()  # type: ignore[call-overload]
            everything.extend(str(tuple(row)) for row in rows)
        text = "\n".join(everything)
        for value in contact.values():
            assert value not in text

    async def test_ward_key_defaults_to_its_ward(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str
    ) -> None:
        response = await client.post(
            f"{BASE}/requests.json", data=new_request(key, jurisdiction_id=HA_LONG)
        )
        assert response.status_code == 200, response.text

    async def test_address_string_alone_is_a_location(
        self, client: httpx.AsyncClient, key: str
    ) -> None:
        form = new_request(key, address_string="Chợ Hạ Long I")
        del form["lat"], form["long"]
        response = await client.post(f"{BASE}/requests.json", data=form)
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("api_key", [None, "", "wsk_not-a-key"])
    async def test_missing_or_bad_key_gets_403(
        self, client: httpx.AsyncClient, session: AsyncSession, fmt: str, api_key: str | None
    ) -> None:
        form = new_request(api_key or "")
        if api_key is None:
            del form["api_key"]
        response = await client.post(f"{BASE}/requests.{fmt}", data=form)
        assert "api_key" in errors(response, fmt, 403)[0]
        assert (await session.exec(select_model(Report))).all() == []

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("change", "status", "words"),
        [
            ({"service_code": ""}, 400, "service_code"),
            ({"service_code": "murder"}, 404, "service_code"),
            ({"description": ""}, 400, "description"),
            ({"description": "x" * 4001}, 400, "description"),
            ({"lat": ""}, 400, "long"),
            ({"lat": "north"}, 400, "lat"),
            ({"lat": "91"}, 400, "lat"),
            ({"lat": "", "long": ""}, 400, "location"),
            ({"media_url": "ftp://x/y.jpg"}, 400, "media_url"),
            ({"attribute[hazard]": "dragons"}, 400, "hazard"),
            ({"attribute[colour]": "red"}, 400, "colour"),
            ({"jurisdiction_id": "99999"}, 404, "jurisdiction_id"),
            ({"jurisdiction_id": BAI_CHAY}, 403, BAI_CHAY),
        ],
    )
    async def test_bad_requests_get_the_specs_errors(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        key: str,
        fmt: str,
        change: dict[str, str],
        status: int,
        words: str,
    ) -> None:
        form = {**new_request(key, service_code="fire_hazard"), **change}
        if change.get("lat") == "" and "long" not in change:
            form["long"] = "107.08"
        response = await client.post(f"{BASE}/requests.{fmt}", data=form)
        assert words in errors(response, fmt, status)[0]
        assert (await session.exec(select_model(Report))).all() == []

    async def test_province_key_must_name_the_jurisdiction(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        _, province_key = await make_open311_client(session, QUANG_NINH)
        await session.commit()
        missing = await client.post(f"{BASE}/requests.json", data=new_request(province_key))
        assert "jurisdiction_id" in errors(missing, "json", 400)[0]
        named = await client.post(
            f"{BASE}/requests.json", data=new_request(province_key, jurisdiction_id=BAI_CHAY)
        )
        assert named.status_code == 200, named.text

    async def test_json_body_instead_of_a_form_gets_403_for_want_of_a_key(
        self, client: httpx.AsyncClient, key: str
    ) -> None:
        response = await client.post(f"{BASE}/requests.json", json=new_request(key))
        errors(response, "json", 403)

    async def test_audit_names_the_system_not_a_person(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        machine, api_key = await make_open311_client(session, HA_LONG)
        await session.commit()
        response = await client.post(f"{BASE}/requests.json", data=new_request(api_key))
        report_id = response.json()[0]["service_request_id"]
        [event] = (
            await session.exec(
                select_model(AuditEvent).where(col(AuditEvent.record_id) == report_id)
            )
        ).all()
        assert (event.actor_id, event.actor_kind) == (machine.id, "client")


class TestGetRequests:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_requests_of_the_keys_ward_newest_first_with_the_specs_fields(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, key: str, fmt: str
    ) -> None:
        now = utcnow()
        older = await make_report(
            session,
            HA_LONG,
            reporter=cast.resident,
            category="theft",
            created_at=now - timedelta(days=2),
            lat=20.95,
            lon=107.08,
            media_refs=["https://media.example.vn/a.jpg"],
        )
        newer = await make_report(session, HA_LONG, status="resolved")
        session.add(
            ReportUpdate(
                report_id=newer.id,
                province_code=QUANG_NINH,
                ward_code=HA_LONG,
                kind="transition",
                from_status="in_progress",
                to_status="resolved",
                note="Đã xử lý, quán tắt nhạc trước 22h.",
                public=True,
            )
        )
        await make_report(session, BAI_CHAY)
        await session.commit()
        response = await client.get(f"{BASE}/requests.{fmt}", params={"api_key": key})
        assert response.status_code == 200, response.text
        found = items(response, fmt, "service_requests", "request")
        assert [r["service_request_id"] for r in found] == [str(newer.id), str(older.id)]
        for request in found:
            assert list(request) == REQUEST_FIELDS
        first, second = found
        assert (first["status"], first["status_notes"]) == (
            "closed",
            "Đã xử lý, quán tắt nhạc trước 22h.",
        )
        assert second["status"] == "open"
        assert second["service_code"] == "theft"
        assert second["agency_responsible"] == "Công an phường Hạ Long"
        assert second["media_url"] == "https://media.example.vn/a.jpg"
        assert str(second["lat"]) == "20.95"
        assert second["requested_datetime"].endswith("+00:00")
        # Never anything about the reporter.
        assert str(cast.resident.id) not in response.text
        assert cast.resident.username not in response.text

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_without_a_key_anyone_reads_one_wards_public_view(
        self, client: httpx.AsyncClient, fmt: str, session: AsyncSession, cast: Cast
    ) -> None:
        mine = await make_report(session, HA_LONG, reporter=cast.resident)
        session.add(
            ReportUpdate(
                report_id=mine.id,
                province_code=QUANG_NINH,
                ward_code=HA_LONG,
                kind="note",
                note="Ghi chú nội bộ của công an.",
                public=False,
            )
        )
        elsewhere = await make_report(session, BAI_CHAY)
        await session.commit()
        response = await client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": HA_LONG})
        assert response.status_code == 200, response.text
        found = items(response, fmt, "service_requests", "request")
        ids = [r["service_request_id"] for r in found]
        assert str(mine.id) in ids
        assert str(elsewhere.id) not in ids
        assert str(cast.resident.id) not in response.text
        assert cast.resident.username not in response.text
        assert "nội bộ" not in response.text
        public = next(r for r in found if r["service_request_id"] == str(mine.id))
        assert public["service_code"] == mine.category
        assert public["status"] == "open"
        assert public["description"] is None
        assert public["address"] is None
        assert mine.description not in response.text
        assert mine.address not in response.text

    async def test_without_a_key_the_location_is_rounded_to_a_block(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_report(session, HA_LONG, lat=20.951234, lon=107.081234)
        await session.commit()
        response = await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": HA_LONG})
        [found] = [r for r in response.json() if r["lat"] is not None]
        assert (found["lat"], found["long"]) == (20.951, 107.081)

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_without_a_key_a_jurisdiction_is_required_and_a_bad_key_is_403(
        self, client: httpx.AsyncClient, fmt: str, session: AsyncSession
    ) -> None:
        await make_report(session, HA_LONG)
        await session.commit()
        assert "jurisdiction_id" in errors(await client.get(f"{BASE}/requests.{fmt}"), fmt, 400)[0]
        errors(
            await client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "99999"}),
            fmt,
            404,
        )
        errors(await client.get(f"{BASE}/requests.{fmt}", params={"api_key": "wsk_nope"}), fmt, 403)

    async def test_key_without_reports_read_gets_403(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        _, narrow = await make_open311_client(
            session, HA_LONG, DEFAULT_CLIENT_SCOPES - {"reports:read"}
        )
        await session.commit()
        response = await client.get(f"{BASE}/requests.json", params={"api_key": narrow})
        assert "reports:read" in errors(response, "json", 403)[0]

    async def test_other_wards_jurisdiction_gets_403_unknown_404(
        self, client: httpx.AsyncClient, key: str
    ) -> None:
        other = await client.get(
            f"{BASE}/requests.json", params={"api_key": key, "jurisdiction_id": BAI_CHAY}
        )
        errors(other, "json", 403)
        unknown = await client.get(
            f"{BASE}/requests.json", params={"api_key": key, "jurisdiction_id": "99999"}
        )
        errors(unknown, "json", 404)

    async def test_province_key_reads_every_ward_or_one(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        _, province_key = await make_open311_client(session, QUANG_NINH)
        await make_report(session, HA_LONG)
        await make_report(session, BAI_CHAY)
        await session.commit()
        every = await client.get(f"{BASE}/requests.json", params={"api_key": province_key})
        assert len(every.json()) == 2
        one = await client.get(
            f"{BASE}/requests.json", params={"api_key": province_key, "jurisdiction_id": BAI_CHAY}
        )
        assert [r["agency_responsible"] for r in one.json()] == ["Công an phường Bãi Cháy"]

    async def test_default_window_is_the_last_90_days(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str
    ) -> None:
        now = utcnow()
        recent = await make_report(session, HA_LONG, created_at=now - timedelta(days=89))
        await make_report(session, HA_LONG, created_at=now - timedelta(days=91))
        await session.commit()
        response = await client.get(f"{BASE}/requests.json", params={"api_key": key})
        assert [r["service_request_id"] for r in response.json()] == [str(recent.id)]

    async def test_window_of_at_most_90_days(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str
    ) -> None:
        inside = await make_report(
            session, HA_LONG, created_at=utcnow().replace(year=2025, month=3, day=1)
        )
        await session.commit()
        exactly = await client.get(
            f"{BASE}/requests.json",
            params={
                "api_key": key,
                "start_date": "2025-01-01T00:00:00Z",
                "end_date": "2025-04-01T00:00:00Z",
            },
        )
        assert exactly.status_code == 200, exactly.text
        assert [r["service_request_id"] for r in exactly.json()] == [str(inside.id)]
        too_long = await client.get(
            f"{BASE}/requests.json",
            params={
                "api_key": key,
                "start_date": "2025-01-01T00:00:00Z",
                "end_date": "2025-04-01T00:00:01Z",
            },
        )
        assert "90 days" in errors(too_long, "json", 400)[0]
        start_only = await client.get(
            f"{BASE}/requests.json",
            params={"api_key": key, "start_date": "2025-02-15T00:00:00+07:00"},
        )
        assert [r["service_request_id"] for r in start_only.json()] == [str(inside.id)]

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        "params",
        [
            {"start_date": "yesterday"},
            {"start_date": "2025-01-01T00:00:00"},
            {"start_date": "2025-02-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
            {"status": "pending"},
            {"service_code": "murder"},
            {"service_request_id": "1,2"},
        ],
    )
    async def test_bad_parameters_get_400(
        self, client: httpx.AsyncClient, key: str, fmt: str, params: dict[str, str]
    ) -> None:
        response = await client.get(f"{BASE}/requests.{fmt}", params={"api_key": key, **params})
        errors(response, fmt, 400)

    async def test_filters_by_status_and_service_code(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str
    ) -> None:
        open_noise = await make_report(session, HA_LONG, status="in_progress")
        closed_theft = await make_report(session, HA_LONG, status="rejected", category="theft")
        await session.commit()

        async def ids(**params: str) -> list[str]:
            response = await client.get(f"{BASE}/requests.json", params={"api_key": key, **params})
            assert response.status_code == 200, response.text
            return [r["service_request_id"] for r in response.json()]

        assert await ids(status="open") == [str(open_noise.id)]
        assert await ids(status="closed") == [str(closed_theft.id)]
        assert len(await ids(status="open,closed")) == 2
        assert await ids(service_code="theft") == [str(closed_theft.id)]
        assert len(await ids(service_code="theft,noise")) == 2

    async def test_ids_override_every_other_filter(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str
    ) -> None:
        old = await make_report(session, HA_LONG, created_at=utcnow() - timedelta(days=400))
        other = await make_report(session, HA_LONG)
        elsewhere = await make_report(session, BAI_CHAY)
        await session.commit()
        response = await client.get(
            f"{BASE}/requests.json",
            params={
                "api_key": key,
                "service_request_id": f"{old.id},{elsewhere.id},{uuid.uuid4()}",
                "status": "closed",
                "service_code": "theft",
            },
        )
        assert [r["service_request_id"] for r in response.json()] == [str(old.id)]
        assert str(other.id) not in response.text

    async def test_at_most_1000_results(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        key: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        assert open311_reads.MAX_RESULTS == 1000
        monkeypatch.setattr(open311_reads, "MAX_RESULTS", 3)
        made = [await make_report(session, HA_LONG) for _ in range(5)]
        await session.commit()
        response = await client.get(f"{BASE}/requests.json", params={"api_key": key})
        assert [r["service_request_id"] for r in response.json()] == [
            str(report.id) for report in reversed(made[2:])
        ]


class TestGetRequest:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_one_request_comes_as_a_list_of_one(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str, fmt: str
    ) -> None:
        report = await make_report(session, HA_LONG, created_at=utcnow() - timedelta(days=300))
        await session.commit()
        response = await client.get(f"{BASE}/requests/{report.id}.{fmt}", params={"api_key": key})
        assert response.status_code == 200, response.text
        [found] = items(response, fmt, "service_requests", "request")
        assert found["service_request_id"] == str(report.id)
        assert list(found) == REQUEST_FIELDS

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_unknown_or_other_wards_request_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, key: str, fmt: str
    ) -> None:
        elsewhere = await make_report(session, BAI_CHAY)
        await session.commit()
        for request_id in (elsewhere.id, uuid.uuid4(), "not-an-id"):
            response = await client.get(
                f"{BASE}/requests/{request_id}.{fmt}", params={"api_key": key}
            )
            errors(response, fmt, 404)

    async def test_without_a_key_it_needs_the_wards_jurisdiction(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        report = await make_report(session, HA_LONG)
        await session.commit()
        path = f"{BASE}/requests/{report.id}.xml"
        errors(await client.get(path), "xml", 400)
        errors(await client.get(path, params={"jurisdiction_id": BAI_CHAY}), "xml", 404)
        [found] = items(
            await client.get(path, params={"jurisdiction_id": HA_LONG}),
            "xml",
            "service_requests",
            "request",
        )
        assert found["service_request_id"] == str(report.id)


class TestServiceRequestUpdates:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_status_changes_sync_and_internal_notes_stay_internal(
        self, client: httpx.AsyncClient, session: AsyncSession, cast: Cast, key: str, fmt: str
    ) -> None:
        report = (await client.post(f"{BASE}/requests.json", data=new_request(key))).json()[0][
            "service_request_id"
        ]
        officer = cast.headers(cast.ward_officer)
        path = f"/api/v1/reports/{report}"
        steps = [
            ("transitions", {"to": "acknowledged", "note": "Đã tiếp nhận.", "public": True}),
            ("updates", {"note": "Chủ quán là người quen của tổ trưởng.", "public": False}),
            (
                "transitions",
                {"to": "in_progress", "note": "Tổ tuần tra xác minh.", "public": False},
            ),
            ("updates", {"note": "Đã nhắc nhở lần 1.", "public": True}),
            ("transitions", {"to": "resolved", "note": "Đã xử lý.", "public": True}),
        ]
        for sub, body in steps:
            answer = await client.post(f"{path}/{sub}", json=body, headers=officer)
            assert answer.status_code in (200, 201), answer.text
        response = await client.get(f"{BASE}/servicerequestupdates.{fmt}", params={"api_key": key})
        assert response.status_code == 200, response.text
        updates = items(response, fmt, "service_request_updates", "request_update")
        for update in updates:
            assert list(update) == UPDATE_FIELDS
            assert update["service_request_id"] == report
        empty = "" if fmt == "json" else None
        assert [(u["status"], u["external_status_code"], u["description"]) for u in updates] == [
            ("open", "acknowledged", "Đã tiếp nhận."),
            ("open", "in_progress", empty),
            ("open", "in_progress", "Đã nhắc nhở lần 1."),
            ("closed", "resolved", "Đã xử lý."),
        ]
        assert "người quen" not in response.text
        assert "xác minh" not in response.text

    async def test_window_rules_apply(self, client: httpx.AsyncClient, key: str) -> None:
        response = await client.get(
            f"{BASE}/servicerequestupdates.json",
            params={
                "api_key": key,
                "start_date": "2025-01-01T00:00:00Z",
                "end_date": "2025-06-01T00:00:00Z",
            },
        )
        assert "90 days" in errors(response, "json", 400)[0]

    async def test_without_a_key_it_needs_a_jurisdiction(self, client: httpx.AsyncClient) -> None:
        errors(await client.get(f"{BASE}/servicerequestupdates.xml"), "xml", 400)
        response = await client.get(
            f"{BASE}/servicerequestupdates.json", params={"jurisdiction_id": HA_LONG}
        )
        assert response.status_code == 200, response.text


class TestOpenApi:
    async def test_open311_routes_declare_json_or_xml_and_their_errors(
        self, client: httpx.AsyncClient
    ) -> None:
        schema = (await client.get("/openapi.json")).json()
        paths = {p: ops for p, ops in schema["paths"].items() if p.startswith(BASE)}
        # discovery, and five paths in each of two formats.
        assert len(paths) == 11
        for path, operations in paths.items():
            media = "application/xml" if path.endswith(".xml") else "application/json"
            for operation in operations.values():
                for status, response in operation["responses"].items():
                    assert list(response["content"]) == [media], (path, status)
                assert "422" not in operation["responses"]
