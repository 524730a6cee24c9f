"""Points on the map: the district a point falls in (from the vendored outlines), walking distance, grid cells."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DISTRICTS_FILE = Path(__file__).resolve().parents[1] / "static" / "geo" / "shanghai-districts.geojson"
EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
CELL_PRECISION = 7  # geohash characters stored per point: cells of about 150 m by 150 m
# The city's rough extent: a point outside it is refused before any outline is read.
CITY_BOUNDS = (30.6, 120.8, 31.9, 122.2)  # south, west, north, east


@dataclass(frozen=True)
class District:
    name: str  # Chinese, as the department tree names it
    name_en: str
    polygons: tuple  # of polygons, each a tuple of rings of (lng, lat)
    bounds: tuple[float, float, float, float]  # south, west, north, east


@cache
def districts() -> tuple[District, ...]:
    data = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    result = []
    for feature in data["features"]:
        polygons = tuple(tuple(tuple((p[0], p[1]) for p in ring) for ring in polygon)
                         for polygon in feature["geometry"]["coordinates"])
        points = [p for polygon in polygons for p in polygon[0]]
        bounds = (min(p[1] for p in points), min(p[0] for p in points),
                  max(p[1] for p in points), max(p[0] for p in points))
        result.append(District(feature["properties"]["name"], feature["properties"]["name_en"], polygons, bounds))
    return tuple(result)


def _in_ring(lng: float, lat: float, ring) -> bool:
    """Ray casting: whether the point is inside the closed ring."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def district_at(lat: float, lng: float) -> District | None:
    """The district whose outline holds the point, or None outside the city."""
    for district in districts():
        south, west, north, east = district.bounds
        if not (south <= lat <= north and west <= lng <= east):
            continue
        for polygon in district.polygons:
            if _in_ring(lng, lat, polygon[0]) and not any(_in_ring(lng, lat, hole) for hole in polygon[1:]):
                return district
    return None


def in_city_bounds(lat: float, lng: float) -> bool:
    south, west, north, east = CITY_BOUNDS
    return south <= lat <= north and west <= lng <= east


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def walk_radius_m(minutes: float, speed_m_per_min: float) -> float:
    return minutes * speed_m_per_min


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """South, west, north, east of a box that holds every point within radius_m of the centre."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6)))
    return lat - dlat, lng - dlng, lat + dlat, lng + dlng


def geohash(lat: float, lng: float, precision: int = CELL_PRECISION) -> str:
    """The point's geohash: a cell key whose prefixes are the cells that hold it, so clusters group by a prefix."""
    south, north, west, east = -90.0, 90.0, -180.0, 180.0
    chars, bits, value, even = [], 0, 0, True
    while len(chars) < precision:
        if even:
            middle = (west + east) / 2
            value = value * 2 + (lng >= middle)
            west, east = (middle, east) if lng >= middle else (west, middle)
        else:
            middle = (south + north) / 2
            value = value * 2 + (lat >= middle)
            south, north = (middle, north) if lat >= middle else (south, middle)
        even, bits = not even, bits + 1
        if bits == 5:
            chars.append(BASE32[value])
            bits, value = 0, 0
    return "".join(chars)


def cluster_precision(south: float, west: float, north: float, east: float) -> int:
    """How many geohash characters group a viewport's points: a handful of cells across the view (a phone's
    whole-city view gets a few dozen clusters, never thousands of markers)."""
    span = max(north - south, east - west, 1e-9)
    # A geohash of n characters spans 360 / 2**ceil(5n/2) degrees of longitude.
    for precision in range(1, CELL_PRECISION + 1):
        if 360 / 2 ** math.ceil(5 * precision / 2) < span / 3:
            return precision
    return CELL_PRECISION


def parse_point(text: str) -> tuple[float, float] | None:
    """"lat,lng" as two finite numbers within the city, or None."""
    try:
        lat_text, lng_text = text.split(",")
        lat, lng = float(lat_text), float(lng_text)
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lng)) or not in_city_bounds(lat, lng):
        return None
    return lat, lng


def parse_box(text: str) -> tuple[float, float, float, float] | None:
    """"south,west,north,east" as four finite numbers, south below north and west of east, or None."""
    try:
        south, west, north, east = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (south, west, north, east)) or south >= north or west >= east:
        return None
    return south, west, north, east
