"""The Open311 list through a real app: a unit's window with no other filter runs as a
prepared statement (on PostgreSQL through the driver's own pool,
app.data.prepared.Prepared); it must answer what the general path answers for the same
requests."""

from __future__ import annotations

import re

from app.demo.places import HA_LONG
from tests.conftest import Committed
from tests.routers.test_open311 import xml_of
from tests.routers.test_reports_prepared import file_reports, resident_and_officer

REQUESTS = "/open311/v2/requests.json"


async def test_window_list_answers_as_the_filtered_list(committed: Committed) -> None:
    resident, _ = await resident_and_officer(committed)
    ids = await file_reports(committed, resident, 2)

    window = await committed.client.get(REQUESTS, params={"jurisdiction_id": HA_LONG})
    # A service filter takes the general path (its IN list expands at execution).
    filtered = await committed.client.get(
        REQUESTS, params={"jurisdiction_id": HA_LONG, "service_code": "theft"}
    )

    assert window.status_code == 200, window.text
    assert filtered.status_code == 200, filtered.text
    mine = [item for item in window.json() if item["service_request_id"] in ids]
    assert [item["service_request_id"] for item in mine] == ids[::-1]  # newest first
    assert mine == [item for item in filtered.json() if item["service_request_id"] in ids]
    first = mine[0]
    # The public view: no words, no address, no photos, the place rounded to about 110 m.
    assert first["description"] is None
    assert first["address"] is None
    assert first["media_url"] is None
    assert (first["lat"], first["long"]) == (20.953, 107.081)
    assert first["status"] == "open"
    assert first["service_code"] == "theft"
    # W3C datetimes in UTC to the second, the same text in JSON and in XML.
    w3c = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
    assert w3c.match(first["requested_datetime"]), first["requested_datetime"]
    assert w3c.match(first["updated_datetime"]), first["updated_datetime"]
    xml = await committed.client.get(
        "/open311/v2/requests.xml", params={"jurisdiction_id": HA_LONG}
    )
    assert xml.status_code == 200, xml.text
    in_xml = {
        request.findtext("service_request_id"): request.findtext("requested_datetime")
        for request in xml_of(xml)
    }
    assert in_xml[first["service_request_id"]] == first["requested_datetime"]
