"""What a load balancer asks (/healthz, /readyz), the request id a citizen can quote, and the 503 page when the
database is out of reach."""
import logging
import socket

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from contest import create_app
from contest.extensions import db
from contest.request_ids import LOG_FORMAT, RequestIdFilter
from tests.conftest import settings_for_tests
from tests.helpers import log_in, zh


def closed_port() -> int:
    """A port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_database() -> str:
    return f"postgresql+psycopg://127.0.0.1:{closed_port()}/contest"


@pytest.fixture
def bare_app(tmp_path):
    """Make an app the suite will not clean up after (no tables to empty, no Redis to reset); only closed."""
    made = []

    def make(database_url: str, **overrides):
        app = create_app(settings_for_tests(database_url, tmp_path, **overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app_without_database(bare_app):
    return bare_app(unreachable_database())


def test_healthz_answers_without_the_database_or_a_cookie(app, client, citizen, count_queries):
    log_in(client, citizen.email)  # a browser with a session asks too: its cookie is neither refreshed nor set
    with count_queries() as queries:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"
    assert queries.n == 0
    assert "Set-Cookie" not in response.headers and "X-RateLimit-Limit" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_reports_each_part(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "storage": "ok",
                                                        "redis": "not configured"}}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_503_when_the_database_is_out_of_reach(app_without_database, caplog):
    client = app_without_database.test_client()
    with caplog.at_level(logging.INFO, logger="contest.health"):
        for _ in range(3):
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json["status"] == "unavailable" and response.json["checks"]["database"] == "down"
    # Logged when the state changes, not at every probe of the load balancer.
    assert [r.getMessage()[:38] for r in caplog.records] == ["readiness: database is down (Operation"]


def test_readyz_is_503_when_files_cannot_be_stored(app_factory, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    client = app_factory(UPLOAD_DIR=str(blocker / "uploads")).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["storage"] == "down"


def test_readyz_on_s3_asks_for_the_bucket(app_factory):
    from moto.server import ThreadedMotoServer

    from contest.storage import storage

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        app = app_factory(STORAGE_BACKEND="s3", S3_BUCKET="contest-ready", S3_ENDPOINT_URL=f"http://{host}:{port}",
                          S3_ACCESS_KEY_ID="test", S3_SECRET_ACCESS_KEY="test")
        client = app.test_client()
        assert client.get("/readyz").json["checks"]["storage"] == "down"  # no bucket yet
        with app.app_context():
            storage().ensure_bucket()
        assert client.get("/readyz").json["checks"]["storage"] == "ok"
    finally:
        server.stop()


def test_redis_away_is_reported_but_keeps_the_server_in_rotation(migrated_database, bare_app):
    # The rate limits fall back to this process's memory, so the site keeps serving without Redis.
    url = f"redis://127.0.0.1:{closed_port()}/0"
    client = bare_app(migrated_database, REDIS_URL=url, RATELIMIT_STORAGE_URI=url).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "degraded", "checks": {"database": "ok", "storage": "ok", "redis": "down"}}


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/calls")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert len(first.headers["X-Request-ID"]) == 16


@pytest.mark.parametrize("sent,kept", [
    ("5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", True),
    ("9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", True),
    ("short", False),
    ("has spaces in it", False),
    ("x" * 200, False),
    ("forged]: 2026-01-01 INFO a line of its own", False),
])
def test_a_request_id_from_the_proxy_is_kept_when_sane(app_factory, sent, kept):
    client = app_factory(TRUSTED_PROXIES=1).test_client()
    answered = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert (answered == sent) is kept


def test_without_a_trusted_proxy_a_client_cannot_name_its_request(client):
    sent = "5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] != sent


@pytest.fixture
def failing_app(app_factory):
    app = app_factory(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.route("/_fail")
    def fail():
        logging.getLogger("contest.test").warning("about to fail")
        raise RuntimeError("boom")

    with app.app_context():
        yield app


def test_the_500_page_and_every_log_line_of_the_request_show_its_id(failing_app, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = failing_app.test_client().get("/_fail")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    html = response.get_data(as_text=True)
    assert zh("If you tell us about this, please quote this reference:") in html and request_id in html
    ours = [r for r in caplog.records if r.name.startswith("contest")]
    assert {r.getMessage() for r in ours} >= {"about to fail"}
    assert any(r.exc_info for r in caplog.records if r.request_id == request_id)  # the traceback, findable
    assert all(r.request_id == request_id for r in ours)
    assert "[req=%(request_id)s]" in LOG_FORMAT  # the format the app sets up when nothing else configured logging


def test_a_page_needing_the_database_while_it_is_away_is_a_503_with_retry_after(app, app_without_database, citizen,
                                                                               caplog):
    signed_in = app.test_client()
    log_in(signed_in, citizen.email)
    client = app_without_database.test_client()
    client.set_cookie("session", signed_in.get_cookie("session").value)  # a citizen who was logged in
    with caplog.at_level(logging.WARNING, logger="contest.errors"):
        response = client.get("/calls")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30" and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert zh("Please try again soon") in html and response.headers["X-Request-ID"] in html
    assert "database unavailable, answered 503: OperationalError" in caplog.text

    response = client.get("/api/v1/calls", headers={"Accept-Language": "en"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.json["error"]["code"] == "unavailable"

    assert client.get("/healthz").status_code == 200  # the process itself is fine


@pytest.fixture
def connection_lost_app(app_factory):
    """An app whose routes read the database, and a switch that makes every rollback fail as on a lost connection."""
    app = app_factory(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    lost = {"rollback": False, "query": False}

    @app.route("/_read")
    def read():
        db.session.execute(text("SELECT 1"))  # a transaction is open when the connection goes
        if lost["query"]:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return "read"

    def fail_rollback(connection):
        if lost["rollback"]:
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))

    with app.app_context():
        event.listen(db.engine, "rollback", fail_rollback)
        yield app, lost
        lost["rollback"] = False
        event.remove(db.engine, "rollback", fail_rollback)


@pytest.mark.real_commits  # the connection is lost, and the pool makes a new one
def test_a_connection_lost_after_the_answer_was_made_keeps_the_answer(connection_lost_app, caplog):
    app, lost = connection_lost_app
    lost["rollback"] = True
    with caplog.at_level(logging.WARNING, logger="contest.database"):
        response = app.test_client().get("/_read")
    assert response.status_code == 200 and response.get_data(as_text=True) == "read"
    assert "the database connection was lost at the end of a request" in caplog.text
    lost["rollback"] = False
    assert app.test_client().get("/_read").status_code == 200  # the pool made a new connection


def test_a_connection_lost_mid_request_is_a_503_even_when_the_rollback_fails(connection_lost_app):
    app, lost = connection_lost_app
    lost["rollback"] = lost["query"] = True
    response = app.test_client().get("/_read")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
