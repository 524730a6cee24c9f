"""Where uploaded files live: one Storage protocol with a local-folder and an S3 backend, chosen by configuration."""
from __future__ import annotations

from flask import Flask, current_app

from contest.config import ConfigError
from contest.storage.base import (
    EXTENSION_RE,
    KEY_RE,
    MAX_KEY_LENGTH,
    PREFIX_RE,
    FileMissing,
    InvalidKey,
    Storage,
    StorageError,
    check_key,
    check_prefix,
    new_key,
)

__all__ = ["BACKENDS", "EXTENSION_RE", "KEY_RE", "MAX_KEY_LENGTH", "PREFIX_RE", "FileMissing", "InvalidKey",
           "Storage", "StorageError", "check_key", "check_prefix", "init_storage", "new_key", "storage"]

BACKENDS = ("local", "s3")

_EXTENSION_KEY = "contest_storage"
_BY_NAME_KEY = "contest_storage_by_name"


def init_storage(app: Flask) -> None:
    """Build the configured backend, so a bad setting fails at start-up; no file or network access happens here."""
    backend = _build(app, app.config["STORAGE_BACKEND"])
    app.extensions[_EXTENSION_KEY] = backend
    app.extensions.setdefault(_BY_NAME_KEY, {})[backend.name] = backend


def storage(name: str | None = None) -> Storage:
    """The current app's configured backend, or (given the name a file's row records) the backend holding that file."""
    app = current_app
    configured = app.extensions.get(_EXTENSION_KEY)
    if configured is None:
        init_storage(app)
        configured = app.extensions[_EXTENSION_KEY]
    if name is None or name == configured.name:
        return configured
    if name not in BACKENDS:
        raise StorageError(f"unknown storage backend {name!r}")
    by_name = app.extensions.setdefault(_BY_NAME_KEY, {})
    if name not in by_name:
        # Two requests may race to build it; both objects are equivalent and the first one stored wins.
        by_name.setdefault(name, _build(app, name))
    return by_name[name]


def _build(app: Flask, name: str) -> Storage:
    config = app.config
    if name == "local":
        from contest.storage.local import LocalStorage

        return LocalStorage(config["UPLOAD_DIR"])
    if name == "s3":
        from contest.storage.s3 import S3Storage

        if not config.get("S3_BUCKET"):
            raise ConfigError("S3_BUCKET (CONTEST_S3_BUCKET) must be set to use the s3 storage backend.")
        return S3Storage(
            config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or "us-east-1",
            access_key=config.get("S3_ACCESS_KEY_ID"),
            secret_key=config.get("S3_SECRET_ACCESS_KEY"),
            addressing_style=config.get("S3_ADDRESSING_STYLE"),
        )
    raise ConfigError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}.")
