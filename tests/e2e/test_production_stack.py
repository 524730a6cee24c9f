"""The production stack as the README sets it up, driven through nginx only: the repository's site file
(deploy/nginx/contest.conf, with this test's ports and paths) over TLS in front of two gunicorn app servers
(deploy/gunicorn.conf.py, CONTEST_ENV=production) on the suite's PostgreSQL database, a Redis of the test's own for
rate limits and moto's S3 server for images.

A citizen registers, confirms by the mailed link and sends a design; an organiser approves it; a juror scores it;
twenty citizens vote while one app server is killed with kill -9. Then: every acknowledged entry, score and vote is
stored once; every stored image is served by both app servers and by nginx; a logout through one server ends the
session on the other; a rate limit reached through one server holds on the other. It prints its figures."""
from __future__ import annotations

import copy
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from contest.extensions import db
from contest.models import (
    Assignment,
    DepartmentKind,
    Entry,
    EntryImage,
    ImageFile,
    OutboxMail,
    Score,
    User,
    Vote,
)
from contest.services.rounds import assign
from contest.storage import storage
from tests.helpers import (
    PASSWORD,
    approved_entries,
    make_call,
    make_department,
    make_juror,
    make_organiser,
    make_public_round,
    make_round,
    make_user,
    make_voter,
    picture_bytes,
)
from tests.servers import AppServer, PrivateRedis, free_port

pytestmark = pytest.mark.postgresql

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "contest.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VOTERS, VOTES_EACH, ENTRANTS, ENTRIES_EACH, SECONDS = 20, 8, 3, 3, 4.0


# The stack ------------------------------------------------------------------------------------------------------

def render_site(folder: Path, https_port: int, http_port: int, app_ports: tuple[int, int]) -> str:
    """The repository's site file with this test's ports, certificate, logs and checkout; each change is checked to
    apply, so that the file and this test cannot drift apart unnoticed."""
    text = SITE.read_text()
    text, ipv6 = re.subn(r"(?m)^\s*listen \[::\]:.*\n", "", text)
    assert ipv6 == 4
    for old, new in [
        ("127.0.0.1:8001", f"127.0.0.1:{app_ports[0]}"), ("127.0.0.1:8002", f"127.0.0.1:{app_ports[1]}"),
        ("listen 443 ", f"listen 127.0.0.1:{https_port} "), ("listen 80", f"listen 127.0.0.1:{http_port}"),
        ("server_name contest.example.org;", "server_name localhost;"),
        ("/etc/letsencrypt/live/contest.example.org/fullchain.pem", str(folder / "cert.pem")),
        ("/etc/letsencrypt/live/contest.example.org/privkey.pem", str(folder / "key.pem")),
        ("/var/log/nginx/", f"{folder}/"), ("/srv/contest", str(ROOT)),
    ]:
        assert old in text, f"{SITE.name} no longer says {old!r}"
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx in the foreground, with its own prefix, pid, logs and temporary folders in the test's folder."""

    def __init__(self, folder: Path, app_ports: tuple[int, int], port: int | None = None) -> None:
        self.folder, self.port, self.http_port = folder, port or free_port(), free_port()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout",
                        str(folder / "key.pem"), "-out", str(folder / "cert.pem")], check=True, capture_output=True)
        (folder / "contest.conf").write_text(render_site(folder, self.port, self.http_port, app_ports))
        temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in
                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "") +
            f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
            "events { worker_connections 512; }\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n{temp}\n"
            f"    include {folder}/contest.conf;\n}}\n")
        self.command = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", f"{folder}/", "-c",
                        str(folder / "nginx.conf")]
        test = subprocess.run([*self.command, "-t"], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        self.process = subprocess.Popen([*self.command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"https://localhost:{self.port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(self.base + "/healthz", verify=self.certificate, timeout=5)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError((folder / "error.log").read_text()) from None
                time.sleep(0.05)

    @property
    def certificate(self) -> str:
        return str(self.folder / "cert.pem")

    def access_log(self) -> str:
        return (self.folder / "contest.access.log").read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)  # a graceful stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@dataclass
class Stack:
    nginx: Nginx
    servers: list[AppServer]
    bucket: str


@pytest.fixture
def moto_s3():
    from moto.server import ThreadedMotoServer

    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_log.setLevel(level)


@pytest.fixture
def stack(tmp_path, moto_s3, app_factory, app_servers):
    """The stack up, and this test's own app (on the same database and bucket) in context for setting the scene."""
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    bucket = f"contest-stack-{secrets.token_hex(4)}"  # moto keeps its buckets for the life of the process
    s3 = {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": moto_s3, "S3_ACCESS_KEY_ID": "test",
          "S3_SECRET_ACCESS_KEY": "test"}
    app = app_factory(**s3)
    servers, nginx = [], None
    try:
        with app.app_context():
            storage().ensure_bucket()
            nginx_port = free_port()  # the site's address is configured before nginx starts
            env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEST_")}
            env.update(CONTEST_ENV="production", CONTEST_SECRET_KEY="production stack test secret",
                       CONTEST_BASE_URL=f"https://localhost:{nginx_port}",
                       CONTEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], CONTEST_REDIS_URL=redis_server.url,
                       CONTEST_STORAGE="s3", CONTEST_S3_BUCKET=bucket, CONTEST_S3_ENDPOINT_URL=moto_s3,
                       CONTEST_S3_ACCESS_KEY_ID="test", CONTEST_S3_SECRET_ACCESS_KEY="test",
                       CONTEST_TRUSTED_PROXIES="1", CONTEST_MAIL_BACKEND="log",
                       CONTEST_GUNICORN_WORKERS="1", CONTEST_GUNICORN_THREADS="4")
            servers = app_servers(env, "A", "B", options=("-c", str(GUNICORN_CONF)), ready_path="/readyz",
                                  host="localhost")
            nginx = Nginx(tmp_path, (servers[0].port, servers[1].port), port=nginx_port)
            yield Stack(nginx, servers, bucket)
    finally:
        if nginx is not None:
            nginx.stop()
        for server in servers:  # all asked at once, then waited for
            server.ask_to_stop()
        for server in servers:
            server.stop()
        redis_server.stop()


# Visitors -------------------------------------------------------------------------------------------------------

@dataclass
class Tally:
    """Every answer the test got, by where it went and its status ("no answer" for a broken connection)."""
    answers: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, via: str, status) -> None:
        with self.lock:
            self.answers[(via, status)] += 1

    def statuses(self, via: str) -> Counter:
        return Counter({status: n for (v, status), n in self.answers.items() if v == via})


