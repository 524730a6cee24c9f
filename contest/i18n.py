"""Which language a page speaks: the visitor's choice, then their profile's, then what their browser asks for
(Accept-Language, on a first visit), then Chinese; and which of a text's two languages it shows (local_text)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from babel import negotiate_locale
from flask import Response, current_app, g, has_request_context, request, session
from flask_login import current_user
from markupsafe import Markup, escape

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

    return gettext("%(name)s (%(weight)s%%)", name=criterion.local("name"), weight=criterion.weight)


def meeting_place(meeting) -> str:
    """Where a meeting is held: its place in the department tree and its venue, either or both."""
    from flask_babel import gettext

    place = meeting.place.display_name if meeting.place else ""
    if place and meeting.venue:
        return gettext("%(place)s, %(venue)s", place=place, venue=meeting.venue)
    return place or meeting.venue or ""


# What a department writes (a call's title, a round's criteria, a meeting's minutes) has its Chinese text, the text
# of record, and may have an English one beside it, in a column named after the Chinese one with "_en".
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
LATIN = re.compile(r"[A-Za-z]")


def page_language() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale is not None else "zh"


@dataclass(frozen=True)
class LocalText:
    """A text in the page's language when it was given in it, else in Chinese, saying which language it is in.

    Printed in a template it marks itself: a text in another language than the page's comes inside
    `<span lang="zh-Hans">`, so that a screen reader reads it in the right voice. `.text` is the bare string (for
    attributes, <title> and plain-text mails), `missing` says that the page wanted English and found none."""

    text: str
    lang: str  # "zh" or "en": the language the text is written in
    missing: bool = False

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)

    @property
    def html_lang(self) -> str:
        return HTML_LANG.get(self.lang, self.lang)

    @property
    def foreign(self) -> bool:
        """In another language than the page's: its element needs its own lang attribute."""
        return self.lang != page_language()

    def __html__(self) -> str:
        if not self.foreign:
            return str(escape(self.text))
        return str(Markup('<span lang="{}">{}</span>').format(self.html_lang, self.text))


def local_text(zh: str | None, en: str | None, language: str | None = None) -> LocalText:
    """The one rule: the English text on an English page when there is one, else the Chinese text of record."""
    language = language or page_language()
    if language == "en":
        if (en or "").strip():
            return LocalText(en, "en")
        return LocalText(zh or "", "zh", missing=bool(zh))
    return LocalText(zh or "", "zh")


def event_round(detail: dict) -> LocalText:
    """The round a timeline event names (its detail keeps the round's title and English twin as they were then),
    in the page's language: what the dated timeline and the call's journey both say."""
    return local_text(detail.get("round", ""), detail.get("round_en"))


class Bilingual:
    """A model whose texts in TRANSLATED have an English twin `<field>_en` beside the Chinese `<field>`."""

    TRANSLATED: tuple[str, ...] = ()

    def local(self, field: str, language: str | None = None) -> LocalText:
        return local_text(getattr(self, field), getattr(self, f"{field}_en"), language)

    def both(self, field: str) -> dict[str, str | None]:
        """The field in both languages, as the API and the archive carry it: {"zh": ..., "en": ...}."""
        return {"zh": getattr(self, field), "en": getattr(self, f"{field}_en") or None}


def language_of(text: str | None) -> str | None:
    """The language a citizen wrote in, as far as the site tells them apart: any Chinese character makes it
    Chinese, Latin letters alone English; None for a text with neither (digits, emoji, nothing)."""
    if not text:
        return None
    if CJK.search(text):
        return "zh"
    if LATIN.search(text):
        return "en"
    return None


def lang_attribute(text: str | None) -> Markup:
    """` lang="..."` for an element holding a citizen's text, when its language can be told; else nothing."""
    language = language_of(text)
    return Markup(' lang="{}"').format(HTML_LANG[language]) if language else Markup("")


def english(text: str | None) -> str | None:
    """An English twin as stored: None when none was given, so that the Chinese text stands in (marked)."""
    return (text or "").strip() or None


def split_english(text: str | None, lines: bool = False) -> list[str]:
    """The English twins of a list, kept by position (themes by commas, topics and prizes one a line)."""
    parts = (text or "").splitlines() if lines else re.split(r"[,，、;；\n]+", text or "")
    names = [part.strip() for part in parts]
    while names and not names[-1]:
        names.pop()
    return names


def english_list(twins: list[str | None], separator: str = "\n") -> str:
    """The English twins of a list as the form shows them, position by position (a gap left empty)."""
    texts = [twin or "" for twin in twins]
    while texts and not texts[-1]:
        texts.pop()
    return separator.join(texts)
