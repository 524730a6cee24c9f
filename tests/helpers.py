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
# A site served below a path of another host: where the links of mails and archived pages must lead.
SITE = "https://contest.example.org/sub-path"
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


API_TOKEN_RE = re.compile(r"pcd_[A-Za-z0-9_-]{40,}")


def make_token(client, email: str, name: str = "我的手机", password: str = PASSWORD) -> str:
    """Log in on the web, make an API token on the account page, read it off the page, and forget the session
    (as a closed browser does: logging out everywhere would revoke the token)."""
    log_in(client, email, password)
    response = post_form(client, "/account/api-tokens", {"name": name})
    assert response.status_code == 200
    match = API_TOKEN_RE.search(response.get_data(as_text=True))
    assert match, "the new token is shown on the page"
    with client.session_transaction() as session:
        session.clear()
    return match.group(0)


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


def last_mail(to: str):
    mails = [m for m in outbox() if m.to == to]
    assert mails, f"no mail to {to}"
    return mails[-1]


def link_in(mail, base_url: str | None = None) -> str:
    """The path of the first link of this site in a mail; with `base_url`, the link must start with it (the site's
    configured address, sub-path included) and the path returned is the one below it, as the site routes it."""
    match = re.search(r"https?://\S+", mail.body)
    assert match, "no link in the mail"
    link = match.group(0)
    if base_url is not None:
        assert link.startswith(base_url.rstrip("/") + "/"), f"{link} is not under {base_url}"
        link = "http://site" + link.removeprefix(base_url.rstrip("/"))
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def zh(message: str, **variables) -> str:
    """A message as a Chinese page shows it (HTML-escaped), checked to be really translated."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with force_locale("zh"):
        text = gettext(message, **variables)
    assert text != message % variables if variables else text != message, f"untranslated: {message}"
    return str(escape(text))


# Calls and entries ----------------------------------------------------------------------------

def picture_bytes(seed: int = 1, size=(800, 600), fmt: str = "JPEG", **save) -> bytes:
    """A small picture that is not blank: stripes and a disc placed by the seed, so seeds differ. The same
    arguments give the same bytes, drawn once a run."""
    key = (seed, tuple(size), fmt, tuple(sorted(save.items())))
    if key not in _PICTURES:
        _PICTURES[key] = _draw_picture(seed, tuple(size), fmt, **save)
    return _PICTURES[key]


_PICTURES: dict[tuple, bytes] = {}


def _draw_picture(seed: int, size: tuple[int, int], fmt: str, **save) -> bytes:
    import io
    import random

    from PIL import Image as PILImage
    from PIL import ImageDraw

    rng = random.Random(seed)
    image = PILImage.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    step = rng.randrange(20, 60)
    for x in range(0, size[0], step):
        draw.rectangle([x, 0, x + step // 3, size[1]], fill=(rng.randrange(256), 40, 40))
    r = rng.randrange(max(2, min(size) // 8), max(3, min(size) // 3))
    cx, cy = rng.randrange(r, size[0] - r), rng.randrange(r, size[1] - r)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(250, 250, rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def make_call(department, *, kind=None, title="道路栏杆请您绘", state="open", co_departments=(), **fields):
    """A published call, open now (or `upcoming`, `closed`, `draft`)."""
    from datetime import timedelta

    from contest.models import Call, CallKind, Topic

    now = utcnow()
    opens, closes = {
        "open": (now - timedelta(days=1), now + timedelta(days=30)),
        "upcoming": (now + timedelta(days=2), now + timedelta(days=30)),
        "closed": (now - timedelta(days=30), now - timedelta(days=1)),
        "draft": (now - timedelta(days=1), now + timedelta(days=30)),
    }[state]
    settings = dict(summary="为城市道路栏杆设计新图案。", brief="## 要求\n\n请设计。",
                    licence_text="作品以 CC BY 4.0 许可发布。", originality_text="本人原创。",
                    image_formats=["JPEG", "PNG"], images_min=1, images_max=3, image_max_mb=5, entries_per_person=2)
    settings.update(fields)
    call = Call(kind=kind or CallKind.DESIGN, title=title, department=department, opens_at=opens, closes_at=closes,
                published_at=None if state == "draft" else opens, co_departments=list(co_departments), **settings)
    if call.kind is CallKind.IDEA:
        call.topics = [Topic(title="社区空间品质", position=0), Topic(title="公共设施", position=1)]
    db.session.add(call)
    db.session.commit()
    return call


def submit_design(client, call, *, title="海派栏杆", images=None, accept=True, alts=None, extra=None):
    """Send a design entry through the form, as an entrant's browser does."""
    images = images if images is not None else [picture_bytes(1)]
    data = {"title": title, "description": "以石库门纹样为灵感。", "topic_id": "0", "place_id": "0"}
    if accept:
        data["accept"] = "y"
    for n, content in enumerate(images, start=1):
        name = content[0] if isinstance(content, tuple) else f"design-{n}.jpg"
        body = content[1] if isinstance(content, tuple) else content
        data[f"image-{n}"] = (io_bytes(body), name)
        data[f"image-{n}-alt"] = (alts or {}).get(n, f"第{n}张设计图：红色栏杆")
    data.update(extra or {})
    return post_form(client, f"/calls/{call.id}/enter", data, content_type="multipart/form-data")


def io_bytes(data: bytes):
    import io

    return io.BytesIO(data)


def count_rows(model) -> int:
    from sqlalchemy import func, select

    db.session.commit()  # a new transaction, so the count sees what other threads committed
    return db.session.scalar(select(func.count()).select_from(model))