class Visitor:
    """One browser: a cookie jar shared by nginx's address and the app servers' (all on `localhost`)."""

    def __init__(self, stack: Stack, tally: Tally, email: str | None = None) -> None:
        self.nginx, self.tally, self.email = stack.nginx, tally, email
        self.session = requests.Session()
        self.token = ""

    def request(self, method: str, path: str, base: str | None = None, **kwargs) -> requests.Response:
        base = base or self.nginx.base
        via = "nginx" if base == self.nginx.base else "direct"
        headers = kwargs.setdefault("headers", {})
        if method == "POST" and via == "nginx":  # a browser's Referer: the app checks it on https
            headers["Referer"] = base + path
        if via == "direct":
            # The session cookie is Secure: sent by hand to the app servers' plain http, as the same browser's
            # cookie would reach another app server of the site behind nginx's TLS.
            headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        try:
            # (verify on each request: a session's own setting loses to REQUESTS_CA_BUNDLE in the environment)
            response = self.session.request(method, base + path, allow_redirects=False, timeout=30,
                                            verify=self.nginx.certificate, **kwargs)
        except requests.ConnectionError:
            self.tally.note(via, "no answer")
            raise
        self.tally.note(via, response.status_code)
        return response

    def get(self, path: str, base: str | None = None) -> requests.Response:
        return self.request("GET", path, base)

    def fetch_token(self, page: str, base: str | None = None) -> str:
        response = self.get(page, base)
        assert response.status_code == 200, (page, response.status_code)
        self.token = CSRF.search(response.text).group(1)
        return self.token

    def post(self, path: str, data: dict, base: str | None = None, **kwargs) -> requests.Response:
        return self.request("POST", path, base, data={"csrf_token": self.token, **data}, **kwargs)

    def log_in(self, email: str, password: str = PASSWORD, base: str | None = None) -> requests.Response:
        self.email = email
        self.fetch_token("/account/login", base)
        return self.post("/account/login", {"email": email, "password": password}, base)


