"""How a visitor reads the site: the text size they chose (standard, large, larger: the national guidance on
sites for older residents, 适老化, asks for adjustable text), kept in their session like their language."""
from __future__ import annotations

from flask import has_request_context, session

TEXT_SIZES = ("standard", "large", "larger")
# What a visitor chose and keeps when they log in or out (nothing else of a session outlives it).
PREFERENCES = ("lang", "text_size")


def text_size() -> str:
    chosen = session.get("text_size") if has_request_context() else None
    return chosen if chosen in TEXT_SIZES else TEXT_SIZES[0]


def kept_preferences() -> dict:
    """The visitor's choices in the session, to carry over a new session."""
    return {key: session[key] for key in PREFERENCES if key in session}
