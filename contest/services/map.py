"""The call's map: public entries placed by a point, clustered per viewport, within a walk of a point, as GeoJSON.

Every query reads the entry table through an index: a viewport and a walk's box by (call_id, lat), clusters
grouped by a prefix of the geohash cell (contest.geo); nothing scans a call's entries outside the box."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import load_only

from contest import geo
from contest.extensions import db
from contest.links import external_url
from contest.models import Call, Department, DepartmentKind, Entry
from contest.models.entries import MAP_ROWS
from contest.services.visibility import public_entries

NEAR_LIMIT = 200  # the nearest entries a walk lists, at most
MAX_MINUTES = 60


@dataclass(frozen=True)
class Cluster:
    """Points of one cell of a viewport: their count and mean position; one entry's id and title when alone."""

    lat: float
    lng: float
    count: int
    entry_id: int | None = None
    title: str = ""


@dataclass(frozen=True)
class Nearby:
    entry: Entry
    distance_m: float


@dataclass(frozen=True)
class Walk:
    """A walk's question and answer: the centre, the minutes, the radius they make, the entries within it."""

    lat: float
    lng: float
    minutes: int
    radius_m: float
    entries: list[Nearby]
    more: bool  # more than NEAR_LIMIT entries lie within it: only the nearest are listed


def _placed(call: Call):
    # The rule is public_entries(); MAP_ROWS repeats its part in literal SQL so that the planner matches the
    # partial map indexes even with bound parameters and prepared (generic) plans.
    return (Entry.call_id == call.id, Entry.lat.is_not(None), *public_entries(), MAP_ROWS)


def _in_box(south: float, west: float, north: float, east: float):
    return (Entry.lat.between(south, north), Entry.lng.between(west, east))


def clusters(call: Call, south: float, west: float, north: float, east: float) -> list[Cluster]:
    """The call's public placed entries in the viewport, grouped into cells a few dozen to the view across."""
    prefix = func.substr(Entry.cell, 1, geo.cluster_precision(south, west, north, east))
    rows = db.session.execute(
        select(func.count(), func.avg(Entry.lat), func.avg(Entry.lng), func.min(Entry.id))
        .where(*_placed(call), *_in_box(south, west, north, east)).group_by(prefix)).all()
    singles = {r[3] for r in rows if r[0] == 1}
    titles = dict(db.session.execute(select(Entry.id, Entry.title).where(Entry.id.in_(singles))).all()) \
        if singles else {}
    return [Cluster(lat=round(r[1], 5), lng=round(r[2], 5), count=r[0],
                    entry_id=r[3] if r[0] == 1 else None, title=titles.get(r[3], "") if r[0] == 1 else "")
            for r in rows]


def walk_minutes(minutes: int | None) -> int:
    """The minutes asked, within 1 and MAX_MINUTES; the configured default when none."""
    if minutes is None:
        return current_app.config["WALK_MINUTES"]
    return max(1, min(MAX_MINUTES, minutes))


def near(call: Call, lat: float, lng: float, minutes: int | None = None) -> Walk:
    """The call's public entries within `minutes` of walking (as the crow flies at the configured pace) of the
    point, nearest first, each with its distance."""
    minutes = walk_minutes(minutes)
    radius = geo.walk_radius_m(minutes, current_app.config["WALK_METRES_PER_MINUTE"])
    # The box's points as bare numbers first (a dense centre holds thousands); only the nearest become objects.
    points = db.session.execute(
        select(Entry.id, Entry.lat, Entry.lng).where(*_placed(call), *_in_box(*geo.bounding_box(lat, lng, radius)))
    ).all()
    found = sorted((geo.haversine_m(lat, lng, p.lat, p.lng), p.id) for p in points)
    within = [(distance, entry_id) for distance, entry_id in found if distance <= radius]
    nearest = within[:NEAR_LIMIT]
    loaded = {e.id: e for e in db.session.scalars(
        select(Entry).where(Entry.id.in_([entry_id for _, entry_id in nearest]))
        .options(load_only(Entry.id, Entry.title, Entry.lat, Entry.lng, Entry.address)))} if nearest else {}
    entries = [Nearby(loaded[entry_id], distance) for distance, entry_id in nearest]
    return Walk(lat, lng, minutes, radius, entries, len(within) > NEAR_LIMIT)


def district_counts(call: Call) -> dict[str, int]:
    """The call's public entries per district (by the district name of the outlines), for the map's shading:
    an entry placed in a street or community counts for the district above it."""
    counts: dict[str, int] = {}
    rows = db.session.execute(select(Entry.place_id, func.count()).where(
        Entry.call_id == call.id, Entry.place_id.is_not(None), *public_entries()).group_by(Entry.place_id)).all()
    if not rows:
        return counts
    departments = {d.id: d for d in db.session.scalars(select(Department))}
    for place_id, n in rows:
        node = departments.get(place_id)
        while node is not None and node.kind is not DepartmentKind.DISTRICT:
            node = departments.get(node.parent_id)
        if node is not None:
            counts[node.name] = counts.get(node.name, 0) + n
    return counts


def feature(entry: Entry, distance_m: float | None = None) -> dict:
    """An entry as a GeoJSON feature (coordinates longitude first, WGS-84)."""
    properties = {"id": entry.id, "title": entry.title, "address": entry.address,
                  "url": external_url("public.entry", entry_id=entry.id)}
    if distance_m is not None:
        properties["distance_m"] = round(distance_m)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [entry.lng, entry.lat]},
            "properties": properties}


def cluster_feature(cluster: Cluster) -> dict:
    properties = {"count": cluster.count}
    if cluster.entry_id is not None:
        properties |= {"id": cluster.entry_id, "title": cluster.title,
                       "url": external_url("public.entry", entry_id=cluster.entry_id)}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [cluster.lng, cluster.lat]},
            "properties": properties}


def placed_entries(call: Call):
    """The statement of the call's public placed entries, newest first (the API pages it)."""
    return select(Entry).where(*_placed(call)).order_by(Entry.id.desc())
