"""The call's map: public entries placed by a point, clustered per viewport, within a walk of a point, as GeoJSON.

Every query reads through an index: a wide viewport (a cell of 4 to 6 geohash characters or more across it)
reads the counts per cell of the map_cell table, kept in step with the entries by a session hook below; a
narrow one groups the entries in the box by a prefix of their cell, and a walk reads its box by (call_id,
lat). Nothing scans a call's entries outside the box."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Row, delete, event, func, insert, inspect, literal, select, text
from sqlalchemy.orm import Session, joinedload, load_only

from contest import geo
from contest.database import insert_rows
from contest.extensions import db
from contest.links import external_url, url_adapter
from contest.models import Call, Department, DepartmentKind, Entry, EntryStatus, FollowUp, MapCell
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
    entry: Row  # an entry's id, title, lat, lng and address
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
    built: list[NearbyBuilt] = field(default_factory=list)  # the follow-ups' built objects within it, nearest first


@dataclass(frozen=True)
class NearbyBuilt:
    follow_up: FollowUp
    distance_m: float


def _placed(call: Call):
    # The rule is public_entries(); MAP_ROWS repeats its part in literal SQL so that the planner matches the
    # partial map indexes even with bound parameters and prepared (generic) plans.
    return (Entry.call_id == call.id, Entry.lat.is_not(None), *public_entries(), MAP_ROWS)


def _in_box(south: float, west: float, north: float, east: float):
    return (Entry.lat.between(south, north), Entry.lng.between(west, east))


def clusters(call: Call, south: float, west: float, north: float, east: float) -> list[Cluster]:
    """The call's public placed entries in the viewport, grouped into cells a few dozen to the view across: from
    the counted cells when the cells are wide (the whole city reads a few dozen rows), else from the entries."""
    precision = geo.cluster_precision(south, west, north, east)
    if precision <= CELL_LEVELS[-1]:
        level = max(precision, CELL_LEVELS[0])
        prefix = func.substr(MapCell.cell, 1, precision)
        total = func.sum(MapCell.count)
        rows = db.session.execute(
            select(total, func.sum(MapCell.lat * MapCell.count) / total, func.sum(MapCell.lng * MapCell.count) / total,
                   func.min(MapCell.entry_id))
            .where(MapCell.call_id == call.id, MapCell.precision == level, MapCell.lat.between(south, north),
                   MapCell.lng.between(west, east)).group_by(prefix)).all()
    else:
        prefix = func.substr(Entry.cell, 1, precision)
        rows = db.session.execute(
            select(func.count(), func.avg(Entry.lat), func.avg(Entry.lng), func.min(Entry.id))
            .where(*_placed(call), *_in_box(south, west, north, east)).group_by(prefix)).all()
    singles = {r[3] for r in rows if r[0] == 1}
    titles = dict(db.session.execute(select(Entry.id, Entry.title).where(Entry.id.in_(singles))).all()) \
        if singles else {}
    return [Cluster(lat=round(r[1], 5), lng=round(r[2], 5), count=r[0],
                    entry_id=r[3] if r[0] == 1 else None, title=titles.get(r[3], "") if r[0] == 1 else "")
            for r in rows]


# The counted cells -------------------------------------------------------------------------------------------

CELL_LEVELS = (4, 5, 6)  # the cell lengths counted: 20 km, 5 km and 1 km across, about
_COUNTED = "contest_map_cells_changed"
_MAP_FIELDS = ("status", "merged_into_id", "cell", "call_id")


def _children(cell: str) -> list[str]:
    return [cell + c for c in geo.BASE32]


def _refresh(connection, call_id: int, cells: Iterable[str]) -> None:
    """Count these cells of the call again (given at the finest counted level, each with the cells above it),
    from the entries themselves: exact whatever wrote them, and any later change to a cell mends it."""
    finest = sorted({c[:CELL_LEVELS[-1]] for c in cells if c and len(c) >= CELL_LEVELS[-1]})
    if not finest:
        return
    if connection.dialect.name == "postgresql":
        # One writer of a call's counts at a time, its counts read after the previous writer's commit.
        connection.execute(text("SELECT pg_advisory_xact_lock(19, :call)"), {"call": call_id})
    for level in reversed(CELL_LEVELS):
        wanted = sorted({c[:level] for c in finest})
        connection.execute(delete(MapCell).where(MapCell.call_id == call_id, MapCell.cell.in_(wanted)))
        rows = []
        for cell in wanted:
            if level == CELL_LEVELS[-1]:
                row = connection.execute(select(func.count(), func.avg(Entry.lat), func.avg(Entry.lng),
                                                func.min(Entry.id)).where(
                    Entry.call_id == call_id, Entry.cell.in_(_children(cell)), Entry.status == EntryStatus.APPROVED,
                    Entry.merged_into_id.is_(None), Entry.lat.is_not(None), MAP_ROWS)).one()
            else:
                total = func.sum(MapCell.count)
                row = connection.execute(select(total, func.sum(MapCell.lat * MapCell.count) / total,
                                                func.sum(MapCell.lng * MapCell.count) / total,
                                                func.min(MapCell.entry_id)).where(
                    MapCell.call_id == call_id, MapCell.cell.in_(_children(cell)))).one()
            if row[0]:
                rows.append({"call_id": call_id, "cell": cell, "precision": level, "count": row[0], "lat": row[1],
                             "lng": row[2], "entry_id": row[3]})
        if rows:
            insert_rows(connection, MapCell, rows)


def rebuild_cells(connection, call_ids: Iterable[int] | None = None) -> None:
    """Count every cell again, of the calls given or of all, in a statement a level (the migration that made the
    table, and bulk writers such as bench/map.py that insert entries past the session)."""
    ids = list(call_ids) if call_ids is not None else None
    connection.execute(delete(MapCell).where(MapCell.call_id.in_(ids)) if ids is not None else delete(MapCell))
    columns = ("call_id", "cell", "precision", "count", "lat", "lng", "entry_id")
    finest = func.substr(Entry.cell, 1, CELL_LEVELS[-1])
    entries = select(Entry.call_id, finest, literal(CELL_LEVELS[-1]), func.count(), func.avg(Entry.lat),
                     func.avg(Entry.lng), func.min(Entry.id)).where(
        Entry.status == EntryStatus.APPROVED, Entry.merged_into_id.is_(None), Entry.lat.is_not(None),
        Entry.cell.is_not(None)).group_by(Entry.call_id, finest)
    if ids is not None:
        entries = entries.where(Entry.call_id.in_(ids))
    connection.execute(insert(MapCell).from_select(columns, entries))
    for level in reversed(CELL_LEVELS[:-1]):
        prefix, total = func.substr(MapCell.cell, 1, level), func.sum(MapCell.count)
        cells = select(MapCell.call_id, prefix, literal(level), total, func.sum(MapCell.lat * MapCell.count) / total,
                       func.sum(MapCell.lng * MapCell.count) / total, func.min(MapCell.entry_id)).where(
            MapCell.precision == level + 1).group_by(MapCell.call_id, prefix)
        if ids is not None:
            cells = cells.where(MapCell.call_id.in_(ids))
        connection.execute(insert(MapCell).from_select(columns, cells))


def _map_cells(entry: Entry) -> set[tuple[int, str]]:
    """The (call, cell) the entry counts in now and counted in before its changes, where it has a cell."""
    state = inspect(entry)
    now = (entry.call_id, entry.cell)
    before = tuple(state.attrs[name].history.deleted[0] if state.attrs[name].history.deleted else value
                   for name, value in zip(("call_id", "cell"), now, strict=True))
    return {(call_id, cell) for call_id, cell in (now, before) if call_id is not None and cell}


@event.listens_for(Session, "before_flush")
def _note_map_changes(session: Session, flush_context, instances) -> None:
    changed = session.info.setdefault(_COUNTED, set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, Entry):
            continue
        if obj in session.new:
            if obj.status is EntryStatus.APPROVED and obj.cell:
                changed.add((obj.call_id, obj.cell))
        elif obj in session.deleted or any(inspect(obj).attrs[n].history.has_changes() for n in _MAP_FIELDS):
            changed |= _map_cells(obj)


@event.listens_for(Session, "after_flush")
def _count_map_changes(session: Session, flush_context) -> None:
    changed = session.info.pop(_COUNTED, set())
    by_call: dict[int, set[str]] = {}
    for call_id, cell in changed:
        if call_id is not None:
            by_call.setdefault(call_id, set()).add(cell)
    for call_id in sorted(by_call):
        _refresh(session.connection(), call_id, by_call[call_id])


def walk_minutes(minutes: int | None) -> int:
    """The minutes asked, within 1 and MAX_MINUTES; the configured default when none."""
    if minutes is None:
        return current_app.config["WALK_MINUTES"]
    return max(1, min(MAX_MINUTES, minutes))


def near(call: Call, lat: float, lng: float, minutes: int | None = None) -> Walk:
    """The call's public entries within `minutes` of walking (as the crow flies at the configured pace) of the
    point, nearest first, each with its distance; and the built objects of its follow-ups within it."""
    minutes = walk_minutes(minutes)
    radius = geo.walk_radius_m(minutes, current_app.config["WALK_METRES_PER_MINUTE"])
    box = geo.bounding_box(lat, lng, radius)
    # The box's points as bare numbers first (a dense centre holds thousands); only the nearest become objects.
    points = db.session.execute(select(Entry.id, Entry.lat, Entry.lng).where(*_placed(call), *_in_box(*box))).all()
    found = sorted((geo.haversine_m(lat, lng, p.lat, p.lng), p.id) for p in points)
    within = [(distance, entry_id) for distance, entry_id in found if distance <= radius]
    nearest = within[:NEAR_LIMIT]
    # Rows, not objects: the list and the GeoJSON read only these five fields of each.
    loaded = {e.id: e for e in db.session.execute(
        select(Entry.id, Entry.title, Entry.lat, Entry.lng, Entry.address)
        .where(Entry.id.in_([entry_id for _, entry_id in nearest])))} if nearest else {}
    entries = [Nearby(loaded[entry_id], distance) for distance, entry_id in nearest]
    return Walk(lat, lng, minutes, radius, entries, len(within) > NEAR_LIMIT, built_near(call, lat, lng, radius))


def built_near(call: Call, lat: float, lng: float, radius: float) -> list[NearbyBuilt]:
    """The call's public follow-ups whose built object stands within `radius` metres of the point, nearest first."""
    from contest.services.followup import public_follow_ups

    south, west, north, east = geo.bounding_box(lat, lng, radius)
    rows = db.session.scalars(public_follow_ups(call.id).where(
        FollowUp.lat.between(south, north), FollowUp.lng.between(west, east))
        .options(load_only(FollowUp.id, FollowUp.call_id, FollowUp.entry_id, FollowUp.stage, FollowUp.lat,
                           FollowUp.lng, FollowUp.address),
                 joinedload(FollowUp.entry).load_only(Entry.id, Entry.title))).all()
    found = [NearbyBuilt(f, geo.haversine_m(lat, lng, f.lat, f.lng)) for f in rows]
    return sorted((b for b in found if b.distance_m <= radius), key=lambda b: (b.distance_m, b.follow_up.id))


