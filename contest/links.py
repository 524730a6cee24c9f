"""Links to the site from outside a page: built from its configured address (BASE_URL), never from a request.

A mail, a printed poster's QR code or a message of the worker must lead to where the site is served, whoever
caused it and from wherever: not to the host a request happened to name (a forged Host header would otherwise
put a stranger's address in a password-reset mail), and with no request at all in the worker and the commands.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Flask, current_app
from werkzeug.routing import MapAdapter


def url_adapter(app: Flask | None = None) -> MapAdapter:
    """The app's routes bound to its configured address: scheme, host (and port), and the path it is served under."""
    app = app or current_app._get_current_object()
    parts = urlsplit(app.config["BASE_URL"])
    return app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)


def external_url(endpoint: str, *, _anchor: str | None = None, **values) -> str:
    """The absolute address of `endpoint` (a full name such as "auth.confirm_email") on the configured site, as
    `url_for(endpoint, _external=True, **values)` would give inside a request to that very address."""
    app = current_app._get_current_object()
    values = {name: value for name, value in values.items() if value is not None}
    app.inject_url_defaults(endpoint, values)  # e.g. the hashed names of static files
    url = url_adapter(app).build(endpoint, values, force_external=True)
    if _anchor is not None:
        url += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")  # as Flask's url_for quotes it
    return url
