"""What every API address shares: JSON responses and errors in the caller's language, bearer tokens, pages."""
from __future__ import annotations

import json
from functools import wraps

from flask import current_app, g, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from contest.errors import RETRY_AFTER
from contest.extensions import db
from contest.i18n import browser_language
from contest.services import ServiceError, Unavailable
from contest.services.api_tokens import user_for_token

PER_PAGE = 20
MAX_PER_PAGE = 100

# status -> (code, message) for errors the routing and the framework raise (no route, too large, too many ...)
HTTP_ERRORS = {
    400: ("bad_request", _l("The request could not be understood.")),
    401: ("unauthorized", _l("Send a valid API token as “Authorization: Bearer <token>”.")),
    403: ("forbidden", _l("You may not do this.")),
    404: ("not_found", _l("There is nothing at this address.")),
    405: ("method_not_allowed", _l("This address cannot be used with this method.")),
    409: ("conflict", _l("This conflicts with the current state.")),
    413: ("too_large", _l("What you sent is larger than this site accepts. Please send something smaller.")),
    415: ("unsupported_media_type", _l("Send the entry as multipart/form-data.")),
    422: ("refused", _l("The request was refused.")),
    429: ("rate_limited", _l("You have tried too often. Please wait a moment and try again.")),
    500: ("server_error", _l("Something went wrong on our side. Please try again later.")),
    503: ("unavailable", _l("Part of the site is not available just now. Please try again in a few minutes.")),
}


class ApiError(Exception):
    """An error answered as JSON with its status, a stable code and a message in the caller's language."""

    def __init__(self, status: int, code: str | None = None, message=None):
        super().__init__(code)
        default_code, default_message = HTTP_ERRORS.get(status, HTTP_ERRORS[500])
        self.status, self.code, self.message = status, code or default_code, message or default_message


def json_response(data, status: int = 200, headers: dict | None = None):
    # Chinese stays readable in the body; the type says UTF-8.
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = current_app.response_class(body, status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def api_locale() -> str:
    """The caller's language: their account's when a valid token comes with the request, else what the
    Accept-Language header asks for, else the site's default."""
    languages = current_app.config["LANGUAGES"]
    user = token_user()
    if user is not None and user.locale in languages:
        return user.locale
    return browser_language() or current_app.config["BABEL_DEFAULT_LOCALE"]


def error_response(status: int, code: str | None = None, message=None):
    error = ApiError(status, code, message)
    with force_locale(api_locale()):
        text = str(error.message)
    response = json_response({"error": {"code": error.code, "message": text}}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    response.headers["Cache-Control"] = "no-store"
    return response


def http_error(error: HTTPException):
    """An HTTP error on an API address, as JSON (contest.errors hands these over)."""
    status = error.code or 500
    if status in HTTP_ERRORS:  # an exception may carry its own code and message (contest.text's 400 does)
        response = error_response(status, getattr(error, "code_name", None), getattr(error, "message", None))
    else:
        response = error_response(500)
    allow = error.get_response().headers.get("Allow") if status == 405 else None
    if allow:  # (Flask-Limiter adds Retry-After and its own headers to a 429 after the request)
        response.headers["Allow"] = allow
    return response


def server_error(_error=None):
    db.session.rollback()
    return error_response(500)


def token_user():
    """The user of the bearer token sent with this request, or None; looked up once per request."""
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        g.api_user = user_for_token(raw.strip()) if scheme.lower() == "bearer" else None
    return g.api_user


def token_required(view):
    """Only a bearer token authenticates a write: a session cookie does not, so no CSRF token is needed."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if token_user() is None:
            raise ApiError(401)
        return view(*args, **kwargs)

    return wrapper


def token_key() -> str:
    """Rate limits per account (every token of one person shares them)."""
    user = token_user()
    return f"api-account:{user.id}" if user is not None else f"api-address:{request.remote_addr or ''}"


def api_view(view):
    """Run the view in the caller's language; a refusal of the services or an ApiError becomes a JSON error."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            with force_locale(api_locale()):
                return view(*args, **kwargs)
        except ApiError as error:
            db.session.rollback()
            return error_response(error.status, error.code, error.message)
        except Unavailable as error:
            db.session.rollback()
            response = error_response(503, "unavailable", str(error))
            response.headers["Retry-After"] = str(RETRY_AFTER)
            return response
        except ServiceError as error:
            db.session.rollback()
            return error_response(422, "refused", str(error))

    return wrapper


def int_arg(name: str, default: int | None = None, minimum: int = 1) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < minimum:
        raise ApiError(400, "invalid_parameter", _l("“%(name)s” must be a whole number of at least %(min)d.",
                                                    name=name, min=minimum))
    return int(value)


def page_of(stmt, endpoint: str, represent, **values):
    """One page of a statement's rows as the API's list envelope: items, page, per_page, total, next, prev."""
    page = int_arg("page", 1)
    per_page = min(int_arg("per_page", PER_PAGE), MAX_PER_PAGE)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=MAX_PER_PAGE)
    items = represent(pagination.items)
    extra = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def link(number):
        return url_for(endpoint, page=number, per_page=per_page, _external=True, **values, **extra)

    return {"items": items, "page": page, "per_page": per_page, "total": pagination.total,
            "next": link(page + 1) if page * per_page < pagination.total else None,
            "prev": link(min(page - 1, max(pagination.pages, 1))) if page > 1 else None}


def cursor_arg():
    """Where a list paged by a seek begins (`after`, `before` or `last=1`: contest.services.search.Cursor) and its
    page's size. Such a list has no page numbers: a `page` past the first is refused, not read as the first."""
    from contest.services.search import Cursor

    if int_arg("page", 1) != 1:
        raise ApiError(400, "invalid_parameter", _l("This list has no page numbers: follow its “next” and “prev” "
                                                    "links (after=, before=), or ask for last=1."))
    for name in ("after", "before"):
        int_arg(name)  # refused when it is no id
    return Cursor.from_args(request.args), min(int_arg("per_page", PER_PAGE), MAX_PER_PAGE)


def seek_page_of(page, per_page: int, endpoint: str, represent, **values):
    """A page read by a seek (contest.services.search.EntryPage) as the API's list envelope: items, per_page,
    total (with total_capped: more than total were found), and the next and prev links."""
    extra = {k: v for k, v in request.args.items() if k not in ("page", "per_page", "after", "before", "last")}

    def link(cursor):
        return url_for(endpoint, per_page=per_page, _external=True, **values, **extra, **cursor.as_args())

    return {"items": represent(page.entries), "per_page": per_page, "total": page.total,
            "total_capped": page.capped, "next": link(page.next) if page.next else None,
            "prev": link(page.prev) if page.prev else None}