def district_counts(call: Call) -> dict[str, int]:
    """The call's public entries per district (by the district name of the outlines), for the map's shading."""
    return counts_by_district(Entry.call_id == call.id, *public_entries())


def counts_by_district(*conditions) -> dict[str, int]:
    """The entries the conditions select, per district (by the district name of the outlines): an entry placed
    in a street or community counts for the district above it. The call's map and the statistics page shade
    by it."""
    counts: dict[str, int] = {}
    rows = db.session.execute(select(Entry.place_id, func.count()).where(
        Entry.place_id.is_not(None), *conditions).group_by(Entry.place_id)).all()
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


def entry_links() -> Callable[[int], str]:
    """The absolute address of an entry's page by its id, the site's routes bound once for a whole list."""
    adapter = url_adapter()
    return lambda entry_id: adapter.build("public.entry", {"entry_id": entry_id}, force_external=True)


def feature(entry: Entry, distance_m: float | None = None, link: Callable[[int], str] | None = None) -> dict:
    """An entry as a GeoJSON feature (coordinates longitude first, WGS-84)."""
    properties = {"id": entry.id, "title": entry.title, "address": entry.address,
                  "url": (link or entry_links())(entry.id)}
    if distance_m is not None:
        properties["distance_m"] = round(distance_m)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [entry.lng, entry.lat]},
            "properties": properties}


