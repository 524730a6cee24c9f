"""Which language a page speaks: the visitor's choice, then their profile's, then Chinese."""
from __future__ import annotations

from flask import current_app, has_request_context, session
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
    return current_app.config["BABEL_DEFAULT_LOCALE"]
