"""A visitor who scanned a poster's QR code: remembered in their session, per call, for a week, so that the
entry they then send to that call counts as sent through the poster."""
from __future__ import annotations

from datetime import timedelta

from flask import session

from contest.models import Call, Poster
from contest.models.types import utcnow
from contest.services import posters as poster_service

SESSION_KEY = "posters"
REMEMBER_FOR = timedelta(days=7)
MOST_CALLS = 10  # the session lives in a cookie: keep it small


def remember(call: Call, code) -> None:
    """Remember the poster of `code` for this call; an unknown or another call's code is ignored silently."""
    poster = poster_service.find_poster(call, code)
    if poster is None:
        return
    now = int(utcnow().timestamp())
    held = {key: value for key, value in session.get(SESSION_KEY, {}).items() if _valid(value, now)}
    held.pop(str(call.id), None)
    held[str(call.id)] = [poster.code, now + int(REMEMBER_FOR.total_seconds())]
    session[SESSION_KEY] = dict(list(held.items())[-MOST_CALLS:])


def remembered(call: Call) -> Poster | None:
    """The poster this visitor arrived through for this call, if within the week and it still exists."""
    value = session.get(SESSION_KEY, {}).get(str(call.id))
    if not _valid(value, int(utcnow().timestamp())):
        return None
    return poster_service.find_poster(call, value[0])


def _valid(value, now: int) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int) and value[1] > now)
