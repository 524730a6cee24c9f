"""Which language a page speaks: the visitor's choice, then their profile's, then what their browser asks for
(Accept-Language, on a first visit), then Chinese."""
from __future__ import annotations

from babel import negotiate_locale
from flask import Response, current_app, g, has_request_context, request, session
from flask_login import current_user

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
# The value of <html lang>: Simplified Chinese script, so screen readers pick the right voice.
HTML_LANG = {"zh": "zh-Hans", "en": "en"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command or the worker: a service's message in the site's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return browser_language() or current_app.config["BABEL_DEFAULT_LOCALE"]


def browser_language() -> str | None:
    """The site's language the request's Accept-Language header wants most (zh-TW counts as zh), if any."""
    g.language_from_browser = True  # the response depends on the header: vary_on_language says so
    asked = [tag for tag, _quality in request.accept_languages]  # most wanted first
    return negotiate_locale(asked, current_app.config["LANGUAGES"], sep="-")


def vary_on_language(response: Response) -> Response:
    """A response whose language followed the Accept-Language header: a shared cache must keep one copy per
    language (static files and media, which speak no language, are left to be cached as one)."""
    if g.get("language_from_browser"):
        response.vary.add("Accept-Language")
    return response


def listing(items) -> str:
    """Items joined as the page's language joins a list ("A, B, and C"; "A、B和C"): never a separator glued in code."""
    from babel.lists import format_list
    from flask_babel import get_locale

    return format_list([str(item) for item in items], locale=get_locale() or "zh")


def criterion_weight(criterion) -> str:
    """A criterion with its weight, "Safety (40%)" / "安全（40%）"."""
    from flask_babel import gettext

    return gettext("%(name)s (%(weight)s%%)", name=criterion.name, weight=criterion.weight)


def meeting_place(meeting) -> str:
    """Where a meeting is held: its place in the department tree and its venue, either or both."""
    from flask_babel import gettext

    place = meeting.place.display_name if meeting.place else ""
    if place and meeting.venue:
        return gettext("%(place)s, %(venue)s", place=place, venue=meeting.venue)
    return place or meeting.venue or ""
