"""One id per request, taken from the proxy or made here: in every log line, the X-Request-ID response header
and the error pages, so that a citizen who quotes it leads to the request's lines in the log."""
from __future__ import annotations

import logging
import re
import secrets

from flask import Flask, current_app, g, has_request_context, request

HEADER = "X-Request-ID"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s]: %(message)s"
# What proxies send (nginx's $request_id, a UUID, a load balancer's trace id) fits this; anything else (too
# long, spaces, control characters that could forge a log line) is replaced by an id of our own.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}")


def request_id() -> str:
    """This request's id, made on first use; "-" outside a request."""
    if not has_request_context():
        return "-"
    value = g.get("request_id")
    if value is None:
        value = g.request_id = _from_proxy() or secrets.token_hex(8)
    return value


def _from_proxy() -> str | None:
    # Only a proxy we trust may name the request: a client could otherwise pass itself off as another request.
    if not current_app.config.get("TRUSTED_PROXIES"):
        return None
    value = request.headers.get(HEADER, "")
    return value if _SANE.fullmatch(value) else None


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` attribute, for a format's `%(request_id)s`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


def add_filter(handler: logging.Handler) -> None:
    if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
        handler.addFilter(RequestIdFilter())


def _echo(response):
    response.headers[HEADER] = request_id()
    return response


def init_request_ids(app: Flask) -> None:
    # A filter on the root logger's handlers sees the records of every logger that propagates to it.
    for handler in logging.getLogger().handlers:
        add_filter(handler)
    app.after_request(_echo)
    app.jinja_env.globals["request_id"] = request_id
