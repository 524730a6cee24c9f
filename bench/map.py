"""Benchmark: the call's map at city size on PostgreSQL. 160,000 placed ideas in one call against 100 in
another, both in the same database: a viewport of the whole city, one of a street, and the 15-minute walk, each
timed through the API (median of many requests) and compared to the same request on the small call; and the
bytes the whole-city view sends. Ends with one line of JSON."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402

import flask_migrate  # noqa: E402
from sqlalchemy import create_engine, insert, make_url, text  # noqa: E402

from contest import create_app  # noqa: E402
from contest.extensions import db  # noqa: E402
from contest.geo import geohash  # noqa: E402
from contest.models import Call, CallKind, Channel, Department, DepartmentKind, Entry, EntryStatus  # noqa: E402
from contest.models.types import utcnow  # noqa: E402
from contest.services.counts import recount  # noqa: E402
from contest.services.map import rebuild_cells  # noqa: E402

SERVER = os.environ.get("CONTEST_BENCH_SQLALCHEMY_URL", "postgresql+psycopg://127.0.0.1:5432/test")
BIG, SMALL = 160_000, 100
TIMED, WARM_UPS = 60, 5
CITY_BOX = "30.65,120.85,31.9,122.0"
STREET_BOX = "31.183,121.430,31.193,121.443"  # about 1 km by 1.2 km around Xujiahui
CENTRE = "31.1886,121.4368"
TARGET_RATIO, TARGET_KB = 3.0, 50


def make_call(department: Department, title: str) -> Call:
    now = utcnow()
    call = Call(kind=CallKind.IDEA, title=title, department=department, opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=30), published_at=now - timedelta(days=1), summary="。",
                brief="。", licence_text="CC BY 4.0", originality_text="。", image_formats=["JPEG"],
                images_min=0, images_max=3, image_max_mb=5, entries_per_person=1)
    db.session.add(call)
    db.session.flush()
    return call


def fill(call: Call, count: int, rng: random.Random) -> None:
    """Placed, approved ideas, most in the central districts, written in bulk."""
    now = utcnow()
    batch = []
    for n in range(count):
        if rng.random() < 0.7:  # the dense centre
            lat, lng = rng.gauss(31.22, 0.06), rng.gauss(121.47, 0.07)
        else:
            lat, lng = rng.uniform(30.7, 31.85), rng.uniform(120.9, 121.95)
        batch.append({"call_id": call.id, "channel": Channel.WEB, "status": EntryStatus.APPROVED,
                      "title": f"想法 {n}", "description": "", "address": "", "lat": lat, "lng": lng,
                      "cell": geohash(lat, lng), "created_at": now, "updated_at": now, "rejection_reason": "",
                      "merge_reason": "", "author_name": ""})
        if len(batch) == 10_000:
            db.session.execute(insert(Entry), batch)
            batch = []
    if batch:
        db.session.execute(insert(Entry), batch)
    recount(db.session.connection(), [call.id])  # past the session: count them as its hook would


def median_ms(client, big_url: str, small_url: str) -> tuple[float, float, int]:
    """The medians of the two requests, timed in turn (on a shared machine a burst of load falls on both alike),
    and the bytes of the first."""
    for _ in range(WARM_UPS):
        client.get(big_url)
        client.get(small_url)
    times: dict[str, list[float]] = {big_url: [], small_url: []}
    size = 0
    for _ in range(TIMED):
        for url in (big_url, small_url):
            started = time.perf_counter()
            response = client.get(url)
            times[url].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            if url == big_url:
                size = len(response.get_data())
    return statistics.median(times[big_url]), statistics.median(times[small_url]), size


def run() -> dict:
    server = make_url(SERVER)
    name = f"contest_bench_map_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = create_app({"SQLALCHEMY_DATABASE_URI": server.set(database=name).render_as_string(False),
                              "SECRET_KEY": "bench-secret", "TESTING": True, "UPLOAD_DIR": folder,
                              "MAIL_BACKEND": "log", "RATELIMIT_ENABLED": False})
            with app.app_context():
                flask_migrate.upgrade()
                department = Department(name="上海市规划和自然资源局", kind=DepartmentKind.AGENCY)
                db.session.add(department)
                db.session.flush()
                rng = random.Random(19)
                started = time.perf_counter()
                big, small = make_call(department, "城市规模"), make_call(department, "一百条")
                fill(big, BIG, rng)
                fill(small, SMALL, rng)
                db.session.commit()
                ids = big.id, small.id
                db.session.remove()
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE entry"))  # as autovacuum would: index-only reads
                # Written in bulk past the session: their cells are counted once, as the migration does.
                with db.engine.begin() as connection:
                    rebuild_cells(connection, ids)
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE map_cell"))
                filled = time.perf_counter() - started
            client = app.test_client()
            figures = {}
            for label, tail in (("city_view", f"clusters.geojson?bbox={CITY_BOX}"),
                                ("street_view", f"clusters.geojson?bbox={STREET_BOX}"),
                                ("walk_15_min", f"entries.geojson?near={CENTRE}&minutes=15")):
                big_ms, small_ms, big_bytes = median_ms(client, f"/api/v1/calls/{ids[0]}/{tail}",
                                                        f"/api/v1/calls/{ids[1]}/{tail}")
                figures[label] = {"ms": round(big_ms, 2), "baseline_ms": round(small_ms, 2),
                                  "ratio": round(big_ms / small_ms, 2), "bytes": big_bytes}
                print(f"{label:12} {big_ms:8.2f} ms with {BIG:,} ideas, {small_ms:6.2f} ms with {SMALL}: "
                      f"{big_ms / small_ms:5.2f}x, {big_bytes:,} bytes")
            print(f"filled {BIG + SMALL:,} ideas in {filled:.1f} s")
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    worst = max(f["ratio"] for f in figures.values())
    city_kb = round(figures["city_view"]["bytes"] / 1024, 1)
    print(f"worst ratio {worst}x (target <= {TARGET_RATIO}x); whole-city view {city_kb} KB (target <= {TARGET_KB} KB)")
    return {"bench": "map", "worst_ratio": worst, "city_view_kb": city_kb, "ideas": BIG, "baseline_ideas": SMALL,
            **{f"{k}_ms": v["ms"] for k, v in figures.items()},
            **{f"{k}_ratio": v["ratio"] for k, v in figures.items()}}


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__).parse_args()
    print(json.dumps(run()))