def logged_in(stack: Stack, tally: Tally, email: str, page: str) -> Visitor:
    visitor = Visitor(stack, tally)
    response = visitor.log_in(email)
    assert response.status_code == 302, response.text
    visitor.fetch_token(page)  # the session starts afresh at login, with a new token
    return visitor


def send_entry(visitor: Visitor, call_id: int, title: str, seed: int) -> str:
    data = {"title": title, "description": "由生产环境测试发送。", "topic_id": "0", "place_id": "0", "accept": "y",
            "image-1-alt": "一张测试设计图"}
    files = {"image-1": ("design.jpg", picture_bytes(seed, size=(400, 300)))}
    try:
        response = visitor.post(f"/calls/{call_id}/enter", data, files=files)
    except requests.ConnectionError:
        return "unknown"
    if response.status_code == 302 and response.headers["Location"].endswith("/my/entries"):
        return "acknowledged"
    return "unknown"  # nginx's 503 when the server died with it: it may or may not be stored


def send_vote(visitor: Visitor, round_id: int, entry_id: int) -> str:
    try:
        response = visitor.post(f"/rounds/{round_id}/votes/{entry_id}", {})
    except requests.ConnectionError:
        return "unknown"
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "outcome=counted" in location:
        return "acknowledged"
    if response.status_code == 302 and "outcome=already" in location:
        return "already"
    return "unknown"


# The story ------------------------------------------------------------------------------------------------------

