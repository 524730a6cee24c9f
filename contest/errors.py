"""Error pages in the visitor's language, for browsers; the same status codes for everyone."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from contest.extensions import db

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


def _is_api() -> bool:
    return request.path.startswith("/api/")  # the JSON API answers in JSON, its errors too


def handle_http_exception(error: HTTPException):
    if _is_api():
        from contest.api.common import http_error

        return http_error(error)
    code = error.code or 500
    if code not in MESSAGES:
        return error
    response = error.get_response()
    body, status = render_error(code)
    response.set_data(body)
    response.content_type = "text/html; charset=utf-8"
    response.status_code = status
    return response


def handle_csrf_error(error: CSRFError):
    return render_error(
        400, _l("This form has expired or was not sent from this site. Please go back, reload the page and try again.")
    )


def handle_server_error(error):
    db.session.rollback()
    if _is_api():
        from contest.api.common import error_response

        return error_response(500)
    return render_error(500)


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(500, handle_server_error)
