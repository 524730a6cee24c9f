"""Faults under load, against real gunicorn servers on the suite's database: the database restarting while
citizens vote and send entries, and one of two app servers killed mid-run. Each test prints its figures and
"acknowledged writes lost": writes a server acknowledged minus those found stored afterwards."""
from __future__ import annotations

import re
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.engine import make_url

from contest.extensions import db
from contest.models import Entry, EntryImage, ImageFile, Vote
from tests.helpers import PASSWORD, approved_entries, make_call, make_public_round, make_user, make_voter, picture_bytes
from tests.servers import AppServer, site_environment
from tests.tcp_proxy import TcpProxy

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VOTERS, VOTES_EACH, ENTRANTS, ENTRIES_EACH = 4, 12, 2, 6


# Servers ------------------------------------------------------------------------------------------------------

@pytest.fixture
def start_servers(app_servers, tmp_path):
    """Start gunicorn servers (one worker, four threads each) on a database URL; all share one upload folder."""

    def start(database_url: str, *names: str) -> list[AppServer]:
        env = site_environment(database_url, tmp_path / "uploads")
        return app_servers(env, *names, options=("--workers", "1", "--threads", "4", "--graceful-timeout", "2"))

    return start


# Citizens and their writes -------------------------------------------------------------------------------------

@dataclass
class Write:
    """One vote or one entry a citizen sends, with every answer it got."""
    citizen: Citizen
    kind: str  # "vote" or "entry"
    target: int | str  # the entry voted for, or the title of the entry sent
    answers: list[tuple[str, str, float]] = field(default_factory=list)  # (server, outcome, when)

    @property
    def acknowledged(self) -> bool:
        return any(outcome == "acknowledged" for _, outcome, _ in self.answers)


@dataclass
class Citizen:
    email: str
    session: requests.Session
    token: str  # a CSRF token of the session
    down: set = field(default_factory=set)  # servers this citizen found dead (a load balancer would too)


