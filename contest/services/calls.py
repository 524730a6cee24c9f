"""Calls: creating and editing them, publishing, their public timeline, and finding them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select

from contest.extensions import db
from contest.i18n import LocalText, english, listing, local_text, split_english
from contest.localtime import to_minute
from contest.models import (
    Award,
    Call,
    CallEvent,
    CallKind,
    CallState,
    CallTheme,
    CombineOn,
    Department,
    Entry,
    EntryStatus,
    Prize,
    Topic,
    User,
)
from contest.models.types import utcnow
from contest.permissions import calls_run_by, can_manage_call, can_manage_department
from contest.services import ServiceError, results
from contest.services.audit import record

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")


@dataclass
class CallData:
    """Everything an organiser edits on a call's form."""

    title: str
    summary: str = ""
    brief: str = ""
    kind: CallKind = CallKind.DESIGN
    themes: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    prizes: list[tuple[str, int, str]] = field(default_factory=list)  # (name, count, reward)
    co_department_ids: list[int] = field(default_factory=list)
    image_formats: list[str] = field(default_factory=lambda: ["JPEG", "PNG"])
    images_min: int = 1
    images_max: int = 4
    image_max_mb: int = 10
    entries_per_person: int = 3
    licence_text: str = ""
    originality_text: str = ""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    cover_alt: str = ""
    originals_public: bool = False
    # The final formula (see contest.services.results)
    expert_weight: int = 100
    public_weight: int = 0
    combine_on: CombineOn = CombineOn.PERCENTILES
    formula_reason: str = ""  # needed to change it once the call is open
    # The English twins (optional); the lists go position by position beside the Chinese ones.
    title_en: str = ""
    summary_en: str = ""
    brief_en: str = ""
    licence_text_en: str = ""
    originality_text_en: str = ""
    themes_en: list[str] = field(default_factory=list)
    topics_en: list[str] = field(default_factory=list)
    prizes_en: list[tuple[str, str]] = field(default_factory=list)  # (name, reward)


def split_list(text: str) -> list[str]:
    """Themes as typed: separated by commas (Chinese or Latin), 、 or new lines; blanks and repeats dropped."""
    seen, names = set(), []
    for part in re.split(r"[,，、;；\n]+", text or ""):
        name = part.strip()
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name[:40])
    return names


def parse_english_prizes(text: str | None) -> list[tuple[str, str]]:
    """The English prizes, one a line beside the Chinese ones: `name | reward` (the reward optional)."""
    prizes = []
    for line in split_english(text, lines=True):
        parts = [p.strip() for p in line.split("|")]
        prizes.append((parts[0][:200], (parts[-1] if len(parts) > 1 else "")[:300]))
    return prizes


def parse_prizes(text: str) -> list[tuple[str, int, str]]:
    """One prize tier a line: `name | how many | reward` (the last two optional)."""
    prizes = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        count = 1
        if len(parts) > 1 and parts[1]:
            if not parts[1].isdigit() or int(parts[1]) < 1:
                raise ServiceError(_("Line %(n)d of the prizes: the number of prizes must be a whole number.",
                                     n=number))
            count = int(parts[1])
        prizes.append((parts[0][:100], count, (parts[2] if len(parts) > 2 else "")[:200]))
    return prizes


def _check(data: CallData) -> None:
    if not data.title.strip():
        raise ServiceError(_("Give the call a title."))
    if not set(data.image_formats) <= set(IMAGE_FORMATS) or not data.image_formats:
        raise ServiceError(_("Choose at least one accepted image type."))
    minimum = 1 if data.kind is CallKind.DESIGN else 0
    if not (minimum <= data.images_min <= data.images_max <= 12):
        raise ServiceError(_("Images per entry: the minimum must be at most the maximum, and the maximum at most 12."))
    if not (1 <= data.image_max_mb <= 50):
        raise ServiceError(_("Megabytes per image must be between 1 and 50."))
    if not (1 <= data.entries_per_person <= 50):
        raise ServiceError(_("Entries per person must be between 1 and 50."))
    if data.images_max * data.image_max_mb > current_app.config["MAX_UPLOAD_MB"]:
        raise ServiceError(_("Images per entry times megabytes per image may be at most %(mb)d MB, the most "
                             "this site accepts in one submission.", mb=current_app.config["MAX_UPLOAD_MB"]))
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        raise ServiceError(_("The call must close after it opens."))
    for chinese, twins, message in (
            (data.themes, data.themes_en, _("There are more English themes than Chinese ones: give them in the "
                                            "same order, one beside each.")),
            (data.topics, data.topics_en, _("There are more English topics than Chinese ones: give them in the "
                                            "same order, one a line beside each.")),
            (data.prizes, data.prizes_en, _("There are more English prizes than Chinese ones: give them in the "
                                            "same order, one a line beside each."))):
        if len(twins) > len(chinese):
            raise ServiceError(message)


