"""With several workers one scrape sees the whole server: the request counter adds up
every worker's and never goes backwards."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.serving.conftest import Served, ServeFactory

REQUESTS = 60
SCRAPE_EVERY = 5


def healthz_count(served: Served) -> float:
    """/healthz's 200s in one scrape, on a connection of its own (any worker may answer)."""
    with served.client() as client:
        text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "wardsafe_http_requests":
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.labels == {
                    "method": "GET",
                    "route": "/healthz",
                    "status": "200",
                }:
                    return sample.value
    return 0.0


def metrics_directories(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("wardsafe-metrics-*"))


class TestTwoWorkers:
    def test_successive_scrapes_count_every_request_and_never_go_backwards(
        self, serve: ServeFactory, tmp_path: Path
    ) -> None:
        with serve("--workers", "2") as served:
            assert len(metrics_directories(tmp_path)) == 1, served.output()
            scraped: list[float] = []
            for sent in range(1, REQUESTS + 1):
                # A new connection each time, so that both workers serve some.
                with served.client() as client:
                    assert client.get("/healthz").status_code == 200
                if sent % SCRAPE_EVERY == 0:
                    scraped.append(healthz_count(served))
                    assert scraped[-1] <= sent, (scraped, served.output())
            # A request is counted just after its answer is sent: give the last a moment.
            deadline = time.monotonic() + 3
            while healthz_count(served) < REQUESTS and time.monotonic() < deadline:
                time.sleep(0.05)
            scraped.append(healthz_count(served))
        assert scraped == sorted(scraped), scraped
        assert scraped[-1] == REQUESTS, (scraped, served.output())

    def test_the_directory_is_removed_when_the_server_stops(
        self, serve: ServeFactory, tmp_path: Path
    ) -> None:
        with serve("--workers", "2", shutdown_drain_seconds="0") as served:
            [directory] = metrics_directories(tmp_path)
            httpx.get(served.base_url + "/healthz", timeout=5)
            assert list(directory.glob("*.db")), served.output()
            served.signal(signal.SIGTERM)
            assert served.wait_exit(10) == 0, served.output()
        assert metrics_directories(tmp_path) == []

    def test_one_worker_keeps_its_metrics_in_memory(
        self, serve: ServeFactory, tmp_path: Path
    ) -> None:
        with serve() as served:
            for _ in range(3):
                assert httpx.get(served.base_url + "/healthz", timeout=5).status_code == 200
            deadline = time.monotonic() + 3
            while healthz_count(served) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert healthz_count(served) == 3
            assert metrics_directories(tmp_path) == []
