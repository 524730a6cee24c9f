"""Faults of what the app depends on, in one process: S3 out of reach during a submission, Redis going away and
coming back mid-run, a commit lost on its way. Each prints the figure "acknowledged writes lost": writes the app
acknowledged minus those found stored. (The database restarting and an app server killed need real servers:
tests/e2e/test_faults_under_load.py.)"""
import logging
import secrets
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from contest.extensions import db
from contest.models import Entry, Image, ImageFile, Vote
from contest.services.entries import EntryData, Upload, submit_entry
from contest.storage import storage
from contest.storage.s3 import S3Storage
from tests.helpers import (
    approved_entries,
    count_rows,
    csrf_token,
    log_in,
    make_call,
    make_public_round,
    make_voter,
    picture_bytes,
    submit_design,
    zh,
)
from tests.servers import PrivateRedis
from tests.tcp_proxy import TcpProxy

NOT_STORED = "Your images could not be stored just now. Nothing was saved; please try again in a few minutes."


def report(capsys, fault: str, acknowledged: int, stored: int, **figures) -> None:
    """Print the fault's figures where the run shows them, ending with the one the issue asks for."""
    extra = "".join(f", {name.replace('_', ' ')}: {value}" for name, value in figures.items())
    with capsys.disabled():
        print(f"\n[{fault}] acknowledged writes: {acknowledged}, found stored: {stored}{extra}; "
              f"acknowledged writes lost: {acknowledged - stored}")


# S3 out of reach ------------------------------------------------------------------------------------------

@pytest.fixture
def s3_behind_a_proxy(app_factory):
    """The app stores on moto's S3 through a proxy the test can cut; `direct` looks at the bucket itself."""
    from moto.server import ThreadedMotoServer

    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = TcpProxy(host, port)
    bucket = f"contest-faults-{secrets.token_hex(4)}"  # moto keeps its buckets for the life of the process
    app = app_factory(STORAGE_BACKEND="s3", S3_BUCKET=bucket, S3_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}",
                      S3_ACCESS_KEY_ID="test", S3_SECRET_ACCESS_KEY="test")
    direct = S3Storage(bucket, endpoint_url=f"http://{host}:{port}", access_key="test", secret_key="test")
    direct.ensure_bucket()
    try:
        with app.app_context():
            yield app, proxy, direct
    finally:
        proxy.close()
        server.stop()
        werkzeug_log.setLevel(level)


def stored_keys(direct: S3Storage) -> list[str]:
    return sorted(direct.keys("images/"))


def referenced_keys() -> list[str]:
    db.session.commit()
    return sorted(db.session.scalars(select(ImageFile.key)))


def test_s3_out_of_reach_during_a_submission(s3_behind_a_proxy, citizen, transport_commission, capsys):
    app, proxy, direct = s3_behind_a_proxy
    call = make_call(transport_commission)
    client = app.test_client()
    log_in(client, citizen.email)
    proxy.cut(drain=0)

    started = time.monotonic()
    response = submit_design(client, call, title="海派栏杆", images=[picture_bytes(1), picture_bytes(2)])
    took = time.monotonic() - started
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert zh(NOT_STORED) in html
    assert "海派栏杆" in html and "以石库门纹样为灵感。" in html  # the form comes back with the citizen's text
    assert took < 10, f"a submission to an unreachable S3 took {took:.1f} s"
    assert count_rows(Entry) == 0 and count_rows(Image) == 0 and count_rows(ImageFile) == 0
    assert stored_keys(direct) == []

    proxy.restore()
    response = submit_design(client, call, title="海派栏杆", images=[picture_bytes(1), picture_bytes(2)])
    assert response.status_code == 302
    entries = db.session.scalars(select(Entry).where(Entry.title == "海派栏杆")).all()
    assert len(entries) == 1 and len(entries[0].images) == 2
    assert stored_keys(direct) == referenced_keys() and len(referenced_keys()) == 8
    report(capsys, "S3 out of reach", acknowledged=1, stored=len(entries), refused_with_503=1,
           seconds_to_refuse=f"{took:.1f}")