def create_call(actor: User, department: Department, data: CallData) -> Call:
    if not can_manage_department(actor, department):
        raise ServiceError(_("You do not run calls for this department."))
    call = Call(kind=data.kind, title=data.title.strip(), department=department, created_by_id=actor.id)
    formula = results.Formula(data.expert_weight, data.public_weight, data.combine_on)
    results.check_formula(formula)
    call.expert_weight, call.public_weight, call.combine_on = data.expert_weight, data.public_weight, data.combine_on
    db.session.add(call)
    _apply(actor, call, data)
    db.session.flush()
    record(actor, "call.create", "call", call.id, title=call.title)
    return call


def update_call(actor: User, call: Call, data: CallData) -> None:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    state = call.state
    if state is not CallState.DRAFT and data.kind is not call.kind:
        raise ServiceError(_("The kind of a published call cannot change."))
    before = (call.opens_at, call.closes_at)
    results.set_formula(actor, call, results.Formula(data.expert_weight, data.public_weight, data.combine_on),
                        data.formula_reason)
    _apply(actor, call, data)
    db.session.flush()
    if state is not CallState.DRAFT and before != (call.opens_at, call.closes_at):
        db.session.add(CallEvent(call_id=call.id, kind="dates_changed", actor_id=actor.id, detail={
            "opens_at": call.opens_at.isoformat(), "closes_at": call.closes_at.isoformat(),
            "before": [d.isoformat() if d else None for d in before]}))
    record(actor, "call.update", "call", call.id)


def _apply(actor: User, call: Call, data: CallData) -> None:
    _check(data)
    call.title = data.title.strip()
    call.summary = data.summary.strip()
    call.brief = data.brief
    call.kind = data.kind
    call.image_formats = list(data.image_formats)
    call.images_min, call.images_max = data.images_min, data.images_max
    call.image_max_mb, call.entries_per_person = data.image_max_mb, data.entries_per_person
    call.licence_text, call.originality_text = data.licence_text.strip(), data.originality_text.strip()
    call.opens_at, call.closes_at = data.opens_at, data.closes_at
    call.cover_alt = data.cover_alt.strip()
    call.originals_public = data.originals_public
    for name in ("title", "summary", "brief", "licence_text", "originality_text"):
        setattr(call, f"{name}_en", english(getattr(data, f"{name}_en")))
    _set_co_departments(actor, call, data.co_department_ids)
    _set_themes(call, data.themes, data.themes_en)
    _set_topics(call, data.topics, data.topics_en)
    _set_prizes(call, data.prizes, data.prizes_en)


def _beside(twins: list, position: int, width: int = 0):
    """The English twin at a position of a list, or None (a tuple of Nones for the prizes)."""
    if position < len(twins):
        return twins[position]
    return (None,) * width if width else None


def _set_prizes(call: Call, prizes: list[tuple[str, int, str]], prizes_en: list[tuple[str, str]] = ()) -> None:
    """Edited in place, position by position: awards keep pointing at their prize."""
    existing = list(call.prizes)
    for position, (name, count, reward) in enumerate(prizes):
        name_en, reward_en = (english(text) for text in _beside(list(prizes_en), position, 2))
        if position < len(existing):
            prize = existing[position]
            prize.name, prize.count, prize.reward = name, count, reward
        else:
            prize = Prize(position=position, name=name, count=count, reward=reward)
            call.prizes.append(prize)
        prize.name_en, prize.reward_en = name_en, reward_en
    for prize in existing[len(prizes):]:
        if prize.id and db.session.scalar(select(func.count()).select_from(Award).where(Award.prize_id == prize.id)):
            raise ServiceError(_("“%(name)s” has been awarded and cannot be removed.", name=prize.name))
        call.prizes.remove(prize)


def _set_co_departments(actor: User, call: Call, department_ids: list[int]) -> None:
    wanted = {i for i in department_ids if i != call.department_id}
    current = {d.id for d in call.co_departments}
    if wanted == current:
        return
    departments = db.session.scalars(select(Department).where(Department.id.in_(wanted))).all()
    if len(departments) != len(wanted):
        raise ServiceError(_("Unknown department."))
    call.co_departments = list(departments)


