"""Column types shared by the models."""
from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import DateTime, Enum, TypeDecorator


def utcnow() -> datetime:
    """Now, in UTC: the site's one clock. A test app may move it with the setting TEST_CLOCK_OFFSET (a timedelta),
    so that a browser test lets days pass on a live server without touching the database; other apps ignore it."""
    now = datetime.now(UTC)
    if has_app_context() and current_app.testing:
        now += current_app.config.get("TEST_CLOCK_OFFSET") or timedelta(0)
    return now


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on both backends (SQLite keeps no time zone, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_class: type[enum.Enum], length: int = 20) -> Enum:
    """Store an enum by its value as a short string: portable, readable, no native type to migrate."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
