"""What a load balancer asks: /healthz (the process answers) and /readyz (what it needs can be reached).

Both are cheap, need no session, CSRF token or rate limit, and never set a cookie. /readyz answers 503 when the
database or the file storage is out of reach; Redis only holds rate-limit counters, which fall back to this
process's memory, so Redis being away is reported ("degraded") but keeps the server in rotation: taking every
server out because Redis went away would turn a weaker rate limit into an outage.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.sessions import SecureCookieSessionInterface

from contest.extensions import csrf, db, limiter
from contest.storage import storage

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
_REDIS_CLIENT = "contest_health_redis"
_STATES = "contest_health_states"  # each part's last state, to log its changes
_states_lock = threading.Lock()


@bp.route("/healthz")
def healthz():
    return _plain("ok")


@bp.route("/readyz")
def readyz():
    checks = {"database": _check("database", _database), "storage": _check("storage", _storage)}
    checks["redis"] = _check("redis", _redis) if current_app.config.get("REDIS_URL") else "not configured"
    if checks["database"] != "ok" or checks["storage"] != "ok":
        status, code = "unavailable", 503
    elif checks["redis"] == "down":
        status, code = "degraded", 200  # rate limits in this process's memory: still serving
    else:
        status, code = "ok", 200
    response = jsonify(status=status, checks=checks)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


def _plain(text: str):
    response = current_app.response_class(text, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _check(name: str, probe) -> str:
    started = time.monotonic()
    try:
        probe()
    except Exception as error:  # noqa: BLE001 (any failure of a part means "down"; the log says which)
        cause = getattr(error, "orig", None) or error  # the driver's words, without SQLAlchemy's wrapping
        first_line = (str(cause).strip().splitlines() or [""])[0]
        _note(name, "down", f"{type(cause).__name__}: {first_line}")
        return "down"
    _note(name, "ok", f"answered in {1000 * (time.monotonic() - started):.0f} ms")
    return "ok"


def _note(name: str, state: str, detail: str) -> None:
    """Log when a part's state changes, not on every probe (a load balancer asks every few seconds)."""
    states = current_app.extensions.setdefault(_STATES, {})
    with _states_lock:
        previous = states.get(name, "ok")
        states[name] = state
    if state != previous:
        (log.warning if state == "down" else log.info)("readiness: %s is %s (%s)", name, state, detail)


def _database() -> None:
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")


def _storage() -> None:
    storage().check()


def _redis() -> None:
    app = current_app
    client = app.extensions.get(_REDIS_CLIENT)
    if client is None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1,
                                      retry=Retry(NoBackoff(), 0))
        client = app.extensions.setdefault(_REDIS_CLIENT, client)
    client.ping()


class _SessionsExceptHealth(SecureCookieSessionInterface):
    """The usual signed-cookie sessions, except that a health check never refreshes or sets a cookie."""

    def save_session(self, app, session, response) -> None:
        if request.blueprint == bp.name:
            return
        super().save_session(app, session, response)


def _is_health_check() -> bool:
    return request.blueprint == bp.name


# A request filter, unlike an exemption, is consulted before anything else: not even a check whether a
# fallen-over Redis is back runs in a health check.
limiter.request_filter(_is_health_check)


def init_health(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _SessionsExceptHealth()
