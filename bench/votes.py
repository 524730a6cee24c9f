"""Benchmark: the public vote endpoint under gunicorn on PostgreSQL, against a bare INSERT route.

A fresh PostgreSQL database is made by the migrations and filled with one open call, 200 approved entries and
a public round in votes mode. The app is served by gunicorn (2 workers, 4 threads each) from
bench/_votes_app.py: the site's app with the vote rate limits raised (through create_app: they have no
environment variable) plus a bare route that only this benchmark registers, doing one
`INSERT ... ON CONFLICT DO NOTHING` on the vote table and a commit.

16 concurrent clients then send a fixed number of vote POSTs (CSRF token, session cookie, 302 counted as
success), each client voting in turn for 3 accounts of its own; every account sends 50 votes: 46 distinct
entries and 4 double clicks (the entry just voted for, sent again, three of them before the quota is used
up), with a quota of 44, so the run crosses all three paths: counted (88 %), already voted (8 %) and refused
over the quota (4 %). What each response told its voter is read from its redirect (or from the flash in
its session cookie). The same requests go to the bare route, once before and once after the app (on
rounds of their own, so each starts from the same table state), and their mean is the floor.

Prints votes per second for both, the ratio (target >= 0.5), duplicates in the vote table (must be 0), 5xx
responses (must be 0), quota violations (must be 0), accounts whose used allowance differs from their votes
(must be 0) and responses that told the voter something else than expected; ends with one line of JSON:
{"bench": "votes", "ratio": ..., "duplicates": ..., "errors_5xx": ..., ...}.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import timedelta  # noqa: E402

import psycopg  # noqa: E402
import psycopg.conninfo  # noqa: E402
import requests  # noqa: E402

SERVER_URL = os.environ.get("CONTEST_BENCH_POSTGRES", "host=127.0.0.1 port=5432 dbname=test")
SQLALCHEMY_BASE = os.environ.get("CONTEST_BENCH_SQLALCHEMY_BASE", "postgresql+psycopg://127.0.0.1:5432")
VENV_BIN = Path(sys.executable).parent
WORKERS, THREADS = 2, 4
CLIENTS = 16
VOTERS_PER_CLIENT = 3
VOTES_PER_VOTER = 50  # requests each account sends
DOUBLE_CLICK_EVERY = 12  # every 12th request repeats the one before it: 4 repeats, 46 distinct entries
QUOTA = 44  # votes_per_citizen: 44 counted, 4 already voted, the last 2 distinct entries refused
ENTRIES = 200
STEP = 7  # entry order of an account (coprime to ENTRIES: 46 steps never meet an entry twice)
TARGET_RATIO = 0.5
WARM_UPS = 40  # untimed requests per client to the bare route first (its own round), after the logins
PASSWORD = "bench password 123"
REQUESTS = CLIENTS * VOTERS_PER_CLIENT * VOTES_PER_VOTER
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# The database ------------------------------------------------------------------------------------------

def create_database() -> str:
    name = f"contest_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(url: str, folder: str) -> dict:
    """Migrate, then one open call with ENTRIES approved entries (separate authors), the rounds, the voters."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from contest import create_app
    from contest.extensions import db
    from contest.models import (
        Call,
        CallKind,
        Channel,
        Department,
        DepartmentKind,
        Entry,
        EntryStatus,
        ParticipantGroup,
        PublicMode,
        Round,
        RoundKind,
        User,
    )
    from contest.models.types import utcnow
    from contest.services.accounts import hash_password
    from contest.services.counts import recount

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_DIR": folder,
                      "MAIL_BACKEND": "log", "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade()
        now = utcnow()
        department = Department(name="上海市规划和自然资源局", kind=DepartmentKind.AGENCY)
        opened = now - timedelta(days=2)

        def new_call(title: str) -> Call:
            call = Call(kind=CallKind.DESIGN, title=title, department=department, opens_at=opened,
                        closes_at=now + timedelta(days=30), published_at=opened, summary="为城市道路栏杆设计新图案。",
                        brief="## 要求\n\n请设计。", image_formats=["JPEG", "PNG"], entries_per_person=1)
            db.session.add(call)
            return call

        call, floor_call = new_call("道路栏杆请您绘"), new_call("bench floor")
        db.session.flush()

        def user(email: str, name: str, password_hash: str, days_old: int) -> dict:
            created = now - timedelta(days=days_old)
            return {"email": email, "password_hash": password_hash, "display_name": name,
                    "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": False, "created_at": created,
                    "email_confirmed_at": created, "session_token": secrets.token_urlsafe(24)}

        author_ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
            user(f"entrant{n}@example.org", f"参赛者{n}", "bench-not-a-real-hash", 5) for n in range(ENTRIES)]))
        entry_ids = list(db.session.scalars(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), [
            {"call_id": call.id, "author_id": author_id, "slot": 1, "channel": Channel.WEB,
             "status": EntryStatus.APPROVED, "title": f"海派栏杆 第{n + 1}号", "description": "以石库门纹样为灵感。",
             "licence_accepted_at": now, "created_at": now, "updated_at": now, "moderated_at": now,
             "rejection_reason": ""} for n, author_id in enumerate(author_ids)]))
        recount(db.session.connection(), [call.id])  # past the session: count them as its hook would
        voter_hash = hash_password(PASSWORD)
        voters = CLIENTS * VOTERS_PER_CLIENT
        voter_rows = [user(f"voter{n}@example.org", f"投票人{n}", voter_hash, 3) for n in range(voters + 1)]
        voter_ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True),
                                            voter_rows))

        def public_round(of: Call, position: int, title: str) -> Round:
            round_ = Round(call=of, position=position, kind=RoundKind.PUBLIC, title=title,
                           opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=7),
                           public_mode=PublicMode.VOTES, votes_per_citizen=QUOTA, min_account_age_hours=0,
                           hide_counts=True, jurors_per_entry=0)
            db.session.add(round_)
            return round_

        # The vote endpoint's round is the call's only round; the bare route writes to rounds of another call
        # (it checks nothing, so they need no entries of their own), one per floor run and one for warming up.
        vote_round = public_round(call, 1, "公众评选")
        floor_rounds = [public_round(floor_call, n + 1, f"floor {n}") for n in range(3)]
        db.session.commit()
        ids = {"call": call.id, "round": vote_round.id, "floor_rounds": [r.id for r in floor_rounds],
               "entries": entry_ids, "voters": voter_ids[:voters], "spare_voter": voter_ids[voters]}
        db.engine.dispose()
    return ids


