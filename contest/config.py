"""Configuration: defaults, then CONTEST_* environment variables, then the overrides given to create_app."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """The configuration cannot run safely (e.g. production without a secret key)."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# name of the environment variable -> (config key, converter)
ENVIRONMENT = {
    "CONTEST_ENV": ("CONTEST_ENV", str),
    "CONTEST_COMMENT_REPORTS_TO_HIDE": ("COMMENT_REPORTS_TO_HIDE", int),
    "CONTEST_COMMENT_FIRST_MODERATED": ("COMMENT_FIRST_MODERATED", int),
    "CONTEST_SECRET_KEY": ("SECRET_KEY", str),
    "CONTEST_BASE_URL": ("BASE_URL", str),
    "CONTEST_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "CONTEST_STORAGE": ("STORAGE_BACKEND", str),
    "CONTEST_UPLOAD_DIR": ("UPLOAD_DIR", str),
    "CONTEST_S3_BUCKET": ("S3_BUCKET", str),
    "CONTEST_S3_ENDPOINT_URL": ("S3_ENDPOINT_URL", str),
    "CONTEST_S3_REGION": ("S3_REGION", str),
    "CONTEST_S3_ACCESS_KEY_ID": ("S3_ACCESS_KEY_ID", str),
    "CONTEST_S3_SECRET_ACCESS_KEY": ("S3_SECRET_ACCESS_KEY", str),
    "CONTEST_REDIS_URL": ("REDIS_URL", str),
    "CONTEST_MAIL_BACKEND": ("MAIL_BACKEND", str),
    "CONTEST_SMS_BACKEND": ("SMS_BACKEND", str),
    "CONTEST_SMS_HTTP_URL": ("SMS_HTTP_URL", str),
    "CONTEST_SMS_HTTP_TOKEN": ("SMS_HTTP_TOKEN", str),
    "CONTEST_PHONE_KEY": ("PHONE_KEY", str),
    "CONTEST_MAIL_SERVER": ("MAIL_SERVER", str),
    "CONTEST_MAIL_PORT": ("MAIL_PORT", int),
    "CONTEST_MAIL_USERNAME": ("MAIL_USERNAME", str),
    "CONTEST_MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "CONTEST_MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "CONTEST_MAIL_SENDER": ("MAIL_SENDER", str),
    "CONTEST_MAIL_QUEUE": ("MAIL_QUEUE", _bool),
    "CONTEST_MAIL_RETRY_FIRST_SECONDS": ("MAIL_RETRY_FIRST_SECONDS", int),
    "CONTEST_MAIL_RETRY_MAX_SECONDS": ("MAIL_RETRY_MAX_SECONDS", int),
    "CONTEST_WORKER_POLL_SECONDS": ("WORKER_POLL_SECONDS", float),
    "CONTEST_DIGEST_HOUR": ("DIGEST_HOUR", int),
    "CONTEST_JUROR_REMINDER_DAYS": ("JUROR_REMINDER_DAYS", int),
    "CONTEST_RESULTS_INLINE_ENTRIES": ("RESULTS_INLINE_ENTRIES", int),
    "CONTEST_MAX_UPLOAD_MB": ("MAX_UPLOAD_MB", int),
    "CONTEST_TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "CONTEST_DEFAULT_LOCALE": ("BABEL_DEFAULT_LOCALE", str),
    "CONTEST_POSTER_FONT": ("POSTER_FONT", str),
    "CONTEST_WALK_METRES_PER_MINUTE": ("WALK_METRES_PER_MINUTE", float),
    "CONTEST_WALK_MINUTES": ("WALK_MINUTES", int),
    "CONTEST_MAP_TILE_URL": ("MAP_TILE_URL", str),
    "CONTEST_MAP_TILE_ATTRIBUTION": ("MAP_TILE_ATTRIBUTION", str),
    "CONTEST_ICP_FILING": ("ICP_FILING", str),
    "CONTEST_GOVERNMENT_SITE_ID": ("GOVERNMENT_SITE_ID", str),
}

