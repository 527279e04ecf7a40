"""The JSON log line's timestamp, formatted once a second, matches what datetime gives;
the access line written straight to the stream is the line logging would write."""

from __future__ import annotations

import io
import logging
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson
import pytest

from app import logs
from app.logs import _timestamp
from tests.conftest import json_log


def reference(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


@pytest.mark.parametrize(
    "created",
    [
        0.0,
        1.5,
        1_700_000_000.0,
        1_700_000_000.0005,
        1_700_000_000.9995,
        1_700_000_000.9999994,
        1_700_000_000.9999995,  # rounds up to the next second
        math.nextafter(1_700_000_001.0, 0.0),
        4_102_444_799.9999999,  # the last instant of 2099
        -1.5,
    ],
)
def test_timestamp_matches_fromtimestamp_isoformat(created: float) -> None:
    assert _timestamp(created) == reference(created)


def test_timestamp_matches_on_many_instants() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        created = rng.uniform(1_600_000_000, 1_900_000_000)
        assert _timestamp(created) == reference(created)


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Logging as ``configure_logging`` sets it up, on a stream the test reads; restored after."""
    with json_log(monkeypatch, "INFO") as stream:
        yield stream


@contextmanager
def alone() -> Iterator[None]:
    """Only ``configure_logging``'s handler on the root logger (pytest adds its own
    capture handlers to it for each phase of a test)."""
    saved = logging.root.handlers[:]
    logging.root.handlers[:] = logs._HANDLER
    try:
        yield
    finally:
        logging.root.handlers[:] = saved


class TestAccessLog:
    FIELDS = ("0f3c2a", "GET", "/api/v1/reports/{report_id}", 200, 1.23)

    def test_the_line_is_the_json_formatters_line_for_the_same_record(
        self, configured: io.StringIO, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        now = 1_764_000_000.1234
        monkeypatch.setattr(logs.time, "time", lambda: now)
        access_log = logs.AccessLog("wardsafe.access")
        with alone():
            assert access_log._handler() is logs._HANDLER[0]  # straight to the stream
            access_log.request(*self.FIELDS)
        record = logging.LogRecord("wardsafe.access", logging.INFO, "", 0, "request", None, None)
        record.created = now
        request_id, method, route, status, duration_ms = self.FIELDS
        record.__dict__.update(
            request_id=request_id,
            method=method,
            route=route,
            status=status,
            duration_ms=duration_ms,
        )
        expected = logs.JsonFormatter().format(record)
        assert configured.getvalue() == expected + "\n"
        assert orjson.loads(configured.getvalue())["route"] == "/api/v1/reports/{report_id}"

    def test_a_handler_added_gets_the_record_through_logging(
        self, configured: io.StringIO, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO):
            logs.AccessLog("wardsafe.access").request(*self.FIELDS)
        [record] = [r for r in caplog.records if r.name == "wardsafe.access"]
        assert (record.getMessage(), record.status, record.route) == (
            "request",
            200,
            "/api/v1/reports/{report_id}",
        )
        # The configured handler got it too, formatted as before.
        assert orjson.loads(configured.getvalue())["request_id"] == "0f3c2a"

    def test_a_handler_on_a_parent_logger_gets_the_record(self, configured: io.StringIO) -> None:
        seen: list[logging.LogRecord] = []
        parent = logging.getLogger("wardsafe-test-parent")
        handler = logging.Handler()
        handler.emit = seen.append  # type: ignore[method-assign]
        parent.addHandler(handler)
        try:
            with alone():
                logs.AccessLog("wardsafe-test-parent.access").request(*self.FIELDS)
        finally:
            parent.removeHandler(handler)
        assert [record.getMessage() for record in seen] == ["request"]
        assert orjson.loads(configured.getvalue())["logger"] == "wardsafe-test-parent.access"

    def test_above_info_nothing_is_written(self, configured: io.StringIO) -> None:
        logging.getLogger().setLevel(logging.WARNING)
        with alone():
            logs.AccessLog("wardsafe.access").request(*self.FIELDS)
        assert configured.getvalue() == ""