def test_the_production_stack_through_nginx(stack, capsys):
    started = time.monotonic()
    nginx, (first, second) = stack.nginx, stack.servers
    tally = Tally()

    # The scene, set directly: a department, its organiser, an open call, and a vote on another call's entries.
    city = make_department("上海市", DepartmentKind.CITY)
    agency = make_department("上海市交通委员会", DepartmentKind.AGENCY, city)
    organiser = make_organiser(agency, "organiser@example.org")
    call = make_call(agency, title="道路栏杆请您绘", entries_per_person=ENTRIES_EACH + 1)
    vote_call = make_call(agency, title="口袋公园投票")
    vote_entries = [e.id for e in approved_entries(vote_call, VOTES_EACH)]
    vote_round = make_public_round(vote_call, organiser, votes=VOTES_EACH)
    voters = [make_voter(f"voter{n:02}@example.org").email for n in range(VOTERS)]
    entrants = [make_user(f"entrant{n}@example.org").email for n in range(ENTRANTS)]
    round_id, call_id = vote_round.id, call.id

    # nginx serves the static files under their hashed names itself; the app answers the rest, under nginx's
    # request id; a request naming another host gets no answer.
    citizen = Visitor(stack, tally)
    page = citizen.get("/account/register")
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])  # nginx's $request_id, not the app's own
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{8}\.css)"', page.text).group(1)
    response = citizen.get(stylesheet)
    assert response.content == (ROOT / "static" / "css" / "site.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "X-Request-ID" not in response.headers  # not the app's answer
    with pytest.raises(requests.ConnectionError):
        requests.get(nginx.base + "/", headers={"Host": "elsewhere.example.org"}, verify=nginx.certificate,
                     timeout=10)

    # A citizen registers through nginx and confirms by the mailed link.
    citizen.token = CSRF.search(page.text).group(1)
    email = "newcomer@example.org"
    response = citizen.post("/account/register", {"email": email, "display_name": "新市民", "group": "citizen",
                                                  "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302 and "/account/check-mail" in response.headers["Location"], response.text
    db.session.commit()
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to == email))
    link = re.search(r"https?://\S+", mail.body).group(0)
    # The link names the site's configured address (CONTEST_BASE_URL, here nginx's), never the host a request named.
    assert link.startswith(f"{nginx.base}/account/confirm/"), link
    assert citizen.get(urlsplit(link).path).status_code == 302
    assert db.session.scalar(select(User).where(User.email == email)).email_confirmed_at is not None

    # ... logs in and sends a design with a picture, which goes to S3.
    assert citizen.log_in(email).status_code == 302
    citizen.fetch_token(f"/calls/{call_id}/enter")
    assert send_entry(citizen, call_id, "石库门栏杆", seed=1) == "acknowledged"
    design = db.session.scalar(select(Entry).where(Entry.title == "石库门栏杆"))

    # The organiser approves it.
    staff = logged_in(stack, tally, organiser.email, f"/console/calls/{call_id}/moderation")
    response = staff.post(f"/console/calls/{call_id}/moderation", {"entry": str(design.id), "approve": "y",
                                                                   "reason": ""})
    assert response.status_code == 302, response.text
    db.session.commit()
    db.session.refresh(design)
    assert design.status.value == "approved"

    # A juror scores it (the round is set up directly; the score goes through nginx).
    expert_round = make_round(call, organiser, k=1)
    make_juror(expert_round, "juror@example.org")
    assign(organiser, expert_round)
    db.session.commit()
    assignment = db.session.scalar(select(Assignment).where(Assignment.round_id == expert_round.id))
    juror = logged_in(stack, tally, "juror@example.org", f"/jury/assignments/{assignment.id}")
    marks = {f"mark-{c.id}": "8" for c in expert_round.criteria}
    response = juror.post(f"/jury/assignments/{assignment.id}", {**marks, "version": "", "note_to_organisers": "",
                                                                 "note_to_entrant": "细节很好。", "submit": "y"})
    assert response.status_code == 302, response.text
    scores_acknowledged = 1

    # Twenty citizens vote and three send entries, all through nginx; half-way one app server dies.
    with ThreadPoolExecutor(8) as pool:  # a login takes a scrypt hash's time: log them in side by side
        people = dict(zip(voters + entrants, pool.map(
            lambda e: logged_in(stack, tally, e, f"/rounds/{round_id}" if e in voters else f"/calls/{call_id}/enter"),
            voters + entrants), strict=True))
    writes: list[list] = []  # [kind, email, target, outcome]
    for n, e in enumerate(voters):
        writes += [["vote", e, entry_id, None] for entry_id in vote_entries[n % VOTES_EACH:] +
                   vote_entries[:n % VOTES_EACH]]
    for e in entrants:
        writes += [["entry", e, f"{e.split('@')[0]} 设计 {k}", None] for k in range(ENTRIES_EACH)]
    answered, in_flight = Counter(), Counter()
    lock = threading.Lock()
    killed = threading.Event()

    def work(email: str) -> None:
        mine = [w for w in writes if w[1] == email]
        start = time.monotonic()
        for number, write in enumerate(mine):
            time.sleep(max(0.0, start + number * SECONDS / len(mine) - time.monotonic()))
            with lock:
                in_flight["all"] += 1
            if write[0] == "vote":
                write[3] = send_vote(people[email], round_id, write[2])
            else:
                write[3] = send_entry(people[email], call_id, write[2], seed=len(write[2]) * 7 + number)
            with lock:
                in_flight["all"] -= 1
                answered["all"] += 1
                answered["after kill" if killed.is_set() else "before kill"] += 1

    def killer() -> None:
        while answered["all"] < len(writes) // 2:
            time.sleep(0.005)
        deadline = time.monotonic() + 1.0
        while in_flight["all"] < 6 and time.monotonic() < deadline:  # in the middle of requests
            time.sleep(0.002)
        first.kill()
        killed.set()

    threads = [threading.Thread(target=work, args=(e,)) for e in voters + entrants]
    threads.append(threading.Thread(target=killer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert killed.is_set()

    # A write without an answer may have been stored by the server that died: the citizen looks (a vote sent again
    # says "already"; an entry shows on "My entries") and sends it again only if not.
    unknown = [w for w in writes if w[3] != "acknowledged"]
    found_stored = 0
    for write in unknown:
        visitor = people[write[1]]
        if write[0] == "entry" and write[2] in visitor.get("/my/entries").text:
            found_stored += 1
        elif write[0] == "entry":
            assert send_entry(visitor, call_id, write[2], seed=3) == "acknowledged"
        else:
            outcome = send_vote(visitor, round_id, write[2])
            assert outcome in ("acknowledged", "already"), write
            found_stored += outcome == "already"
        write[3] = "acknowledged"

    # What is stored: every acknowledged write, once.
    db.session.commit()
    votes = Counter(db.session.execute(select(User.email, Vote.entry_id).join(User, User.id == Vote.user_id)
                                       .where(Vote.round_id == round_id, Vote.voided_at.is_(None))).all())
    entries = Counter(db.session.execute(select(User.email, Entry.title).join(User, User.id == Entry.author_id)
                                         .where(Entry.call_id == call_id)).all())
    scores = db.session.scalars(select(Score).where(Score.assignment_id == assignment.id)).all()
    acknowledged_votes = Counter((w[1], w[2]) for w in writes if w[0] == "vote")
    acknowledged_entries = Counter((w[1], w[2]) for w in writes if w[0] == "entry")
    acknowledged_entries[(email, "石库门栏杆")] += 1
    assert votes == acknowledged_votes
    assert entries == acknowledged_entries
    assert len(scores) == 1 and scores[0].submitted_at is not None

    # The killed server comes back; every stored image is served by both servers and by nginx, as S3 holds it.
    first.start()
    first.wait_until_up()
    files = db.session.execute(
        select(ImageFile.image_id, ImageFile.name, ImageFile.key)
        .join(EntryImage, EntryImage.image_id == ImageFile.image_id).join(Entry, Entry.id == EntryImage.entry_id)
        .where(Entry.call_id.in_([call_id, vote_call.id]))).all()
    bucket = storage()
    unreadable = []
    for image_id, rendition, key in files:
        stored = bucket.get(key)
        for base in (first.base, second.base, nginx.base):
            response = staff.request("GET", f"/media/{image_id}/{rendition}", base)
            if response.status_code == 302:  # an original: a presigned address of the bucket itself
                response = requests.get(response.headers["Location"], timeout=30)
            if response.status_code != 200 or response.content != stored:
                unreadable.append((image_id, rendition, base, response.status_code))
    assert unreadable == [], Counter((r, b, st) for _, r, b, st in unreadable)
    assert len(files) == 4 * (VOTES_EACH + 1 + ENTRANTS * ENTRIES_EACH)

    # A logout through one server ends the session on the other: the same cookie, replayed, is logged out there.
    cookie = copy.copy(next(c for c in citizen.session.cookies if c.name == "session"))
    for base in (first.base, second.base):
        assert citizen.get("/account/profile", base).status_code == 200
    citizen.fetch_token("/account/profile", first.base)
    assert citizen.post("/account/logout", {}, first.base).status_code == 302
    replay = Visitor(stack, tally)
    replay.session.cookies.set_cookie(cookie)
    for base in (second.base, nginx.base):
        response = replay.get("/account/profile", base)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], base

    # A rate limit reached through one server holds on the other: failed logins of one account are counted in Redis.
    def guess(base: str) -> int:
        return Visitor(stack, tally).log_in("juror@example.org", "not the password", base).status_code

    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(guess, [first.base] * 10)) == [200] * 10
    refused = guess(second.base)
    assert refused == 429

    # nginx: who answered (its access log names the app server of each request).
    names = {f"127.0.0.1:{server.port}": server.name for server in (first, second)}
    upstreams = Counter(" then ".join(names.get(a, a) for a in tried.split(", "))
                        for tried in re.findall(r"upstream=(.*?) upstream_status=", nginx.access_log()))
    through_nginx = tally.statuses("nginx")
    took = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[production stack] nginx over two gunicorn servers (PostgreSQL, Redis, S3), {VOTERS} voters and "
              f"{ENTRANTS} entrants, server A killed with kill -9 after {answered['before kill']} of {len(writes)} "
              f"writes were answered; requests through nginx: {sum(through_nginx.values())}, by status "
              f"{dict(sorted(through_nginx.items(), key=str))}; requests to the servers directly: "
              f"{sum(tally.statuses('direct').values())}; app servers in nginx's log: "
              f"{dict(sorted(upstreams.items()))}; writes without an answer: {len(unknown)} "
              f"({found_stored} found stored, the rest sent again); acknowledged / stored: "
              f"entries {sum(acknowledged_entries.values())} / {sum(entries.values())}, scores "
              f"{scores_acknowledged} / {len(scores)}, votes {sum(acknowledged_votes.values())} / "
              f"{sum(votes.values())}; images served by A, B and nginx: {len(files)} files x 3; "
              f"logout on A ends the session on B; failed logins: 10 through A, the next through B answered 429; "
              f"{took:.1f} s")
    assert set(through_nginx) <= {200, 302, 503}, through_nginx  # 503: nginx's own, for a request the dead server had