DEFAULTS = {
    "CONTEST_ENV": "development",  # development | production | testing
    "SECRET_KEY": None,
    # The site's address as people reach it (scheme, host, and the path it is served under if any), for every
    # link made outside a page: mails, posters, the archive's pages (contest/links.py). None: required in
    # production; the development server's address in development, the test client's in the tests.
    "BASE_URL": None,
    "SQLALCHEMY_DATABASE_URI": None,  # None: a SQLite file under instance/
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "STORAGE_BACKEND": "local",  # local | s3
    "UPLOAD_DIR": None,  # None: uploads/ beside the package
    "S3_BUCKET": None,
    "S3_ENDPOINT_URL": None,
    "S3_REGION": "us-east-1",
    "REDIS_URL": None,
    "MAIL_BACKEND": "log",  # log (to the log and an in-process outbox) | smtp
    "SMS_BACKEND": "log",  # log (to the log and an in-process outbox) | http (SMS_HTTP_URL, SMS_HTTP_TOKEN)
    "SMS_HTTP_URL": None,
    "SMS_HTTP_TOKEN": None,
    "SMS_HTTP_TIMEOUT": 5,
    "PHONE_KEY": None,  # the HMAC key of stored numbers; None: the SECRET_KEY
    "PHONE_CODE_MINUTES": 10,  # a code expires
    "PHONE_WRONG_CODES": 5,  # this many wrong codes lock the number
    "PHONE_LOCK_MINUTES": 30,  # for this long
    "PHONE_CODE_LIMIT_PER_NUMBER": "3/hour",  # codes sent to one number
    "PHONE_CODE_LIMIT_PER_ADDRESS": "10/hour",
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": False,
    "MAIL_SENDER": "no-reply@contest.example.org",
    # The outbox: every mail is a row written in the transaction of the change that causes it, and the worker
    # (`flask --app wsgi worker`) sends it, retrying with a backoff that doubles from the first delay to the most.
    # None: on in production and whenever mail goes by SMTP; off for the log backend in development, where a
    # mail is logged at once and `scripts/start` needs no worker.
    "MAIL_QUEUE": None,
    "MAIL_RETRY_FIRST_SECONDS": 60,
    "MAIL_RETRY_MAX_SECONDS": 3600,
    "WORKER_POLL_SECONDS": 5.0,  # how long the worker rests when nothing is due
    "DIGEST_HOUR": 8,  # the daily digest goes out at this hour of BABEL_DEFAULT_TIMEZONE
    "JUROR_REMINDER_DAYS": 3,  # jurors with entries left to score are reminded this many days before closing
    "MAX_UPLOAD_MB": 64,
    "TRUSTED_PROXIES": 0,
    "LANGUAGES": ("zh", "en"),
    # Shown in every page's footer when set: the site's ICP filing number (备案号, linked to the ministry's
    # register) and, for a government site, its identifier (政府网站标识码).
    "ICP_FILING": "",
    "GOVERNMENT_SITE_ID": "",
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "EMAIL_CONFIRM_MAX_AGE": timedelta(days=7),
    "PASSWORD_RESET_MAX_AGE": timedelta(hours=1),
    # A public round's page makes its stored standing (counted votes, or the Bradley-Terry fit) again when it is
    # older than this and ballots came since (the worker makes those of open rounds again once a minute, so a page
    # rarely has to); a votes round whose last count found fewer votes than STANDING_LIVE_VOTES is counted again on
    # the next view after any vote (contest/services/public/standings.py)
    "STANDING_MAX_AGE": timedelta(minutes=2),
    "STANDING_LIVE_VOTES": 20000,
    # A call with more entries than this has its results snapshot computed, and its entrants mailed of the
    # publication, by the worker (the page shows the progress); a smaller one in the request, as it takes well
    # under a second (contest/services/results/jobs.py)
    "RESULTS_INLINE_ENTRIES": 5000,
    "PASSWORD_MIN_LENGTH": 10,
    # Rate limits (Flask-Limiter notation). Failed logins count per account at one address, per account from
    # every address (higher: a stranger typing wrong passwords at one address must not lock the owner out, and
    # the owner is mailed once per LOGIN_WARNING_MAIL_LIMIT when it is reached), and per address (higher too,
    # so that a school or an office behind one address can still log in).
    "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS": "10/minute",
    "LOGIN_LIMIT_PER_ACCOUNT": "50/minute",
    "LOGIN_LIMIT_PER_ADDRESS": "30/minute",
    "LOGIN_WARNING_MAIL_LIMIT": "1/hour",
    "REGISTER_LIMIT_PER_ACCOUNT": "5/hour",
    "REGISTER_LIMIT_PER_ADDRESS": "30/hour",
    "MAIL_LIMIT_PER_ACCOUNT": "5/hour",  # reset and confirmation mails, against mail-bombing
    "MAIL_LIMIT_PER_ADDRESS": "30/hour",
    # Votes and comparisons: generous per account (a citizen comparing pairs answers quickly), and per address
    # high enough for a school or an office behind one address; the integrity view shows crowded addresses.
    "VOTE_LIMIT_PER_ACCOUNT": "60/minute",
    "VOTE_LIMIT_PER_ADDRESS": "600/minute",
    "OBJECTION_LIMIT": "10/hour",  # per account: objections are read and answered by people
    # Comments: per account and per address (reports and endorsements count with them); a comment reported by
    # this many distinct people is hidden until an organiser looks; a new account's first comments wait.
    "COMMENT_LIMIT_PER_ACCOUNT": "20/hour",
    "COMMENT_LIMIT_PER_ADDRESS": "200/hour",
    "COMMENT_REPORTS_TO_HIDE": 3,
    "COMMENT_FIRST_MODERATED": 1,
    "COMMENTS_PER_PAGE": 20,
    # Entries sent or changed, through the web forms and the API together (the quota per call still holds):
    # against a loop of sending and withdrawing that fills the file storage.
    "SUBMIT_LIMIT_PER_ACCOUNT": "30/hour",
    "SUBMIT_LIMIT_PER_ADDRESS": "300/hour",
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_HEADERS_ENABLED": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
    # The token lives as long as the session: a citizen writing a long entry must not lose it.
    "WTF_CSRF_TIME_LIMIT": None,
    "USERS_PER_PAGE": 50,
    # "Within a 15-minute walk": the minutes asked by default and the walking pace (about 1 km in 15 minutes).
    "WALK_MINUTES": 15,
    "WALK_METRES_PER_MINUTE": 67.0,
    # Map tiles drawn beneath the district outlines, e.g. Tianditu's WGS-84 tiles with its key; None: outlines only.
    "MAP_TILE_URL": None,
    "MAP_TILE_ATTRIBUTION": "",
    "POSTER_FONT": None,  # a CJK font file for printed posters; None: the first found in the usual places
    # How far a test app's clock runs ahead of the real one (contest.models.types.utcnow); read only when TESTING.
    "TEST_CLOCK_OFFSET": None,
}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the settings for one app: defaults, then the environment, then overrides."""
    config = dict(DEFAULTS)
    for variable, (key, convert) in ENVIRONMENT.items():
        if variable in os.environ and os.environ[variable] != "":
            config[key] = convert(os.environ[variable])
    config.update(overrides or {})

    production = config["CONTEST_ENV"] == "production"
    root = Path(__file__).resolve().parent.parent
    if not config["SQLALCHEMY_DATABASE_URI"]:
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(instance_path, "contest.sqlite3")
    if not config["UPLOAD_DIR"]:
        config["UPLOAD_DIR"] = str(root / "uploads")
    if not config["SECRET_KEY"]:
        if production:
            raise ConfigError("CONTEST_SECRET_KEY must be set when CONTEST_ENV=production.")
        config["SECRET_KEY"] = _instance_secret(instance_path)
    config["BASE_URL"] = _base_url(config["BASE_URL"], config["CONTEST_ENV"])
    if production:
        config["SESSION_COOKIE_SECURE"] = True
    if config["MAIL_QUEUE"] is None:
        config["MAIL_QUEUE"] = production or config["MAIL_BACKEND"] == "smtp"
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database host that does not answer (rather than refusing) must fail a request in seconds: libpq
        # waits for as long as the operating system does (minutes) unless told.
        options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"connect_timeout": 5, **options.get("connect_args", {})}
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if config["REDIS_URL"]:
        config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"])
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        # When Redis goes away the limits fall back to this process's memory (and the log says so once); a
        # request must find that out within a second, not after redis-py's ten retries or a long timeout.
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", _redis_options())
    else:
        # limits' "memory://" with a thread-safe expiry timer (contest/ratelimits.py)
        config.setdefault("RATELIMIT_STORAGE_URI", "contest-memory://")
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024
    return config


DEVELOPMENT_BASE_URLS = {"development": "http://127.0.0.1:5000", "testing": "http://localhost"}


def _base_url(value: str | None, environment: str) -> str:
    """The site's address, checked: http(s), a host, an optional path, no query or fragment; no trailing slash."""
    if not value:
        if environment not in DEVELOPMENT_BASE_URLS:
            raise ConfigError(f"CONTEST_BASE_URL must be set when CONTEST_ENV={environment}: the site's address as "
                              "people reach it (e.g. https://contest.example.org), for the links in mails.")
        return DEVELOPMENT_BASE_URLS[environment]
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or \
            parts.fragment or "@" in parts.netloc or value.strip().endswith(("?", "#")):
        raise ConfigError(f"CONTEST_BASE_URL must be the site's address, such as https://contest.example.org or "
                          f"https://city.example.org/contest (given: {value!r}).")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _redis_options() -> dict:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One retry: a connection Redis dropped while restarting is replaced at once.
    return {"socket_connect_timeout": 1, "socket_timeout": 1, "retry": Retry(NoBackoff(), 1)}


def _instance_secret(instance_path: str) -> str:
    """A secret generated once per instance folder, so sessions survive restarts in development."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together must end with one key, not two.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
