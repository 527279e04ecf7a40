"""Distances for `near`: the great-circle distance from the chord, and the bounding box."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.cameras.geo import EARTH_RADIUS_M, bounding_box, distance_key, great_circle_m

latitudes = st.floats(-89.9, 89.9)
longitudes = st.floats(-180, 180)


def in_box(box: object, lat: float, lon: float) -> bool:
    assert hasattr(box, "lat_min")
    return box.lat_min <= lat <= box.lat_max and any(  # type: ignore[attr-defined]
        low <= lon <= high
        for low, high in box.lon_ranges  # type: ignore[attr-defined]
    )


def destination(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_deg`` on the sphere."""
    phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    lon2 = (math.degrees(lam2) + 540) % 360 - 180
    return math.degrees(phi2), lon2


class TestHaversine:
    def test_one_degree_of_latitude_is_111_195_metres(self) -> None:
        assert great_circle_m(20, 107, 21, 107) == pytest.approx(111_195.08, abs=0.01)

    def test_the_bai_chay_bridge_spans_about_900_metres(self) -> None:
        # Its two ends, Bãi Cháy and Hòn Gai.
        assert great_circle_m(20.9600, 107.0540, 20.9560, 107.0620) == pytest.approx(940, abs=20)

    def test_across_the_antimeridian_is_short(self) -> None:
        assert great_circle_m(0, 179.999, 0, -179.999) == pytest.approx(222.4, abs=0.1)

    @given(latitudes, longitudes, latitudes, longitudes)
    def test_symmetric_and_never_negative(self, a: float, b: float, c: float, d: float) -> None:
        assert great_circle_m(a, b, c, d) == pytest.approx(great_circle_m(c, d, a, b), abs=1e-6)
        assert great_circle_m(a, b, c, d) >= 0

    def test_distances_show_to_a_tenth_of_a_metre(self) -> None:
        assert distance_key(137.44999) == 137.4
        assert distance_key(0.04) == 0.0


class TestBoundingBox:
    @given(
        lat=st.floats(-89.9, 89.9),
        lon=longitudes,
        bearing=st.floats(0, 360),
        fraction=st.floats(0, 1),
        radius=st.integers(1, 5000),
    )
    def test_holds_every_point_within_the_radius(
        self, lat: float, lon: float, bearing: float, fraction: float, radius: int
    ) -> None:
        point = destination(lat, lon, bearing, radius * fraction)
        if great_circle_m(lat, lon, *point) <= radius:
            assert in_box(bounding_box(lat, lon, radius), *point)

    def test_is_tight_at_ha_long(self) -> None:
        box = bounding_box(20.9526, 107.0812, 500)
        assert box.lat_max - box.lat_min == pytest.approx(2 * 500 / 111_195.08, rel=1e-4)
        [(low, high)] = box.lon_ranges
        assert high - low == pytest.approx(
            2 * 500 / (111_195.08 * math.cos(math.radians(20.9526))), rel=1e-4
        )

    def test_splits_at_the_antimeridian(self) -> None:
        box = bounding_box(0, 179.999, 1000)
        assert len(box.lon_ranges) == 2
        assert in_box(box, 0, -179.999)
        assert not in_box(box, 0, 0)

    def test_near_a_pole_takes_every_longitude(self) -> None:
        box = bounding_box(89.99, 0, 5000)
        assert box.lon_ranges == ((-180.0, 180.0),)
        assert box.lat_max == 90.0
