"""SIGTERM drains: /readyz turns to 503 at once, everything else is served for the drain
period, then the process exits 0; a second signal stops it at once."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.serving.conftest import Served, ServeFactory

DRAIN = "2"


def assert_draining(served: Served, client: httpx.Client) -> None:
    """/readyz is a 503 problem saying so, the rest still answers."""
    ready = client.get("/readyz")
    assert ready.status_code == 503, served.output()
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.headers["retry-after"] == "5"
    assert "shutting down" in ready.json()["detail"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/wards/06688").status_code == 200


def wait_draining(served: Served, client: httpx.Client, seconds: float = 3) -> float:
    """Seconds until /readyz turned to 503 (the supervisor reads signals every 0.5 s)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if client.get("/readyz").status_code == 503:
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"/readyz did not turn to 503 within {seconds} s:\n{served.output()}")


class TestOneProcess:
    def test_sigterm_drains_then_exits_0_after_about_the_drain(self, serve: ServeFactory) -> None:
        with serve(shutdown_drain_seconds=DRAIN) as served:
            with served.client() as client:
                assert client.get("/readyz").status_code == 200
                signalled = time.monotonic()
                served.signal(signal.SIGTERM)
                wait_draining(served, client)
                assert_draining(served, client)
                time.sleep(1)
                # Still serving a second into the drain, new connections included.
                with served.client() as fresh:
                    assert_draining(served, fresh)
            status = served.wait_exit(10)
            took = time.monotonic() - signalled
        assert status == 0, served.output()
        assert 1.8 <= took < 6, (took, served.output())
        with pytest.raises(httpx.TransportError):
            httpx.get(served.base_url + "/healthz", timeout=2)

    def test_a_second_sigterm_stops_at_once(self, serve: ServeFactory) -> None:
        with serve(shutdown_drain_seconds="60") as served:
            with served.client() as client:
                served.signal(signal.SIGTERM)
                wait_draining(served, client)
            stopped = time.monotonic()
            served.signal(signal.SIGTERM)
            served.wait_exit(5)
        assert time.monotonic() - stopped < 5

    def test_sigint_stops_without_a_drain(self, serve: ServeFactory) -> None:
        with serve(shutdown_drain_seconds="60") as served:
            stopped = time.monotonic()
            served.signal(signal.SIGINT)
            served.wait_exit(5)
        assert time.monotonic() - stopped < 5


class TestWorkers:
    def test_each_worker_drains_and_the_server_exits_0(self, serve: ServeFactory) -> None:
        with serve("--workers", "2", shutdown_drain_seconds=DRAIN) as served:
            signalled = time.monotonic()
            served.signal(signal.SIGTERM)
            with served.client() as client:
                wait_draining(served, client)
            # A new connection each time: both workers are asked.
            for _ in range(6):
                with served.client() as fresh:
                    assert_draining(served, fresh)
            status = served.wait_exit(10)
            took = time.monotonic() - signalled
        assert status == 0, served.output()
        assert 1.8 <= took < 7, (took, served.output())

    def test_a_second_sigterm_stops_the_workers_at_once(self, serve: ServeFactory) -> None:
        with serve("--workers", "2", shutdown_drain_seconds="60") as served:
            served.signal(signal.SIGTERM)
            with served.client() as client:
                wait_draining(served, client)
            stopped = time.monotonic()
            served.signal(signal.SIGTERM)
            served.wait_exit(8)
        assert time.monotonic() - stopped < 8, served.output()
