"""Distances on the sphere for `near`: the chord between unit vectors, and the bounding box."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.models.cameras import unit_vector

MAX_RADIUS_M = 5000
DEFAULT_RADIUS_M = 500

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
# A bounding box a hair larger than exact: points on its edge are still
# candidates, and the exact distance (the chord) decides.
_BOX_MARGIN_DEG = 1e-7


def chord_squared(radius_m: float) -> float:
    """The squared chord between unit vectors ``radius_m`` apart along the sphere."""
    chord = 2 * math.sin(radius_m / (2 * EARTH_RADIUS_M))
    return chord * chord


def chord_distance_m(chord2: float) -> float:
    """The great-circle distance, in metres, of a squared chord between unit vectors."""
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(max(chord2, 0.0)) / 2))


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points on the mean-radius sphere, in metres."""
    x1, y1, z1 = unit_vector(lat1, lon1)
    x2, y2, z2 = unit_vector(lat2, lon2)
    return chord_distance_m((x1 - x2) * (x1 - x2) + (y1 - y2) * (y1 - y2) + (z1 - z2) * (z1 - z2))


@dataclass(frozen=True)
class BoundingBox:
    """Latitude range and one or two longitude ranges (two across the antimeridian)."""

    lat_min: float
    lat_max: float
    lon_ranges: tuple[tuple[float, float], ...]


def bounding_box(lat: float, lon: float, radius_m: float) -> BoundingBox:
    """The smallest lat/lon box holding every point within ``radius_m`` of (lat, lon).

    On the sphere a circle spans ``asin(sin(r) / cos(lat))`` of longitude either
    side (J. P. Matuschek, "Finding points within a distance of a
    latitude/longitude"); a circle reaching a pole spans every longitude."""
    angular = radius_m / EARTH_RADIUS_M
    lat_min = lat - math.degrees(angular) - _BOX_MARGIN_DEG
    lat_max = lat + math.degrees(angular) + _BOX_MARGIN_DEG
    if lat_min <= -90 or lat_max >= 90:
        return BoundingBox(max(lat_min, -90.0), min(lat_max, 90.0), ((-180.0, 180.0),))
    dlon = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat)))))
    lon_min, lon_max = lon - dlon - _BOX_MARGIN_DEG, lon + dlon + _BOX_MARGIN_DEG
    if lon_min < -180:
        ranges: tuple[tuple[float, float], ...] = ((lon_min + 360, 180.0), (-180.0, lon_max))
    elif lon_max > 180:
        ranges = ((lon_min, 180.0), (-180.0, lon_max - 360))
    else:
        ranges = ((lon_min, lon_max),)
    return BoundingBox(lat_min, lat_max, ranges)


@dataclass(frozen=True)
class Near:
    """A `near=LAT,LON&radius_m=R` query."""

    lat: float
    lon: float
    radius_m: int = DEFAULT_RADIUS_M


def distance_key(distance_m: float) -> float:
    """A distance as the API shows it: rounded to 0.1 m."""
    return round(distance_m, 1)
