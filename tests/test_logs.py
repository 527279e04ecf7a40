"""The JSON log line's timestamp, formatted once a second, matches what datetime gives."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest

from app.logs import _timestamp


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