def _set_themes(call: Call, names: list[str], names_en: list[str] = ()) -> None:
    existing = {t.name: t for t in call.themes}
    call.themes = [existing.get(name) or CallTheme(name=name) for name in names]
    for position, theme in enumerate(call.themes):
        theme.name_en = english(_beside(list(names_en), position))
        if theme.name_en:
            theme.name_en = theme.name_en[:80]


def _set_topics(call: Call, titles: list[str], titles_en: list[str] = ()) -> None:
    """Topics are kept by position, so ideas already filed under a topic stay under it when it is reworded."""
    topics = list(call.topics)
    for position, title in enumerate(titles):
        if position < len(topics):
            topic = topics[position]
            topic.title, topic.position = title[:200], position
        else:
            topic = Topic(title=title[:200], position=position)
            call.topics.append(topic)
        title_en = english(_beside(list(titles_en), position))
        topic.title_en = title_en[:300] if title_en else None
    for topic in topics[len(titles):]:
        if topic.id and db.session.scalar(select(func.count()).select_from(Entry).where(Entry.topic_id == topic.id)):
            raise ServiceError(_("The topic “%(title)s” has ideas filed under it and cannot be removed.",
                                 title=topic.title))
        call.topics.remove(topic)


def publish_call(actor: User, call: Call) -> None:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    if call.published_at is not None:
        raise ServiceError(_("This call is already published."))
    missing = []
    if not call.summary:
        missing.append(_("a summary"))
    if not call.brief.strip():
        missing.append(_("a brief"))
    if not call.opens_at or not call.closes_at:
        missing.append(_("opening and closing dates"))
    if not call.licence_text:
        missing.append(_("the licence terms"))
    if call.kind is CallKind.IDEA and not call.topics:
        missing.append(_("at least one topic"))
    if missing:
        raise ServiceError(_("Before publishing, add: %(what)s.", what=listing(missing)))
    if call.closes_at <= utcnow():
        raise ServiceError(_("The closing date has passed: set new dates before publishing."))
    call.published_at = utcnow()
    db.session.add(CallEvent(call_id=call.id, kind="published", actor_id=actor.id, at=call.published_at))
    record(actor, "call.publish", "call", call.id)


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # published | opens | closes | dates_changed | ...
    past: bool
    detail: dict


def timeline(call: Call, now: datetime | None = None) -> list[TimelineItem]:
    """The dated story of the call: recorded events, and the openings and closings its dates and its rounds'
    dates bring (a round closed early has its own event instead)."""
    now = now or utcnow()
    items = [TimelineItem(e.at, e.kind, True, e.detail or {}) for e in call.events]
    if call.published_at is not None:
        items.append(TimelineItem(call.opens_at, "opens", call.opens_at <= now, {}))
        closed = call.closes_at <= now
        detail = {}
        if closed:
            counts = dict(db.session.execute(select(Entry.status, func.count()).where(Entry.call_id == call.id)
                                             .group_by(Entry.status)).all())
            detail = {"received": sum(n for s, n in counts.items() if s is not EntryStatus.WITHDRAWN),
                      "approved": counts.get(EntryStatus.APPROVED, 0)}
        items.append(TimelineItem(call.closes_at, "closes", closed, detail))
        early = [e.detail or {} for e in call.events if e.kind in ("round_closed", "voting_closed")]
        closed_early = {d.get("round_id") for d in early} | {d.get("round") for d in early if "round_id" not in d}
        for round_ in call.rounds:
            items.append(TimelineItem(round_.opens_at, "round_opens", round_.opens_at <= now,
                                      {"round": round_.title, "round_en": round_.title_en}))
            if round_.id not in closed_early and round_.title not in closed_early:
                items.append(TimelineItem(round_.closes_at, "round_closes", round_.closes_at <= now,
                                          {"round": round_.title, "round_en": round_.title_en}))
    return sorted(items, key=_told_order)


# The timeline's items that are steps of the call's journey, and the step each one is (an early close is the close).
JOURNEY_STEPS = {"opens": "opens", "closes": "closes", "round_opens": "round_opens", "round_closes": "round_closes",
                 "round_closed": "round_closes", "voting_closed": "round_closes",
                 "results_published": "results_published", "results_final": "results_final",
                 "follow_up": "follow_up"}


