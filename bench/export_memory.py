"""Benchmark: the peak memory of the entries CSV export and of `flask export-call` (the call's archive), for a call
of 100 entries and one of 160,000 (a city-size call), in the same run.

A fresh PostgreSQL database (created and dropped here) is made by the migrations and filled in bulk with two
idea calls of approved entries with Chinese texts. Each measurement runs in a child process of its own (a fresh
interpreter, so one run's heap does not carry into the next): the CSV export through the site's own route (the
test client reads the streamed answer piece by piece, as a browser does) and the archive through `export_call`,
the function behind `flask export-call`. The child reports its peak resident set size (VmHWM, which starts
afresh at exec) and the bytes written; the parent prints both and the ratio of the large call's peak to the small's.
Written row by row, the peak does not grow with the rows: the ratio stays near 1.

bench/city.py calls `peaks` on the city it builds. `--scale 0.1` divides the large call by ten.
Ends with one line of JSON: {"bench": "export_memory", "csv_ratio": ..., "archive_ratio": ..., ...}.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

LARGE = 160_000
SMALL = 100


def _app(url: str, folder: str):
    from contest import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_DIR": folder,
                       "MAIL_BACKEND": "log", "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://",
                       "WTF_CSRF_ENABLED": False})


def _peak_kb() -> int:
    """This process's peak resident set size: VmHWM, which starts afresh at exec (ru_maxrss would carry the
    parent's peak over from the fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(url: str, folder: str, what: str, call_id: int, admin_email: str) -> None:
    from contest.extensions import db

    app = _app(url, folder)
    began = time.perf_counter()
    size = 0
    with app.app_context():
        if what == "csv":
            from bench.city import PASSWORD

            with app.test_client() as client:
                answer = client.post("/account/login", data={"email": admin_email, "password": PASSWORD})
                assert answer.status_code == 302, answer.status_code
                response = client.get(f"/console/calls/{call_id}/entries.csv", buffered=False)
                assert response.status_code == 200, response.status_code
                for piece in response.response:
                    size += len(piece)
                response.close()
        else:
            from contest.archive import export_call

            output = Path(folder) / f"call-{call_id}.zip"
            export_call(call_id, output)
            db.session.rollback()
            size = output.stat().st_size
            output.unlink()
    print(json.dumps({"peak_kb": _peak_kb(), "bytes": size,
                      "seconds": round(time.perf_counter() - began, 2)}))


def measure(url: str, folder: str, what: str, call_id: int, admin_email: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", url, folder, what, str(call_id), admin_email],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"the {what} export of call {call_id} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def peaks(url: str, folder: str, small_call: int, large_call: int, admin_email: str) -> dict:
    """Peak RSS (MB) of the entries CSV and of the archive for both calls, and the ratios large / small."""
    out = {}
    for what in ("csv", "archive"):
        small = measure(url, folder, what, small_call, admin_email)
        large = measure(url, folder, what, large_call, admin_email)
        out[what] = {"small": small, "large": large, "ratio": large["peak_kb"] / small["peak_kb"]}
    return out


def describe(figures: dict, rows: tuple[int, int]) -> dict:
    summary = {}
    for what, label in (("csv", "entries CSV export"), ("archive", "export-call (the archive)")):
        f = figures[what]
        print(f"{label:28} {rows[0]:>7,} rows: peak RSS {f['small']['peak_kb'] / 1024:6.1f} MB "
              f"({f['small']['seconds']} s); {rows[1]:>7,} rows: {f['large']['peak_kb'] / 1024:6.1f} MB, "
              f"{f['large']['bytes'] / 1e6:.1f} MB written ({f['large']['seconds']} s); ratio {f['ratio']:.2f}")
        summary[f"{what}_ratio"] = round(f["ratio"], 3)
        summary[f"{what}_peak_mb_small"] = round(f["small"]["peak_kb"] / 1024, 1)
        summary[f"{what}_peak_mb_large"] = round(f["large"]["peak_kb"] / 1024, 1)
        summary[f"{what}_seconds_large"] = f["large"]["seconds"]
    return summary


def fill(url: str, folder: str, large: int) -> dict:
    """Two idea calls of approved entries (SMALL and `large`), bulk inserted; an administrator."""
    import random
    import secrets
    from datetime import timedelta

    from flask_migrate import upgrade
    from sqlalchemy import insert

    from bench.city import PASSWORD, idea_text
    from contest.extensions import db
    from contest.models import Call, CallKind, Channel, Department, DepartmentKind, Entry, EntryStatus, User
    from contest.models.types import utcnow
    from contest.services.accounts import hash_password
    from contest.services.counts import recount

    rng = random.Random(18)
    app = _app(url, folder)
    with app.app_context():
        upgrade()
        now = utcnow()
        city = Department(name="上海市", kind=DepartmentKind.AGENCY)
        db.session.add(city)
        db.session.flush()
        db.session.execute(insert(User), {
            "email": "admin@example.org", "password_hash": hash_password(PASSWORD), "display_name": "管理员",
            "group": "citizen", "locale": "zh", "is_admin": True, "created_at": now - timedelta(days=9),
            "email_confirmed_at": now, "session_token": secrets.token_urlsafe(24)})
        authors = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
            {"email": f"citizen{n}@example.org", "password_hash": "x", "display_name": f"市民{n}",
             "group": "citizen", "locale": "zh", "is_admin": False, "created_at": now, "email_confirmed_at": now,
             "session_token": secrets.token_urlsafe(12)} for n in range(5000)]))
        calls = {}
        for name, size in (("small", SMALL), ("large", large)):
            call = Call(kind=CallKind.IDEA, title=f"金点子（{name}）", department=city,
                        opens_at=now - timedelta(days=20), closes_at=now + timedelta(days=30),
                        published_at=now - timedelta(days=20), summary="征集", brief="说明", image_formats=["JPEG"],
                        images_min=0, entries_per_person=size // len(authors) + 1)
            db.session.add(call)
            db.session.flush()
            for start in range(0, size, 20_000):
                rows = []
                for n in range(start, min(size, start + 20_000)):
                    title, description = idea_text(rng, n + 1)
                    rows.append({"call_id": call.id, "author_id": authors[n % len(authors)],
                                 "slot": n // len(authors) + 1, "channel": list(Channel)[n % 6],
                                 "status": EntryStatus.APPROVED, "title": title, "description": description,
                                 "licence_accepted_at": now, "created_at": now, "updated_at": now,
                                 "moderated_at": now, "rejection_reason": ""})
                db.session.execute(insert(Entry), rows)
                recount(db.session.connection(), [call.id])  # past the session: count them as its hook would
            calls[name] = call.id
        db.session.commit()
        db.engine.dispose()
    return calls


def main() -> None:
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
        return
    from bench.votes import SQLALCHEMY_BASE, create_database, drop_database

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the large call (0.1: a tenth)")
    large = int(LARGE * parser.parse_args().scale)
    name = create_database()
    url = f"{SQLALCHEMY_BASE}/{name}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            calls = fill(url, folder, large)
            figures = peaks(url, folder, calls["small"], calls["large"], "admin@example.org")
    finally:
        drop_database(name)
    print(json.dumps({"bench": "export_memory", "rows_small": SMALL, "rows_large": large,
                      **describe(figures, (SMALL, large))}))


if __name__ == "__main__":
    main()