def test_s3_lost_in_the_middle_of_a_submission(s3_behind_a_proxy, citizen, transport_commission, capsys):
    app, proxy, direct = s3_behind_a_proxy
    call = make_call(transport_commission)
    client = app.test_client()
    log_in(client, citizen.email)
    with app.app_context():  # the S3 app's (the test's own context is the default app's)
        backend = storage()
    real_put, puts = backend.put, []

    def put_then_lose_s3(key, data, content_type):
        if len(puts) == 3 and proxy.up:
            proxy.cut(drain=0)
        puts.append(key)
        return real_put(key, data, content_type)

    backend.put = put_then_lose_s3
    response = submit_design(client, call, title="石库门", images=[picture_bytes(3), picture_bytes(4)])
    assert response.status_code == 503 and zh(NOT_STORED) in response.get_data(as_text=True)
    assert count_rows(Entry) == 0 and count_rows(Image) == 0 and count_rows(ImageFile) == 0
    # The three files written before S3 went away could not be deleted while it was away: no row refers to
    # them, and the orphans command finds them once S3 is back.
    left = stored_keys(direct)
    assert left == sorted(puts[:3])

    proxy.restore()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["orphans", "--delete", "--older-than-minutes", "0"])
    assert "3 orphaned files deleted." in result.output
    assert stored_keys(direct) == []

    response = submit_design(client, call, title="石库门", images=[picture_bytes(3), picture_bytes(4)])
    assert response.status_code == 302
    stored = db.session.scalars(select(Entry).where(Entry.title == "石库门")).all()
    assert len(stored) == 1 and stored_keys(direct) == referenced_keys()
    report(capsys, "S3 lost mid-submission", acknowledged=1, stored=len(stored), refused_with_503=1,
           files_left_for_the_orphans_command=len(left))


# A commit lost on its way -----------------------------------------------------------------------------------

@pytest.mark.real_commits  # a COMMIT that fails on its way to the database
def test_files_of_a_commit_that_may_have_gone_through_are_kept(app, citizen, transport_commission, caplog):
    """The database went away as it committed: the rows may be stored, so their files must not be deleted."""
    call = make_call(transport_commission)
    root = Path(app.config["UPLOAD_DIR"])

    def connection_lost(connection):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    with app.test_request_context():
        submit_entry(citizen, call, EntryData(title="提交中断"), [Upload(picture_bytes(5), "图")], accepted_terms=True)
        event.listen(db.engine, "commit", connection_lost)
        try:
            with pytest.raises(OperationalError):
                db.session.commit()
        finally:
            event.remove(db.engine, "commit", connection_lost)
        db.session.rollback()
    assert len([p for p in root.rglob("*") if p.is_file()]) == 4
    assert "may have gone through: the files are kept" in caplog.text


# Redis going away -----------------------------------------------------------------------------------------------

@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def vote(client, round_id: int, entry_id: int):
    return client.post(f"/rounds/{round_id}/votes/{entry_id}",
                       data={"csrf_token": csrf_token(client, f"/rounds/{round_id}")})


def test_redis_going_away_mid_run(private_redis, app, app_factory, transport_commission, transport_organiser,
                                  caplog, capsys):
    # (private_redis first: it outlives the app, whose clean-up resets the limiter's counters in it)
    call = make_call(transport_commission)
    entries = approved_entries(call, 9)
    round_ = make_public_round(call, transport_organiser, votes=9)
    voter = make_voter("steady@example.org")
    make_voter("forgetful@example.org")
    redis_app = app_factory(REDIS_URL=private_redis.url, RATELIMIT_STORAGE_URI=private_redis.url)
    client = redis_app.test_client()
    log_in(client, voter.email)
    acknowledged = []

    def cast(entry):
        response = vote(client, round_.id, entry.id)
        assert response.status_code == 302 and "outcome=counted" in response.headers["Location"]
        acknowledged.append(entry.id)

    caplog.set_level(logging.INFO, logger="flask-limiter")
    for entry in entries[:3]:
        cast(entry)
    assert private_redis.keys(), "with Redis up, the counters are in Redis"

    private_redis.stop()
    for entry in entries[3:6]:
        cast(entry)  # the site keeps serving
    # The limits still hold, counted in this process's memory: 10 failed logins a minute per account.
    stranger = redis_app.test_client()
    answers = [log_in(stranger, "forgetful@example.org", "wrong password").status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]
    fallbacks = [r for r in caplog.records if "falling back to in-memory storage" in r.getMessage()]
    assert len(fallbacks) == 1, "the log says so once, not at every request"

    private_redis.start()  # empty: a restarted Redis without persistence
    deadline = time.monotonic() + 45  # the limiter looks again after 1, 2, 4 ... seconds
    while not any("storage recovered" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the limits never went back to Redis"
        assert client.get("/calls").status_code == 200
        time.sleep(0.2)
    for entry in entries[6:]:
        cast(entry)
    assert private_redis.keys(), "back on Redis: the counters are in Redis again"

    db.session.commit()
    stored = set(db.session.scalars(select(Vote.entry_id).where(Vote.user_id == voter.id, Vote.voided_at.is_(None))))
    assert stored == set(acknowledged)
    report(capsys, "Redis away mid-run", acknowledged=len(acknowledged), stored=len(stored & set(acknowledged)),
           served_while_redis_was_away=3 + 11)