def journey(call: Call, items: list[TimelineItem], now: datetime | None = None
            ) -> list[tuple[str, datetime | None, bool, dict]]:
    """The call's journey as steps (kind, when, past, detail), from its timeline: open, rounds, results, notice
    period, follow-up stages; the results still to come, and the end of a notice period under way, as steps ahead."""
    now = now or utcnow()
    steps = [(JOURNEY_STEPS[item.kind], item.at, item.past, item.detail) for item in items
             if item.kind in JOURNEY_STEPS]
    if call.published_at is None:
        return []
    if call.results_published_at is None:
        steps.append(("results", None, False, {}))
    elif call.results_final_at is None and call.notice_ends_at is not None:
        published = max((n for n, step in enumerate(steps) if step[0] == "results_published"), default=len(steps) - 1)
        steps.insert(published + 1, ("notice_ends", call.notice_ends_at, call.notice_ends_at <= now, {}))
    return steps


def _told_order(item: TimelineItem) -> datetime:
    """When an item is told. A date set to the minute (as every form sets one) stands for that whole minute: what
    people did in the minute a call or round opens is told before the opening, so that a round proposed to open
    the minute the one before closed early comes after that close, not before it."""
    if item.kind in ("opens", "round_opens") and item.at == to_minute(item.at):
        return item.at + timedelta(minutes=1) - timedelta(microseconds=1)
    return item.at


def state_order(now: datetime):
    """A SQL expression ordering open calls first, then upcoming, then closed."""
    return case(
        (Call.opens_at > now, 1),
        (Call.closes_at > now, 0),
        else_=2,
    )


def call_by_id(call_id: int, *options) -> Call | None:
    """The call of an id, with the loader options a page asks for, or None."""
    return db.session.scalars(select(Call).where(Call.id == call_id).options(*options)).unique().first()


def public_calls(now: datetime, *, words: str = "", state: str = "", department_id: int | None = None,
                 theme: str = ""):
    """The published calls a visitor may browse, filtered, open ones first (a statement to paginate)."""
    stmt = select(Call).where(Call.published_at.is_not(None))
    if state == CallState.OPEN.value:
        stmt = stmt.where(Call.opens_at <= now, Call.closes_at > now)
    elif state == CallState.UPCOMING.value:
        stmt = stmt.where(Call.opens_at > now)
    elif state == CallState.CLOSED.value:
        stmt = stmt.where(Call.closes_at <= now)
    if department_id:
        stmt = stmt.where(Call.id.in_(calls_run_by([department_id])))
    if theme:
        stmt = stmt.where(Call.id.in_(select(CallTheme.call_id).where(CallTheme.name == theme)))
    for word in words.split():
        # LIKE matches inside Chinese text, which has no spaces between words.
        like = f"%{word.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Call.title.ilike(like), Call.summary.ilike(like)))
    return stmt.order_by(state_order(now), Call.closes_at.desc(), Call.id.desc())


def all_themes() -> list[tuple[str, LocalText]]:
    """The themes of the published calls, for the calls list's filter: each theme's Chinese name (the value the
    filter matches) with its name in the page's language (one English name where calls gave several)."""
    stmt = (select(CallTheme.name, func.max(CallTheme.name_en)).join(Call, Call.id == CallTheme.call_id)
            .where(Call.published_at.is_not(None)).group_by(CallTheme.name).order_by(CallTheme.name))
    return [(name, local_text(name, name_en)) for name, name_en in db.session.execute(stmt)]


def calls_of_department(department: Department) -> list[Call]:
    return list(db.session.scalars(
        select(Call).where(Call.id.in_(calls_run_by([department.id]))).order_by(Call.id.desc())))


def published_call(call_id: int, *options) -> Call | None:
    """A published call of an id, with the loader options given, or None."""
    return db.session.scalar(select(Call).where(Call.id == call_id, Call.published_at.is_not(None))
                             .options(*options))


def departments_with_published_calls() -> list[Department]:
    """The departments that have published a call, for the list's filter."""
    return list(db.session.scalars(
        select(Department).where(Department.id.in_(select(Call.department_id).where(Call.published_at.is_not(None))))
        .order_by(Department.id)
    ))


def first_open_calls(now: datetime, limit: int = 6) -> list[Call]:
    """The open calls the home page shows first, in the list's order."""
    return list(db.session.scalars(public_calls(now, state=CallState.OPEN.value).limit(limit)))