def cluster_feature(cluster: Cluster, link: Callable[[int], str] | None = None) -> dict:
    properties = {"count": cluster.count}
    if cluster.entry_id is not None:
        properties |= {"id": cluster.entry_id, "title": cluster.title,
                       "url": (link or entry_links())(cluster.entry_id)}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [cluster.lng, cluster.lat]},
            "properties": properties}


def placed_built(call: Call) -> list[FollowUp]:
    """The call's public follow-ups whose built object has a point, the latest changed first."""
    from contest.services.followup import public_follow_ups

    return list(db.session.scalars(public_follow_ups(call.id).where(FollowUp.lat.is_not(None))
                                   .options(joinedload(FollowUp.entry).load_only(Entry.id, Entry.title))))


def built_feature(follow_up: FollowUp, distance_m: float | None = None) -> dict:
    """A follow-up's built object as a GeoJSON feature: the adopted entry's title, its stage, its address."""
    properties = {"follow_up_id": follow_up.id, "entry_id": follow_up.entry_id, "title": follow_up.entry.title,
                  "stage": follow_up.stage.value, "address": follow_up.address,
                  "url": external_url("followup.call", call_id=follow_up.call_id,
                                      _anchor=f"entry-{follow_up.entry_id}")}
    if distance_m is not None:
        properties["distance_m"] = round(distance_m)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [follow_up.lng, follow_up.lat]},
            "properties": properties}


def placed_entries(call: Call):
    """The statement of the call's public placed entries, newest first (the API pages it)."""
    return select(Entry).where(*_placed(call)).order_by(Entry.id.desc())
