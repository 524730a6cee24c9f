"""Helpers that let a test read like the story it checks."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from contest.extensions import db
from contest.mail import outbox
from contest.models import Department, DepartmentKind, DepartmentMember, ParticipantGroup, User
from contest.models.types import utcnow
from contest.services.accounts import hash_password

PASSWORD = "correct horse battery"
_HASH_CACHE: dict[str, str] = {}

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, page: str = "/account/login") -> str:
    html = client.get(page).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post_form(client, url: str, data: dict | None = None, page: str | None = None, **kwargs):
    """Post a form the way a browser does: with the CSRF token of the page it sits on."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, page or url)
    return client.post(url, data=data, **kwargs)


def make_user(email: str = "citizen@example.org", *, name: str = "A Citizen", confirmed: bool = True,
              admin: bool = False, group: ParticipantGroup = ParticipantGroup.CITIZEN,
              password: str = PASSWORD, locale: str = "zh") -> User:
    if password not in _HASH_CACHE:  # scrypt is slow on purpose; the tests need it once per password
        _HASH_CACHE[password] = hash_password(password)
    user = User(email=email, display_name=name, group=group, password_hash=_HASH_CACHE[password],
                is_admin=admin, locale=locale, email_confirmed_at=utcnow() if confirmed else None)
    db.session.add(user)
    db.session.commit()
    return user


def make_department(name: str, kind: DepartmentKind = DepartmentKind.AGENCY, parent: Department | None = None,
                    name_en: str | None = None) -> Department:
    department = Department(name=name, kind=kind, parent=parent, name_en=name_en)
    db.session.add(department)
    db.session.commit()
    return department


def make_organiser(department: Department, email: str = "organiser@example.org", **kwargs) -> User:
    user = make_user(email, name=kwargs.pop("name", "An Organiser"), **kwargs)
    db.session.add(DepartmentMember(department=department, user=user))
    db.session.commit()
    return user


def log_in(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    url = "/account/login" + (f"?next={next_url}" if next_url else "")
    return post_form(client, url, {"email": email, "password": password})


def log_out(client):
    return post_form(client, "/account/logout", page="/account/profile")


def last_mail(to: str):
    mails = [m for m in outbox() if m.to == to]
    assert mails, f"no mail to {to}"
    return mails[-1]


def link_in(mail) -> str:
    """The path of the first link of this site in a mail."""
    match = re.search(r"https?://\S+", mail.body)
    assert match, "no link in the mail"
    parts = urlsplit(match.group(0))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def zh(message: str, **variables) -> str:
    """A message as a Chinese page shows it (HTML-escaped), checked to be really translated."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with force_locale("zh"):
        text = gettext(message, **variables)
    assert text != message % variables if variables else text != message, f"untranslated: {message}"
    return str(escape(text))
