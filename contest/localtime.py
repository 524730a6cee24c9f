"""The site's own time zone (BABEL_DEFAULT_TIMEZONE, Shanghai by default): forms speak it, the database UTC.

Times that people set (a call's and a round's dates) are kept and compared to the minute: a form shows and sends
minutes, so a moment with seconds would never equal what the form gives back. Pages show minutes too."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_date_format, get_datetime_format, get_time_format
from flask import current_app

UTC = ZoneInfo("UTC")

# How a datetime-local input is shown (the first) and read (any of them).
FORM_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def to_minute(value: datetime | None) -> datetime | None:
    """The moment cut to its minute (seconds and microseconds dropped)."""
    return value.replace(second=0, microsecond=0) if value else None


def up_to_minute(value: datetime) -> datetime:
    """The moment rounded up to its minute: the first minute a page can show by which it has come (a page that
    said the minute it falls in would name a time still too early)."""
    start = to_minute(value)
    return start if start == value else start + timedelta(minutes=1)


def to_utc(value: datetime | None) -> datetime | None:
    """A naive date-time typed in a form, read in the site's zone, as an aware UTC one, to the minute."""
    return to_minute(value.replace(tzinfo=site_zone()).astimezone(UTC)) if value else None


def to_local(value: datetime | None) -> datetime | None:
    """An aware date-time as the naive one a form shows, in the site's zone, to the minute."""
    return to_minute(value.astimezone(site_zone()).replace(tzinfo=None)) if value else None


def format_moment(value: datetime | None, length: str = "medium") -> str:
    """A date and time in the reader's language and the site's zone, without seconds ("2027年1月1日 03:37",
    "Jan 1, 2027, 3:37 AM"): the locale's date of that length beside its short time. The `datetimeformat`
    filter of every template."""
    from flask_babel import format_datetime, get_locale

    if value is None:
        return ""
    if length not in ("short", "medium", "long", "full"):
        return format_datetime(value, length)  # a pattern of its own
    locale = get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]
    pattern = (get_datetime_format(length, locale=locale)
               .replace("{1}", get_date_format(length, locale=locale).pattern)
               .replace("{0}", get_time_format("short", locale=locale).pattern))
    return format_datetime(value, pattern)