def log_in(base: str, email: str, page: str) -> Citizen:
    session = requests.Session()
    token = CSRF.search(session.get(base + "/account/login", timeout=30).text).group(1)
    response = session.post(base + "/account/login", data={"csrf_token": token, "email": email,
                                                            "password": PASSWORD}, allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text
    return Citizen(email, session, CSRF.search(session.get(base + page, timeout=30).text).group(1))


IN_FLIGHT: Counter = Counter()  # requests each server is answering now
IN_FLIGHT_LOCK = threading.Lock()


def send(write: Write, server: AppServer, *, round_id: int, call_id: int) -> str:
    """Send the write once; the outcome: acknowledged, already (stored before), refused (503), busy (asked to send
    again), not sent (the connection was refused), unknown (the connection broke: it may or may not have been
    stored), or error (anything else)."""
    citizen = write.citizen
    with IN_FLIGHT_LOCK:
        IN_FLIGHT[server.name] += 1
    try:
        if write.kind == "vote":
            response = citizen.session.post(f"{server.base}/rounds/{round_id}/votes/{write.target}",
                                            data={"csrf_token": citizen.token}, allow_redirects=False, timeout=30)
            location = response.headers.get("Location", "")
            outcome = ("acknowledged" if response.status_code == 302 and "outcome=counted" in location else
                       "already" if response.status_code == 302 and "outcome=already" in location else
                       "busy" if response.status_code == 302 else _failure(response))
        else:
            data = {"csrf_token": citizen.token, "title": write.target, "description": "由测试发送。",
                    "topic_id": "0", "place_id": "0", "accept": "y", "image-1-alt": "一张测试图片"}
            files = {"image-1": ("design.jpg", picture_bytes(zlib.crc32(write.target.encode()) % 1000,
                                                             size=(400, 300)))}
            response = citizen.session.post(f"{server.base}/calls/{call_id}/enter", data=data, files=files,
                                            allow_redirects=False, timeout=30)
            outcome = ("acknowledged" if response.status_code == 302 and
                       response.headers.get("Location", "").endswith("/my/entries") else
                       "busy" if response.status_code == 400 else _failure(response))
    except requests.ConnectionError as error:
        citizen.down.add(server.name)
        outcome = "not sent" if "Connection refused" in str(error) else "unknown"
    finally:
        with IN_FLIGHT_LOCK:
            IN_FLIGHT[server.name] -= 1
    write.answers.append((server.name, outcome, time.monotonic()))
    return outcome


def _failure(response: requests.Response) -> str:
    if response.status_code == 503:
        # (The rate limiter may raise it to the end of its window on limited addresses, never lower it.)
        assert int(response.headers["Retry-After"]) >= 30, "a 503 says when to try again"
        request_id = response.headers["X-Request-ID"]
        assert request_id in response.text, "the 503 page shows the request id a citizen can quote"
        return "refused"
    return f"error {response.status_code}"


def run_citizens(writes_by_citizen: dict[str, list[Write]], pick_server, seconds: float, **ids) -> None:
    """Each citizen sends their writes one after another, spread over `seconds`, in a thread of their own."""
    def work(writes: list[Write]) -> None:
        start = time.monotonic()
        for number, write in enumerate(writes):
            time.sleep(max(0.0, start + number * seconds / len(writes) - time.monotonic()))
            send(write, pick_server(write, number), **ids)

    threads = [threading.Thread(target=work, args=(writes,)) for writes in writes_by_citizen.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class Scene:
    vote_round: int
    entry_call: int
    voters: list[str]
    entrants: list[str]
    entries: list[int]


def set_scene(department, organiser, tag: str) -> Scene:
    vote_call = make_call(department, title=f"投票{tag}")
    entries = approved_entries(vote_call, VOTES_EACH)
    round_ = make_public_round(vote_call, organiser, votes=VOTES_EACH)
    entry_call = make_call(department, title=f"征集{tag}", entries_per_person=2 * ENTRIES_EACH)
    voters = [make_voter(f"voter{n}-{tag}@example.org").email for n in range(VOTERS)]
    entrants = [make_user(f"entrant{n}-{tag}@example.org").email for n in range(ENTRANTS)]
    return Scene(round_.id, entry_call.id, voters, entrants, [e.id for e in entries])


def plan_writes(scene: Scene, citizens: dict[str, Citizen]) -> dict[str, list[Write]]:
    plan = {}
    for n, email in enumerate(scene.voters):
        order = scene.entries[n:] + scene.entries[:n]  # voters reach the same entries at different moments
        plan[email] = [Write(citizens[email], "vote", entry_id) for entry_id in order]
    for email in scene.entrants:
        plan[email] = [Write(citizens[email], "entry", f"{email.split('@')[0]} 设计 {k}") for k in range(ENTRIES_EACH)]
    return plan


def stored_writes(scene: Scene) -> tuple[Counter, Counter]:
    """What the database holds: (voter e-mail, entry id) per vote, (author e-mail, title) per entry, counted."""
    from contest.models import User

    db.session.commit()
    votes = Counter(db.session.execute(
        select(User.email, Vote.entry_id).join(User, User.id == Vote.user_id)
        .where(Vote.round_id == scene.vote_round, Vote.voided_at.is_(None))).all())
    entries = Counter(db.session.execute(
        select(User.email, Entry.title).join(User, User.id == Entry.author_id)
        .where(Entry.call_id == scene.entry_call)).all())
    return votes, entries


def key(write: Write) -> tuple:
    return (write.citizen.email, write.target)


def entries_have_their_files(scene: Scene, upload_dir: Path) -> bool:
    keys = db.session.scalars(select(ImageFile.key).join(EntryImage, EntryImage.image_id == ImageFile.image_id)
                              .join(Entry, Entry.id == EntryImage.entry_id).where(Entry.call_id == scene.entry_call))
    return all((upload_dir / k).is_file() for k in keys)


# The database restarting ----------------------------------------------------------------------------------------

@pytest.mark.postgresql
def test_the_database_restarting_under_load(app, start_servers, transport_commission, transport_organiser,
                                            tmp_path, capsys):
    scene = set_scene(transport_commission, transport_organiser, "db")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        (server,) = start_servers(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                                  "app")
        citizens = {email: log_in(server.base, email, f"/rounds/{scene.vote_round}") for email in scene.voters}
        citizens |= {email: log_in(server.base, email, f"/calls/{scene.entry_call}/enter") for email in scene.entrants}
        plan = plan_writes(scene, citizens)
        writes = [w for ws in plan.values() for w in ws]

        def outage():
            time.sleep(1.2)
            outage.cut_at = time.monotonic()
            proxy.cut()
            time.sleep(1.5)
            proxy.restore()
            outage.restored_at = time.monotonic()

        timeline = threading.Thread(target=outage)
        timeline.start()
        run_citizens(plan, lambda write, number: server, 4.0, round_id=scene.vote_round, call_id=scene.entry_call)
        timeline.join()

        answers = [answer for w in writes for answer in w.answers]
        errors = [(w.kind, w.target, a) for w in writes for a in w.answers if a[1].startswith("error")]
        assert errors == [], "every answer is a success or a clear refusal"
        refused = [w for w in writes if not w.acknowledged]
        assert any(a[1] == "refused" for a in answers), "the outage was seen"
        assert all(outcome in ("refused", "busy") for w in refused for _, outcome, _ in w.answers)
        recovered = min(when for _, outcome, when in answers
                        if outcome == "acknowledged" and when > outage.restored_at) - outage.restored_at

        votes, entries = stored_writes(scene)
        stored = votes + entries
        acknowledged = [w for w in writes if w.acknowledged]
        lost = sum(1 for w in acknowledged if stored[key(w)] == 0)
        twice = sum(1 for k, n in stored.items() if n > 1)
        refused_but_stored = sum(1 for w in refused if stored[key(w)] > 0)
        assert refused_but_stored == 0, "a refused write stores nothing, not half of anything"
        assert entries_have_their_files(scene, tmp_path / "uploads")

        # The same writes, sent again once the database is back, go through (none was half-stored before).
        for write in refused:
            assert send(write, server, round_id=scene.vote_round, call_id=scene.entry_call) == "acknowledged"
        votes, entries = stored_writes(scene)
        assert all((votes + entries)[key(w)] == 1 for w in writes)

        # The request id of a 503 leads to its line in the server's log.
        log = server.log_path.read_text()
        assert re.search(r"\[req=[0-9a-f]{16}\]: database unavailable, answered 503", log)
    finally:
        proxy.close()
    with capsys.disabled():
        print(f"\n[database restarting] cut for {outage.restored_at - outage.cut_at:.1f} s under "
              f"{len(plan)} citizens: {len(answers)} requests, {len(acknowledged)} writes acknowledged, "
              f"{sum(1 for a in answers if a[1] == 'refused')} answers 503 with Retry-After, "
              f"refused but stored: {refused_but_stored}, stored twice: {twice}, first write acknowledged "
              f"{recovered:.2f} s after the database was back; {len(refused)} refused writes sent again, all "
              f"stored once; acknowledged writes lost: {lost}")
    assert lost == 0 and twice == 0


# An app server killed ------------------------------------------------------------------------------------------

def test_an_app_server_killed_mid_run(app, start_servers, transport_commission, transport_organiser, capsys):
    scene = set_scene(transport_commission, transport_organiser, "kill")
    first, second = start_servers(app.config["SQLALCHEMY_DATABASE_URI"], "first", "second")
    by_name = {s.name: s for s in (first, second)}
    citizens = {email: log_in(first.base, email, f"/rounds/{scene.vote_round}") for email in scene.voters}
    citizens |= {email: log_in(second.base, email, f"/calls/{scene.entry_call}/enter") for email in scene.entrants}
    plan = plan_writes(scene, citizens)
    writes = [w for ws in plan.values() for w in ws]

    def balance(write: Write, number: int) -> AppServer:
        """Round robin over the servers this citizen has not found dead."""
        alive = [s for s in (first, second) if s.name not in write.citizen.down]
        return alive[number % len(alive)]

    def killer():
        time.sleep(1.2)
        deadline = time.monotonic() + 1.5
        while IN_FLIGHT["first"] < 2 and time.monotonic() < deadline:  # in the middle of requests
            time.sleep(0.002)
        killer.in_flight = IN_FLIGHT["first"]
        killer.at = time.monotonic()
        first.kill()

    thread = threading.Thread(target=killer)
    thread.start()
    run_citizens(plan, balance, 3.0, round_id=scene.vote_round, call_id=scene.entry_call)
    thread.join()

    # A write whose connection failed may or may not have been stored by the server that died: the citizen
    # looks (a vote sent again says "already"; an entry shows on "my entries") and sends again only if not.
    dropped = [w for w in writes if any(a[0] == "first" and a[1] == "unknown" for a in w.answers)]
    not_sent = [w for w in writes if any(a[0] == "first" and a[1] == "not sent" for a in w.answers)]
    stored_by_the_dead = 0
    for write in writes:
        if write.acknowledged:
            continue
        if write.kind == "entry" and any(a[1] == "unknown" for a in write.answers):
            page = write.citizen.session.get(second.base + "/my/entries", timeout=30).text
            if write.target in page:
                write.answers.append(("second", "acknowledged", time.monotonic()))  # seen stored
                stored_by_the_dead += 1
                continue
        for _attempt in range(20):  # "busy": SQLite asked to send it again
            if (outcome := send(write, second, round_id=scene.vote_round, call_id=scene.entry_call)) != "busy":
                break
            time.sleep(0.1)
        if outcome == "already":
            stored_by_the_dead += 1
            write.answers.append(("second", "acknowledged", time.monotonic()))
        assert outcome in ("acknowledged", "already"), write.answers

    answers = [a for w in writes for a in w.answers]
    assert [a for a in answers if a[1].startswith("error")] == []
    assert sum(1 for a in answers if a[0] == "second" and a[2] > killer.at and a[1] == "acknowledged") > 0, \
        "the other server carried on"
    votes, entries = stored_writes(scene)
    stored = votes + entries
    lost = sum(1 for w in writes if w.acknowledged and stored[key(w)] == 0)
    twice = sum(1 for n in stored.values() if n > 1)
    before_kill = sum(1 for a in answers if a[0] == "first" and a[1] == "acknowledged")
    with capsys.disabled():
        print(f"\n[app server killed] {len(plan)} citizens over two servers, the first killed with kill -9 after "
              f"{before_kill} acknowledged writes, with {killer.in_flight} requests in flight: {len(dropped)} "
              f"writes lost their connection to it and {len(not_sent)} found it gone ({stored_by_the_dead} found "
              f"stored by it, the rest sent again to the second); "
              f"{sum(1 for w in writes if w.acknowledged)} writes acknowledged, stored twice: {twice}; "
              f"acknowledged writes lost: {lost}")
    assert lost == 0 and twice == 0
    assert all(stored[key(w)] == 1 for w in writes)
    assert by_name["second"].process.poll() is None
