"""The site's own time zone (BABEL_DEFAULT_TIMEZONE, Shanghai by default): forms speak it, the database UTC."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

UTC = ZoneInfo("UTC")


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def to_utc(value: datetime | None) -> datetime | None:
    """A naive date-time typed in a form, read in the site's zone, as an aware UTC one."""
    return value.replace(tzinfo=site_zone()).astimezone(UTC) if value else None


def to_local(value: datetime | None) -> datetime | None:
    """An aware date-time as the naive one a form shows, in the site's zone."""
    return value.astimezone(site_zone()).replace(tzinfo=None) if value else None