def make_round(call, actor, *, k=2, state="open", criteria=(("文化表达", 30), ("可行性与安全", 30), ("美观", 40)),
               blind=True, normalise=False):
    """An expert round on the call, open now (or `upcoming`)."""
    from datetime import timedelta

    from contest.services.rounds import RoundData, create_round

    now = utcnow()
    opens = now - timedelta(hours=1) if state == "open" else now + timedelta(days=1)
    round_ = create_round(actor, call, RoundData(
        title="专家评审", opens_at=opens, closes_at=opens + timedelta(days=10),
        criteria=[(name, weight, "") for name, weight in criteria], jurors_per_entry=k, blind=blind,
        normalise=normalise))
    db.session.commit()
    return round_


def make_juror(round_, email, name="评委"):
    from contest.models import RoundMember

    user = make_user(email, name=name)
    member = RoundMember(round=round_, email=email, user=user, accepted_at=utcnow())
    db.session.add(member)
    db.session.commit()
    return user, member


def approved_entries(call, n, start_seed=100):
    """n approved design entries by n different citizens."""
    from contest.models import Entry, EntryStatus
    from contest.services.entries import EntryData, Upload, submit_entry

    entries = []
    from flask import current_app

    for i in range(n):
        author = make_user(f"entrant{call.id}-{i}@example.org", name=f"作者{call.id}-{i}")
        with current_app.test_request_context():
            entry = submit_entry(author, call, EntryData(title=f"作品{i}"),
                                 [Upload(picture_bytes(start_seed + i), f"图{i}")], accepted_terms=True)
        entry.status = EntryStatus.APPROVED
        db.session.commit()
        entries.append(entry)
    assert all(isinstance(e, Entry) for e in entries)
    return entries


def make_public_round(call, actor, *, mode="votes", votes=3, age_hours=24, hide_counts=True, state="open"):
    from datetime import timedelta

    from contest.models import PublicMode
    from contest.services.public import PublicRoundData, create_public_round

    now = utcnow()
    opens = now - timedelta(hours=1) if state == "open" else now + timedelta(days=1)
    round_ = create_public_round(actor, call, PublicRoundData(
        title="公众评选", opens_at=opens, closes_at=opens + timedelta(days=7), mode=PublicMode(mode),
        votes_per_citizen=votes, min_account_age_hours=age_hours, hide_counts=hide_counts))
    db.session.commit()
    return round_


def make_voter(email, *, days_old=3, **kwargs):
    from datetime import timedelta

    user = make_user(email, **kwargs)
    user.created_at = utcnow() - timedelta(days=days_old)
    db.session.commit()
    return user


def zh_n(singular: str, plural: str, num: int, **variables) -> str:
    """A plural message as a Chinese page shows it."""
    from flask_babel import force_locale, ngettext
    from markupsafe import escape

    with force_locale("zh"):
        text = ngettext(singular, plural, num, **variables)
    assert text not in (singular % dict(variables, num=num), plural % dict(variables, num=num)), "untranslated"
    return str(escape(text))


def adopt(entry, organiser):
    """The organiser adopts an entry, its call's results published first if they were not."""
    from flask import current_app

    from contest.services.followup import adopt as adopt_entry

    if entry.call.results_published_at is None:
        entry.call.results_published_at = utcnow()
    with current_app.test_request_context():
        follow_up = adopt_entry(organiser, entry)
    db.session.commit()
    return follow_up


def adopted_entry(call, organiser, start_seed=700):
    """A new approved entry of the call, adopted by the organiser: its follow-up."""
    return adopt(approved_entries(call, 1, start_seed)[0], organiser)


def make_decided_round(call, actor, entries, advanced, *, title="专家评审"):
    """An expert round of the call, over and decided: `entries` took part and `advanced` (some of them) go on."""
    from datetime import timedelta

    from contest.models import RoundEntry

    round_ = make_round(call, actor, state="upcoming")
    round_.title = title
    round_.opens_at, round_.closes_at = utcnow() - timedelta(days=10), utcnow() - timedelta(days=2)
    for entry in entries:
        db.session.add(RoundEntry(round_id=round_.id, entry_id=entry.id, advanced=entry in advanced))
    round_.decided_at, round_.decided_by_id = utcnow() - timedelta(days=1), actor.id
    db.session.commit()
    return round_


def rows_holding(needle: str) -> list[tuple[str, str]]:
    """Every (table, column) of the whole schema where some row's text holds the needle."""
    from sqlalchemy import JSON, String, Text, cast, func, select

    found = []
    for table in db.Model.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            as_text = cast(column, Text)  # enums and JSON too, as the database holds them
            hit = db.session.scalar(select(func.count()).select_from(table)
                                    .where(as_text.like(f"%{needle}%")))
            if hit:
                found.append((table.name, column.name))
    return found


def query_plan(statement, run: bool = False) -> str:
    """The plan the database chooses for a statement, as text, with sequential scans made as dear as they go
    (PostgreSQL), so that a missing index shows whatever the table's size. `run`: the plan as run (EXPLAIN ANALYZE),
    which alone shows the subqueries of a recursive query's columns on PostgreSQL.

    The tables the statement reads are analysed first, in the same transaction: the statistics are then those of
    the rows the test made, not what an earlier test's rolled-back rows left of a table's size (PostgreSQL keeps a
    table's row count outside the transaction that analysed it)."""
    compiled = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        for name in [t.name for t in db.metadata.sorted_tables] + ["entry_search"]:
            if re.search(rf"\b{name}\b", compiled):
                connection.exec_driver_sql(f'ANALYZE "{name}"')
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        explain = "EXPLAIN ANALYZE " if run else "EXPLAIN "
    else:
        explain = "EXPLAIN QUERY PLAN "
    rows = connection.exec_driver_sql(explain + compiled.replace("%", "%%")).all()
    db.session.rollback()
    return "\n".join(str(row[-1]) for row in rows)