# The server --------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, folder: str, secret: str, port: int) -> tuple[subprocess.Popen, Path]:
    log = Path(folder) / "gunicorn.log"
    env = dict(os.environ, CONTEST_BENCH="votes", CONTEST_DATABASE_URL=url, CONTEST_SECRET_KEY=secret,
               CONTEST_MAIL_BACKEND="log", CONTEST_UPLOAD_DIR=folder, CONTEST_REDIS_URL="", CONTEST_ENV="development")
    # --capture-output: the app's own log (the traceback of a 500) goes to the log file, which is shown at the end.
    command = [str(VENV_BIN / "gunicorn"), "--workers", str(WORKERS), "--threads", str(THREADS),
               "--bind", f"127.0.0.1:{port}", "--pythonpath", f"{ROOT},{ROOT / 'bench'}",
               "--log-level", "warning", "--error-logfile", str(log), "--capture-output", "_votes_app:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(base + "/account/login", timeout=2).status_code == 200:
                # Both workers should be up: a few more requests give each a chance to answer one.
                for _ in range(4):
                    requests.get(base + "/account/login", timeout=5)
                return process, log
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in 60 s:\n{log.read_text()[-3000:]}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The clients -------------------------------------------------------------------------------------------

class Tally:
    """Responses of one phase, gathered from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.cookies: list[tuple[str, str]] = []  # (Location, session cookie) of each vote response
        self.inserted = 0
        self.failures: list[str] = []

    def add(self, statuses: Counter, latencies: list[float], cookies: list[tuple[str, str]], inserted: int) -> None:
        with self.lock:
            self.statuses.update(statuses)
            self.latencies.extend(latencies)
            self.cookies.extend(cookies)
            self.inserted += inserted

    @property
    def errors_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def errors_4xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if 400 <= status < 500)


def log_in(base: str, email: str, round_id: int) -> tuple[str, str]:
    """Log in as a browser does; return the session cookie of a logged-in page (it holds the CSRF secret)
    and the CSRF token of that page's forms."""
    with requests.Session() as browser:
        page = browser.get(base + "/account/login", timeout=30)
        token = CSRF_RE.search(page.text).group(1)
        answer = browser.post(base + "/account/login", data={"csrf_token": token, "email": email,
                                                              "password": PASSWORD},
                              allow_redirects=False, timeout=30)
        if answer.status_code != 302:
            raise RuntimeError(f"login of {email} answered {answer.status_code}")
        # The round page: a warm-up, and it shows the flash of the login and puts a CSRF token in the session.
        page = browser.get(f"{base}/rounds/{round_id}", timeout=30)
        if page.status_code != 200:
            raise RuntimeError(f"the round page answered {page.status_code}")
        match = CSRF_RE.search(page.text)
        if not match:
            raise RuntimeError("no CSRF token on the round page")
        return browser.cookies.get("session"), match.group(1)


def voter_sequence() -> list[int]:
    """Which of its distinct entries an account votes for at each request: 0, 1, ... with double clicks."""
    sequence, k = [], 0
    for i in range(VOTES_PER_VOTER):
        if i % DOUBLE_CLICK_EVERY == DOUBLE_CLICK_EVERY - 1:
            sequence.append(sequence[-1])
        else:
            sequence.append(k)
            k += 1
    return sequence


SEQUENCE = voter_sequence()
DISTINCT_PER_VOTER = len(set(SEQUENCE))
REPEATS = VOTES_PER_VOTER - DISTINCT_PER_VOTER


def entry_for(entries: list[int], client: int, voter: int, i: int) -> int:
    """The entry of an account's i-th request, shifted per account so entries are shared unevenly."""
    offset = (client * VOTERS_PER_CLIENT + voter) * 3
    return entries[(offset + SEQUENCE[i] * STEP) % len(entries)]


def run_phase(requests_for_client, threads: int = CLIENTS) -> tuple[float, Tally]:
    """Start `threads` clients together; each sends its list of (url, data, headers); returns wall seconds."""
    tally = Tally()
    ready = threading.Barrier(threads + 1)

    def client(n: int) -> None:
        plan = requests_for_client(n)
        statuses, latencies, cookies, inserted = Counter(), [], [], 0
        with requests.Session() as session:
            try:
                ready.wait()
                for url, data, headers in plan:
                    session.cookies.clear()  # only the cookie given: flashes must not pile up in it
                    started = time.perf_counter()
                    try:
                        response = session.post(url, data=data, headers=headers, allow_redirects=False, timeout=60)
                    except requests.RequestException as error:
                        statuses[599] += 1  # no answer at all counts as a server error
                        tally.failures.append(repr(error))
                        continue
                    latencies.append(time.perf_counter() - started)
                    statuses[response.status_code] += 1
                    if response.status_code == 302:
                        cookies.append((response.headers.get("Location", ""),
                                        response.cookies.get("session") or ""))
                    elif response.status_code == 204:
                        inserted += int(response.headers.get("X-Inserted", "0"))
                    elif len(tally.failures) < 5:
                        tally.failures.append(f"{response.status_code} {url}: {response.text[:300]}")
            finally:
                tally.add(statuses, latencies, cookies, inserted)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, tally


def floor_plan(base: str, round_id: int, ids: dict):
    def plan(n: int):
        out = []
        for i in range(VOTES_PER_VOTER):
            for v in range(VOTERS_PER_CLIENT):
                user_id = ids["voters"][n * VOTERS_PER_CLIENT + v]
                out.append((f"{base}/_bench/insert/{round_id}/{entry_for(ids['entries'], n, v, i)}/{user_id}",
                            None, None))
        return out
    return plan


def vote_plan(base: str, ids: dict, sessions: dict):
    def plan(n: int):
        out = []
        for i in range(VOTES_PER_VOTER):
            for v in range(VOTERS_PER_CLIENT):
                cookie, token = sessions[n * VOTERS_PER_CLIENT + v]
                entry = entry_for(ids["entries"], n, v, i)
                out.append((f"{base}/rounds/{ids['round']}/votes/{entry}", {"csrf_token": token},
                            {"Cookie": f"session={cookie}"}))
        return out
    return plan


def flash_kinds(cookies: list[tuple[str, str]], secret: str) -> Counter:
    """What each vote response told its voter: counted (success), already voted (info), refused (error).

    Counted and already-voted travel in the redirect's address (`outcome=`); refusals in a flash."""
    from flask import Flask

    reader = Flask("bench-cookie-reader")
    reader.secret_key = secret
    serializer = reader.session_interface.get_signing_serializer(reader)
    kinds = Counter()
    for location, cookie in cookies:
        if "outcome=counted" in location:
            kinds["success"] += 1
            continue
        if "outcome=already" in location:
            kinds["info"] += 1
            continue
        try:
            flashes = serializer.loads(cookie).get("_flashes", []) if cookie else []
        except Exception:  # noqa: BLE001  (a cookie that does not read is reported, not fatal)
            kinds["unreadable"] += 1
            continue
        if not flashes:
            kinds["none"] += 1
        for category, _message in flashes:
            kinds[category] += 1
    return kinds


# Checks in the database --------------------------------------------------------------------------------

def database_checks(dbname: str, ids: dict) -> dict:
    with psycopg.connect(psycopg.conninfo.make_conninfo(SERVER_URL, dbname=dbname)) as connection:
        duplicates = connection.execute(
            "SELECT count(*) FROM (SELECT round_id, user_id, entry_id FROM vote GROUP BY 1, 2, 3 "
            "HAVING count(*) > 1) AS d").fetchone()[0]
        votes = dict(connection.execute(
            "SELECT user_id, count(*) FROM vote WHERE round_id = %s GROUP BY user_id", (ids["round"],)).fetchall())
        used = dict(connection.execute(
            "SELECT user_id, used FROM vote_allowance WHERE round_id = %s", (ids["round"],)).fetchall())
        floor_rows = dict(connection.execute(
            "SELECT round_id, count(*) FROM vote WHERE round_id = ANY(%s) GROUP BY round_id",
            (ids["floor_rounds"],)).fetchall())
    violations = sum(1 for user_id in ids["voters"] if votes.get(user_id, 0) > QUOTA or used.get(user_id, 0) > QUOTA)
    mismatches = sum(1 for user_id in ids["voters"] if votes.get(user_id, 0) != used.get(user_id, 0))
    return {"duplicates": duplicates, "quota_violations": violations, "allowance_mismatches": mismatches,
            "app_votes": sum(votes.values()), "allowance_used": sum(used.values()),
            "max_votes_per_voter": max(votes.values(), default=0), "floor_rows": floor_rows}


def statements_per_request(url: str, folder: str, secret: str, ids: dict) -> dict:
    """SQL statements one request takes: a new vote and the same vote again on the vote endpoint (in-process,
    CSRF off, logged in through the session), and the bare route, all in the bench app itself."""
    import importlib.util

    from sqlalchemy import event

    os.environ.update(CONTEST_BENCH="votes", CONTEST_DATABASE_URL=url, CONTEST_SECRET_KEY=secret,
                      CONTEST_UPLOAD_DIR=folder, CONTEST_MAIL_BACKEND="log", CONTEST_REDIS_URL="")
    spec = importlib.util.spec_from_file_location("_votes_app_check", ROOT / "bench" / "_votes_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.app
    app.config["WTF_CSRF_ENABLED"] = False

    from contest.extensions import db
    from contest.models import User

    counts = {}
    with app.app_context():
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = db.session.get(User, ids["spare_voter"]).get_id()
            session["_fresh"] = True
        db.session.remove()
        entry = ids["entries"][-1]
        for label in ("app_new_vote", "app_same_vote_again"):
            statements.clear()
            response = client.post(f"/rounds/{ids['round']}/votes/{entry}")
            if response.status_code != 302:
                raise RuntimeError(f"in-process vote answered {response.status_code}")
            counts[label] = len(statements)
        statements.clear()
        response = client.post(f"/_bench/insert/{ids['floor_rounds'][2]}/{entry}/{ids['spare_voter']}")
        if response.status_code != 204:
            raise RuntimeError(f"in-process bare insert answered {response.status_code}")
        counts["bare_insert"] = len(statements)
        db.engine.dispose()
    return counts


# The run -----------------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def describe(label: str, seconds: float, tally: Tally) -> float:
    rps = REQUESTS / seconds
    print(f"{label:34}{rps:>9.0f}/s  {seconds:6.2f} s  p50 {percentile(tally.latencies, 50) * 1000:6.1f} ms"
          f"  p95 {percentile(tally.latencies, 95) * 1000:6.1f} ms  statuses {dict(sorted(tally.statuses.items()))}")
    return rps


def main() -> None:
    started_all = time.perf_counter()
    secret = secrets.token_urlsafe(32)
    dbname = create_database()
    url = f"{SQLALCHEMY_BASE}/{dbname}"
    process = None
    failed = False
    try:
        with tempfile.TemporaryDirectory(prefix="contest-bench-votes-") as folder:
            started = time.perf_counter()
            ids = fill(url, folder)
            print(f"database {dbname}: migrated and filled ({ENTRIES} approved entries, "
                  f"{len(ids['voters'])} voters, quota {QUOTA}) in {time.perf_counter() - started:.1f} s")
            port = free_port()
            process, log = start_gunicorn(url, folder, secret, port)
            base = f"http://127.0.0.1:{port}"
            print(f"gunicorn: {WORKERS} workers x {THREADS} threads on {base} (bench/_votes_app.py, vote limits "
                  f"raised to 100000/minute through create_app)")

            started = time.perf_counter()
            sessions: dict[int, tuple[str, str]] = {}
            lock = threading.Lock()

            def log_in_some(n: int) -> None:
                for v in range(VOTERS_PER_CLIENT):
                    index = n * VOTERS_PER_CLIENT + v
                    result = log_in(base, f"voter{index}@example.org", ids["round"])
                    with lock:
                        sessions[index] = result

            logins = [threading.Thread(target=log_in_some, args=(n,)) for n in range(CLIENTS)]
            for t in logins:
                t.start()
            for t in logins:
                t.join()
            if len(sessions) != len(ids["voters"]):
                raise RuntimeError(f"only {len(sessions)} of {len(ids['voters'])} voters logged in")
            print(f"{len(sessions)} voters logged in (and saw the round page) in {time.perf_counter() - started:.1f} s")

            # Warm the bare route too (its own round), so neither side pays first-request costs in the timing.
            run_phase(lambda n: floor_plan(base, ids["floor_rounds"][2], ids)(n)[:WARM_UPS])

            print(f"\n{REQUESTS} POSTs per run from {CLIENTS} clients "
                  f"({VOTERS_PER_CLIENT} accounts each, {VOTES_PER_VOTER} votes per account):")
            floor_1_s, floor_1 = run_phase(floor_plan(base, ids["floor_rounds"][0], ids))
            app_s, app = run_phase(vote_plan(base, ids, sessions))
            floor_2_s, floor_2 = run_phase(floor_plan(base, ids["floor_rounds"][1], ids))
            floor_1_rps = describe("bare INSERT route, before", floor_1_s, floor_1)
            app_rps = describe("vote endpoint (POST, 302)", app_s, app)
            floor_2_rps = describe("bare INSERT route, after", floor_2_s, floor_2)
            bare_rps = (floor_1_rps + floor_2_rps) / 2
            ratio = app_rps / bare_rps

            stop_gunicorn(process)
            server_log = log.read_text() if log.exists() else ""
            kinds = flash_kinds(app.cookies, secret)
            checks = database_checks(dbname, ids)
            errors_5xx = app.errors_5xx + floor_1.errors_5xx + floor_2.errors_5xx
            errors_4xx = app.errors_4xx + floor_1.errors_4xx + floor_2.errors_4xx
            try:
                per_request = statements_per_request(url, folder, secret, ids)
            except Exception as error:  # noqa: BLE001  (a diagnostic only)
                per_request = {"error": repr(error)}

            voters = len(ids["voters"])
            expected = {"success": voters * min(QUOTA, DISTINCT_PER_VOTER),
                        "error": voters * max(0, DISTINCT_PER_VOTER - QUOTA), "info": voters * REPEATS}
            mis_told = sum(max(0, expected[k] - kinds[k]) for k in expected)
            print(f"\nratio vote endpoint / bare route: {ratio:.3f} (target: at least {TARGET_RATIO}); "
                  f"bare route mean {bare_rps:.0f}/s")
            print(f"what the voters were told: counted {kinds['success']} (expected {expected['success']}), "
                  f"refused over the quota {kinds['error']} (expected {expected['error']}), already voted "
                  f"{kinds['info']} (expected {expected['info']})"
                  + (f", other {sum(v for k, v in kinds.items() if k not in expected)}"
                     if set(kinds) - set(expected) else ""))
            if mis_told:
                print(f"TOLD WRONGLY: {mis_told} vote responses said something else than expected")
            print(f"vote rows in the round: {checks['app_votes']} (most per voter {checks['max_votes_per_voter']}, "
                  f"quota {QUOTA}); allowance used in all: {checks['allowance_used']}; bare route rows per run: "
                  f"{[checks['floor_rows'].get(r, 0) for r in ids['floor_rounds'][:2]]} "
                  f"(its responses said {floor_1.inserted} and {floor_2.inserted} inserted)")
            print(f"duplicates in the vote table: {checks['duplicates']} (must be 0); 5xx responses: {errors_5xx} "
                  f"(must be 0); 4xx responses: {errors_4xx}; voters past their quota: "
                  f"{checks['quota_violations']} (must be 0); voters whose used allowance differs from their "
                  f"votes: {checks['allowance_mismatches']} (must be 0)")
            print(f"SQL statements per request (in-process count): {per_request}")
            for failure in (app.failures + floor_1.failures + floor_2.failures)[:5]:
                print(f"  failure: {failure}")
            if "Traceback" in server_log:
                print("gunicorn log has tracebacks; its end:\n" + server_log[-2000:])
            if ratio < TARGET_RATIO:
                print(f"BELOW TARGET: the vote endpoint reaches {ratio:.2f}x the bare route (target {TARGET_RATIO}x)")
            print(json.dumps({
                "bench": "votes", "ratio": round(ratio, 3), "app_rps": round(app_rps, 1),
                "bare_rps": round(bare_rps, 1),
                "bare_rps_before": round(floor_1_rps, 1), "bare_rps_after": round(floor_2_rps, 1),
                "duplicates": checks["duplicates"], "errors_5xx": errors_5xx, "errors_4xx": errors_4xx,
                "quota_violations": checks["quota_violations"],
                "allowance_mismatches": checks["allowance_mismatches"], "mis_told": mis_told,
                "requests": REQUESTS, "clients": CLIENTS,
                "voters": voters, "counted": kinds["success"], "refused_quota": kinds["error"],
                "already_voted": kinds["info"], "app_p50_ms": round(percentile(app.latencies, 50) * 1000, 1),
                "app_p95_ms": round(percentile(app.latencies, 95) * 1000, 1),
                "bare_p50_ms": round(percentile(floor_1.latencies + floor_2.latencies, 50) * 1000, 1),
                "statements_per_request": per_request, "workers": WORKERS, "threads": THREADS,
                "seconds_total": round(time.perf_counter() - started_all, 1),
            }, ensure_ascii=False))
            # Wrong answers fail the run (exit status 1); a slow one is reported, like the other benchmarks.
            failed = bool(checks["duplicates"] or errors_5xx or checks["quota_violations"]
                          or checks["allowance_mismatches"] or mis_told)
    finally:
        if process is not None:
            stop_gunicorn(process)
        drop_database(dbname)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
