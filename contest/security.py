"""Response headers every page carries, and the check that keeps redirects on this site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline script, ever
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# A year, as nginx's own (deploy/nginx/contest.conf hides the app's copy so a browser gets one header).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def content_security_policy() -> str:
    """The policy, with a configured map tile source's origin allowed as an image source (nothing else is)."""
    tiles = current_app.config.get("MAP_TILE_URL")
    if not tiles:
        return CONTENT_SECURITY_POLICY
    parts = urlsplit(tiles)
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {parts.scheme}://{parts.netloc}")


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    # geolocation for this site only: the map's "use my location" button asks for it, nothing else.
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    # Production served over HTTPS without nginx in front still pins browsers to HTTPS; over plain HTTP the
    # header means nothing (RFC 6797 8.1), and in development it would pin localhost.
    if request.is_secure and current_app.config["CONTEST_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def retry_after_that_means_it(response):
    """Flask-Limiter sets Retry-After on every answer under a limit (when its window resets). It means something on
    a 429, where the limiter says when, and on a 503, where the site does (storage or database out of reach for a
    moment); a 503 from a form under an hourly limit must not tell the browser to wait an hour."""
    from contest.errors import RETRY_AFTER

    if response.status_code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    elif response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def init_security(app: Flask) -> None:
    from contest.text import refuse_control_characters_in_args

    app.before_request(refuse_control_characters_in_args)
    app.after_request(add_security_headers)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (so `//evil.example` and `https://...` are dropped)."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
