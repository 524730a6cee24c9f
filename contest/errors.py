"""Error pages in the visitor's language, for browsers; the same status codes for everyone."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from contest import database
from contest.extensions import db, login_manager

log = logging.getLogger(__name__)
# Seconds a client is asked to wait when the database (or the file storage) is out of reach: about what a
# database restart or a fail-over takes.
RETRY_AFTER = 30

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has been moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("File too large"), _l("What you sent is larger than this site accepts. Please send something smaller.")),
    429: (_l("Too many attempts"), _l("You have tried too often. Please wait a moment and try again.")),
    503: (_l("Please try again soon"), _l("Part of the site is not available just now. Please try again "
                                          "in a few minutes.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side. Please try again later.")),
}


def render_error(code: int, message=None):
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=message or default_message), code


_ANSWERS_KEY = "contest_error_answers"


def answer_errors_under(app: Flask, prefix: str, http_error: Callable, error_response: Callable) -> None:
    """Let the part of the site under `prefix` answer its errors itself (the JSON API answers in JSON):
    `http_error(HTTPException)` for the HTTP errors, `error_response(status)` for a 500 or a 503."""
    app.extensions.setdefault(_ANSWERS_KEY, {})[prefix] = (http_error, error_response)


def _own_answers() -> tuple[Callable, Callable] | None:
    for prefix, answers in current_app.extensions.get(_ANSWERS_KEY, {}).items():
        if request.path.startswith(prefix):
            return answers
    return None


def handle_http_exception(error: HTTPException):
    answers = _own_answers()
    if answers is not None:
        return answers[0](error)
    code = error.code or 500
    if code not in MESSAGES:
        return error
    response = error.get_response()
    body, status = render_error(code, getattr(error, "message", None))
    response.set_data(body)
    response.content_type = "text/html; charset=utf-8"
    response.status_code = status
    return response


def handle_csrf_error(error: CSRFError):
    return render_error(
        400, _l("This form has expired or was not sent from this site. Please go back, reload the page and try again.")
    )


def handle_server_error(error):
    original = getattr(error, "original_exception", None)
    if isinstance(original, database.UNAVAILABLE_ERRORS):  # raised while another error page was being made
        return handle_database_unavailable(original)
    db.session.rollback()
    answers = _own_answers()
    if answers is not None:
        return answers[1](500)
    return render_error(500)


def handle_database_unavailable(error):
    """The database is out of reach (restarting, the network cut, every connection busy): a 503 asking to try
    again, never a 500. What the request had written is rolled back, so nothing is half-saved."""
    cause = getattr(error, "orig", None) or error  # the driver's message, not the statement and its values
    log.warning("database unavailable, answered 503: %s: %s", type(cause).__name__,
                (str(cause).strip().splitlines() or [""])[0])
    database.discard_transaction()  # the server rolls back what it had not committed
    # Every object the request loaded has just been expired, and reading it again would need the database:
    # the page is made for an anonymous visitor in the language of the session or the request.
    g.api_user = None
    login_manager._update_request_context_with_user()
    answers = _own_answers()
    if answers is not None:
        response = answers[1](503)
    else:
        body, status = render_error(503)
        response = current_app.response_class(body, status=status, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(500, handle_server_error)
    for error_class in database.UNAVAILABLE_ERRORS:
        app.register_error_handler(error_class, handle_database_unavailable)
