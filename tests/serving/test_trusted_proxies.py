"""Whose X-Forwarded-For is believed: the socket's peer unless it is a trusted proxy
(WARDSAFE_TRUSTED_PROXIES), shown on the anonymous-report limit of a served process."""

from __future__ import annotations

from typing import Any

import httpx

from tests.serving.conftest import Served, ServeFactory

LIMIT = "3 per hour"
REPORT: dict[str, Any] = {
    "category": "noise",
    "description": "Karaoke rất to sau 23 giờ ở ngõ 12.",
    "address": "Ngõ 12 Lê Thánh Tông",
    "ward_code": "06688",
}


def report_from(client: httpx.Client, forwarded_for: str) -> int:
    """Files an anonymous report claiming to come from ``forwarded_for``; the status."""
    response = client.post(
        "/api/v1/reports", json=REPORT, headers={"X-Forwarded-For": forwarded_for}
    )
    assert response.status_code in (201, 429), response.text
    return response.status_code


def statuses(served: Served, addresses: list[str]) -> list[int]:
    with served.client() as client:
        return [report_from(client, address) for address in addresses]


class TestNoTrustedProxy:
    def test_a_new_forwarded_address_each_time_is_still_refused_after_the_limit(
        self, serve: ServeFactory
    ) -> None:
        with serve(anonymous_reports_per_address=LIMIT) as served:
            rotating = [f"203.0.113.{n}" for n in range(1, 7)]
            got = statuses(served, rotating)
        assert got == [201, 201, 201, 429, 429, 429], served.output()


class TestTrustedProxy:
    def test_the_forwarded_address_is_believed_and_each_has_its_own_budget(
        self, serve: ServeFactory
    ) -> None:
        with serve(anonymous_reports_per_address=LIMIT, trusted_proxies="127.0.0.1") as served:
            first = statuses(served, ["203.0.113.1"] * 4)
            others = statuses(served, ["203.0.113.2", "203.0.113.3", "198.51.100.7"])
        assert first == [201, 201, 201, 429], served.output()
        assert others == [201, 201, 201], served.output()

    def test_a_proxy_outside_the_list_is_not_believed(self, serve: ServeFactory) -> None:
        with serve(anonymous_reports_per_address=LIMIT, trusted_proxies="10.0.0.0/8") as served:
            got = statuses(served, [f"203.0.113.{n}" for n in range(1, 5)])
        assert got == [201, 201, 201, 429], served.output()
