"""Expert rounds: configuring them, inviting jurors, assigning entries, scoring, ranking and advancing."""
from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, func, null, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.exc import StaleDataError

from contest import assignment as balancing
from contest import database, scoring
from contest.database import claimed_one_by_one
from contest.extensions import db
from contest.i18n import english, split_english
from contest.links import external_url
from contest.localtime import to_minute
from contest.mail import send_mail, send_once_each
from contest.models import (
    AdvanceMode,
    Assignment,
    Call,
    CallEvent,
    Conflict,
    Criterion,
    Entry,
    EntryImage,
    EntryStatus,
    Image,
    MailKind,
    Round,
    RoundEntry,
    RoundKind,
    RoundMember,
    RoundState,
    Score,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services.accounts import find_user_by_email
from contest.services.audit import record
from contest.services.entries import status_counts
from contest.tokens import TokenExpired, TokenInvalid, make_token, read_token

INVITATION_MAX_AGE = timedelta(days=30)


class ScoreConflict(ServiceError):
    """The score changed since the juror's page was loaded (another tab saved it)."""


class RoundNotOpen(ServiceError):
    """Scoring is not open (not yet, or no longer): the request conflicts with the round's state."""


@dataclass
class RoundData:
    title: str
    opens_at: datetime
    closes_at: datetime
    criteria: list[tuple[str, int, str]] = field(default_factory=list)  # (name, weight, description)
    scale_low: float = 1.0
    scale_high: float = 10.0
    scale_step: float = 0.5
    jurors_per_entry: int = 3
    blind: bool = True
    normalise: bool = True
    trim: float = 0.0
    title_en: str = ""
    criteria_en: list[tuple[str, str]] = field(default_factory=list)  # (name, description), beside the Chinese


def parse_criteria(text: str) -> list[tuple[str, int, str]]:
    """One criterion a line: `name | weight | description` (the description optional)."""
    criteria = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not parts[1].isdigit():
            raise ServiceError(_("Line %(n)d of the criteria: write the name, a bar and the weight, e.g. "
                                 "Aesthetics | 40.", n=number))
        criteria.append((parts[0][:100], int(parts[1]), parts[2] if len(parts) > 2 else ""))
    return criteria


def parse_english_criteria(text: str | None) -> list[tuple[str, str]]:
    """The English criteria, one a line beside the Chinese ones: `name | description` (the description optional)."""
    criteria = []
    for line in split_english(text, lines=True):
        parts = [p.strip() for p in line.split("|")]
        criteria.append((parts[0][:200], parts[-1] if len(parts) > 1 else ""))
    return criteria


def _check(data: RoundData) -> None:
    if not data.title.strip():
        raise ServiceError(_("Give the round a title."))
    if data.closes_at <= data.opens_at:
        raise ServiceError(_("The round must close after it opens."))
    if not data.criteria:
        raise ServiceError(_("Give the round at least one criterion."))
    if len(data.criteria_en) > len(data.criteria):
        raise ServiceError(_("There are more English criteria than Chinese ones: give them in the same order, one "
                             "a line beside each."))
    if sum(weight for _, weight, _ in data.criteria) != 100:
        raise ServiceError(_("The weights of the criteria must add up to 100 (they add up to %(n)d).",
                             n=sum(weight for _, weight, _ in data.criteria)))
    if not (data.scale_low < data.scale_high and data.scale_step > 0
            and _on_grid(data.scale_high, data.scale_low, data.scale_step)):
        raise ServiceError(_("The lowest mark must be below the highest, and the scale a whole number of steps."))
    if not 1 <= data.jurors_per_entry <= 20:
        raise ServiceError(_("Jurors per entry must be between 1 and 20."))
    if not 0 <= data.trim < 0.5:
        raise ServiceError(_("The trimmed share must be below one half."))


def _on_grid(value: float, low: float, step: float) -> bool:
    steps = (value - low) / step
    return abs(steps - round(steps)) < 1e-9


def create_round(actor: User, call: Call, data: RoundData) -> Round:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    _check(data)
    opens_after_previous(call, data.opens_at)
    round_ = Round(call=call, position=len(call.rounds) + 1, kind=RoundKind.EXPERT, title=data.title.strip())
    _apply(round_, data)
    db.session.add(round_)
    db.session.flush()
    record(actor, "round.create", "round", round_.id, call_id=call.id)
    return round_


def update_round(actor: User, round_: Round, data: RoundData) -> None:
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    _check(data)
    if round_.state is not RoundState.UPCOMING:
        # Once scoring has begun, only the closing date may move (e.g. to give jurors more time).
        if (to_minute(data.opens_at), data.scale_low, data.scale_high, data.scale_step) != (
                to_minute(round_.opens_at), round_.scale_low, round_.scale_high, round_.scale_step) or \
                [(c.name, c.weight) for c in round_.criteria] != [(n, w) for n, w, _ in data.criteria]:
            raise ServiceError(_("Scoring has begun: only the closing date and the descriptions can change now."))
    _apply(round_, data)
    record(actor, "round.update", "round", round_.id)


def _apply(round_: Round, data: RoundData) -> None:
    round_.title, round_.title_en = data.title.strip(), english(data.title_en)
    round_.opens_at, round_.closes_at = to_minute(data.opens_at), to_minute(data.closes_at)
    round_.scale_low, round_.scale_high, round_.scale_step = data.scale_low, data.scale_high, data.scale_step
    round_.jurors_per_entry, round_.blind = data.jurors_per_entry, data.blind
    round_.normalise, round_.trim = data.normalise, data.trim
    existing = list(round_.criteria)
    for position, (name, weight, description) in enumerate(data.criteria):
        if position < len(existing):
            criterion = existing[position]
            criterion.name, criterion.weight, criterion.description = name, weight, description
        else:
            criterion = Criterion(position=position, name=name, weight=weight, description=description)
            round_.criteria.append(criterion)
        name_en, description_en = data.criteria_en[position] if position < len(data.criteria_en) else ("", "")
        criterion.name_en, criterion.description_en = english(name_en), english(description_en)
    for criterion in existing[len(data.criteria):]:
        round_.criteria.remove(criterion)


# Jurors ---------------------------------------------------------------------------------------

def juror_of(user: User, round_: Round) -> RoundMember | None:
    if not user.is_authenticated:
        return None
    return db.session.scalar(select(RoundMember).where(
        RoundMember.round_id == round_.id, RoundMember.user_id == user.id, RoundMember.role == "juror"))


def invite_juror(actor: User, round_: Round, email: str, name: str = "") -> RoundMember:
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if round_.state in (RoundState.CLOSED, RoundState.DECIDED):
        raise ServiceError(_("This round is over."))
    email = email.strip().lower()
    if db.session.scalar(select(RoundMember).where(RoundMember.round_id == round_.id, RoundMember.email == email)):
        raise ServiceError(_("%(email)s has already been invited to this round.", email=email))
    member = RoundMember(round=round_, email=email, name=name.strip()[:80], invited_by_id=actor.id)
    db.session.add(member)
    db.session.flush()
    send_invitation(member)
    record(actor, "round.invite_juror", "round", round_.id, member_id=member.id)
    return member


def send_invitation(member: RoundMember) -> None:
    token = make_token("juror-invitation", {"member": member.id, "email": member.email})
    # In the invitee's language when the address already has an account.
    user = member.user or find_user_by_email(member.email)
    locale = user.locale if user is not None else current_app.config["BABEL_DEFAULT_LOCALE"]
    send_mail(member.email, locale, "juror_invitation", kind=MailKind.JURY, user=user, member=member,
              round=member.round, url=external_url("jury.invitation", token=token))


def member_for_invitation(token: str) -> RoundMember:
    try:
        data = read_token("juror-invitation", token, INVITATION_MAX_AGE)
    except TokenExpired:
        raise ServiceError(_("This invitation has expired. Please ask the organisers for a new one.")) from None
    except TokenInvalid:
        raise ServiceError(_("This invitation link is not valid.")) from None
    member = db.session.get(RoundMember, data.get("member"))
    if member is None or member.email != data.get("email"):
        raise ServiceError(_("This invitation link is not valid."))
    return member


def accept_invitation(user: User, token: str) -> RoundMember:
    member = member_for_invitation(token)
    if member.user_id is not None and member.user_id != user.id:
        raise ServiceError(_("This invitation has already been accepted by another account."))
    if member.user_id is None:
        if juror_of(user, member.round) is not None:
            raise ServiceError(_("You are already a juror of this round."))
        member.user_id, member.accepted_at = user.id, utcnow()
        record(user, "round.accept_invitation", "round", member.round_id, member_id=member.id)
    return member


# Entries and assignments ----------------------------------------------------------------------

def advanced_by(round_id) -> Select:
    """The ids of the entries a round advanced (`round_id` a value or an SQL expression)."""
    return select(RoundEntry.entry_id).where(RoundEntry.round_id == round_id, RoundEntry.advanced.is_(True))


def _source(this) -> ColumnElement:
    """SQL: the id of the round whose advanced entries the round `this` holds, or NULL for every approved entry
    of the call. A round says which (`source_round_id`, or `takes_all_approved`); one that says neither takes the
    round just before it, and a first round every approved entry."""
    earlier = aliased(Round)
    previous = (select(earlier.id).where(earlier.call_id == this.call_id, earlier.position < this.position)
                .order_by(earlier.position.desc()).limit(1).correlate(this).scalar_subquery())
    return case((this.takes_all_approved.is_(True), null()), else_=func.coalesce(this.source_round_id, previous))


def entries_in_round(round_id) -> Select:
    """The ids of the entries that take part in a round: the call's approved entries that its source round
    advanced, or all of them (see `_source`). The one rule, used by the jury, the public rounds, the results,
    the archive and the vote's SQL fast path; `round_id` is a value, a column of an enclosing query (correlated)
    or a bind parameter."""
    if isinstance(round_id, int):
        return _entries_in_round_of_id(round_id)
    return _entries_in_round(round_id)


@functools.lru_cache(maxsize=1024)
def _entries_in_round_of_id(round_id: int) -> Select:
    """`entries_in_round` of one round's id, built once: making its two aliases of Round is most of the time of a
    pair answered or a vote cast, and a statement is never changed (each `.where` makes a new one)."""
    return _entries_in_round(round_id)


def _entries_in_round(round_id) -> Select:
    this = aliased(Round)
    source = _source(this)
    return (select(Entry.id).join(this, this.call_id == Entry.call_id)
            .where(this.id == round_id, Entry.status == EntryStatus.APPROVED,
                   or_(source.is_(None), Entry.id.in_(advanced_by(source)))))


def takes_part(round_: Round, entry_id: int) -> bool:
    """Whether one entry takes part in the round, in one query (this runs on every vote)."""
    return bool(db.session.scalar(_takes_part_statement(), {"round_id": round_.id, "entry_id": entry_id}))


@functools.cache
def _takes_part_statement() -> Select:
    """`takes_part`'s statement, built once with the round and the entry as bind parameters: building it (its
    aliases of Round, and the cache key of a new statement) cost more than running it, on every vote and pair."""
    return select(exists(entries_in_round(bindparam("round_id")).where(Entry.id == bindparam("entry_id"))))


# What a card of an entry shows (its title and its cover's sizes), loaded with the entries: one query for all the
# pictures of a page, not one per card.
CARD_OPTIONS = (selectinload(Entry.pictures).joinedload(EntryImage.image).lazyload(Image.files),)


def candidates(round_: Round, start: int | None = None, limit: int | None = None) -> list[Entry]:
    """The entries that take part in the round, loaded with their covers, in the order of their ids; `start` and
    `limit`: at most `limit` of them from the id `start` on (a seek on the key, never a deep OFFSET)."""
    return list(db.session.scalars(candidates_statement(round_, start, limit)))


def candidates_statement(round_: Round, start: int | None = None, limit: int | None = None) -> Select:
    """The statement of `candidates`. The entries are read from the round's call, approved (what the rule takes
    from already), by the gallery's index (call, status, id) in id order, each checked against the rule: a page then
    seeks within its call, instead of walking every call's ids from the first, past the entries of the calls
    before it (at city size, 160,000 ideas for each page of a 5,000-entry round)."""
    stmt = (select(Entry).where(Entry.call_id == round_.call_id, Entry.status == EntryStatus.APPROVED,
                                Entry.id.in_(entries_in_round(round_.id))).options(*CARD_OPTIONS))
    if start is not None:
        stmt = stmt.where(Entry.id >= start)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt.order_by(Entry.id)


def source_of(round_: Round) -> Round | None:
    """The earlier round whose advanced entries this round holds, or None for every approved entry of the call:
    the rule of `entries_in_round`, read for the page that says where a round's entries come from."""
    this = aliased(Round)
    source_id = db.session.scalar(select(_source(this)).where(this.id == round_.id))
    return db.session.get(Round, source_id) if source_id is not None else None


def held_count(round_: Round, source: Round | None) -> int:
    """How many entries the round holds now (the count of `entries_in_round`), given its source (`source_of`,
    which its caller reads to name it). Every approved entry of the call: read from the call's counts
    (contest.services.counts), whatever its size. A source round's advanced entries: counted in the database (not
    loaded), the call named too, so that the planner reads that call's entries by their index, not every entry of
    every call."""
    if source is None:
        return status_counts(round_.call).get(EntryStatus.APPROVED.value, 0)
    return db.session.scalar(select(func.count()).select_from(
        entries_in_round(round_.id).where(Entry.call_id == round_.call_id).subquery()))


def entries_from(call: Call, source: Round | None) -> list[Entry]:
    """The approved entries of the call that `source` advanced (None: every approved entry): what a new round
    taking `source`'s outcome would hold."""
    stmt = select(Entry).where(Entry.call_id == call.id, Entry.status == EntryStatus.APPROVED)
    if source is not None:
        stmt = stmt.where(Entry.id.in_(advanced_by(source.id)))
    return list(db.session.scalars(stmt.order_by(Entry.id)))


def awaited_round(call: Call) -> Round | None:
    """The call's last round while it is an expert round that has not decided who advances: a new round set up now
    takes its outcome. (Only expert rounds decide; a public round before it is no source.)"""
    last = call.rounds[-1] if call.rounds else None
    return last if last is not None and last.kind is RoundKind.EXPERT and last.decided_at is None else None


def decided_rounds(call: Call) -> list[Round]:
    """The rounds of the call that have decided which entries advance: a new round can take their outcome."""
    return [r for r in call.rounds if r.decided_at is not None]


def opens_after_previous(call: Call, opens_at: datetime) -> None:
    """A new round opens once the call's last round has closed (to the minute, as the forms give times)."""
    if call.rounds and to_minute(opens_at) < to_minute(call.rounds[-1].closes_at):
        raise ServiceError(_("A round must open after the round before it closes."))


def assign(actor: User, round_: Round) -> int:
    """Take in the round's entries and give every entry its k jurors, balanced; returns the new assignments."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if round_.state in (RoundState.CLOSED, RoundState.DECIDED):
        raise ServiceError(_("This round is over."))
    jurors = [m for m in round_.jurors if m.user_id is not None]
    if not jurors:
        raise ServiceError(_("No juror has accepted an invitation yet."))
    entries = candidates(round_)
    taking_part = set(db.session.scalars(select(RoundEntry.entry_id).where(RoundEntry.round_id == round_.id)))
    for entry in entries:
        if entry.id not in taking_part:
            db.session.add(RoundEntry(round_id=round_.id, entry_id=entry.id))
    current = _assignments(round_)
    existing = defaultdict(set)
    for a in current:
        existing[a.entry_id].add(a.member_id)  # recused ones too: never the same juror again
    conflicts = _conflicts(round_, jurors, entries)
    keep = {entry_id: {a.member_id for a in current if a.entry_id == entry_id and a.active} for entry_id in existing}
    added = balancing.assign([e.id for e in entries], [m.id for m in jurors], round_.jurors_per_entry,
                             conflicts=conflicts | _recused_pairs(current), existing=keep, seed=round_.seed)
    loads = Counter(a.member_id for a in current)
    new = []
    for entry_id, member_ids in added.items():
        for member_id in member_ids:
            if member_id in existing[entry_id]:
                continue
            loads[member_id] += 1
            new.append(Assignment(round_id=round_.id, member_id=member_id, entry_id=entry_id,
                                  position=loads[member_id]))
    db.session.add_all(new)
    db.session.flush()
    _tell_jurors(round_, jurors, new)
    record(actor, "round.assign", "round", round_.id, added=len(new))
    return len(new)


def _tell_jurors(round_: Round, jurors: list[RoundMember], new: list[Assignment]) -> None:
    """Each juror given entries to score is told once, of how many, whatever the number."""
    by_id = {m.id: m for m in jurors}
    send_once_each([(by_id[a.member_id].user, a) for a in new], "entries_assigned", kind=MailKind.JURY,
                   round=round_, url=external_url("jury.round", round_id=round_.id))


def _assignments(round_: Round) -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(Assignment.round_id == round_.id)))


def _recused_pairs(assignments: list[Assignment]) -> set[tuple[int, int]]:
    return {(a.member_id, a.entry_id) for a in assignments if not a.active}


def _conflicts(round_: Round, jurors: list[RoundMember], entries: list[Entry]) -> set[tuple[int, int]]:
    """Declared conflicts, and a juror's own entries (a conflict nobody needs to declare)."""
    pairs = {tuple(row) for row in db.session.execute(select(Conflict.member_id, Conflict.entry_id).join(
        RoundMember, RoundMember.id == Conflict.member_id).where(RoundMember.round_id == round_.id)).all()}
    by_user = {m.user_id: m.id for m in jurors}
    pairs |= {(by_user[e.author_id], e.id) for e in entries if e.author_id in by_user}
    return pairs


def recuse(member: RoundMember, assignment: Assignment, reason: str, *, conflict: bool = False) -> Assignment | None:
    """A juror steps back from an entry (declaring a conflict, if so); another juror takes their place."""
    if assignment.member_id != member.id:
        raise ServiceError(_("This entry is not on your list."))
    round_ = member.round
    if round_.state is not RoundState.OPEN and round_.state is not RoundState.UPCOMING:
        raise ServiceError(_("This round is closed."))
    if not reason.strip():
        raise ServiceError(_("Say briefly why (the organisers see it)."))
    assignment.recused_at, assignment.recusal_reason = utcnow(), reason.strip()[:500]
    if assignment.score is not None:
        db.session.delete(assignment.score)
    if conflict and db.session.get(Conflict, (member.id, assignment.entry_id)) is None:
        db.session.add(Conflict(member_id=member.id, entry_id=assignment.entry_id, reason=reason.strip()[:500]))
    db.session.flush()
    record(member.user, "round.recuse", "assignment", assignment.id, conflict=conflict)
    return _replace(round_, assignment.entry_id)


def _replace(round_: Round, entry_id: int) -> Assignment | None:
    """One more juror on an entry of the round; an entry that does not take part in it is refused."""
    if not takes_part(round_, entry_id):
        raise ServiceError(_("This entry is not in this round."))
    current = _assignments(round_)
    on_entry = {a.member_id for a in current if a.entry_id == entry_id}
    loads = Counter(a.member_id for a in current if a.active)
    jurors = [m for m in round_.jurors if m.user_id is not None]
    entries = [db.session.get(Entry, entry_id)]
    member_id = balancing.replacement(entry_id, [m.id for m in jurors], on_entry,
                                      {m.id: loads.get(m.id, 0) for m in jurors},
                                      conflicts=_conflicts(round_, jurors, entries), seed=round_.seed + entry_id)
    if member_id is None:
        return None
    new = Assignment(round_id=round_.id, member_id=member_id, entry_id=entry_id, position=loads[member_id] + 1)
    db.session.add(new)
    db.session.flush()
    _tell_jurors(round_, jurors, [new])
    return new


def add_juror_to(actor: User, round_: Round, entry_id: int) -> Assignment | None:
    """One more juror on an entry (e.g. one whose rank interval straddles the cut)."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if round_.state in (RoundState.CLOSED, RoundState.DECIDED):
        raise ServiceError(_("This round is over."))
    added = _replace(round_, entry_id)
    record(actor, "round.add_juror", "round", round_.id, entry_id=entry_id,
           member_id=added.member_id if added else None)
    return added


def remove_assignment(actor: User, round_: Round, assignment: Assignment) -> None:
    if not can_manage_call(actor, round_.call) or assignment.round_id != round_.id:
        raise ServiceError(_("You do not run this call."))
    if assignment.score is not None and assignment.score.submitted_at is not None:
        raise ServiceError(_("This juror has already scored the entry; the score stays."))
    db.session.delete(assignment)
    record(actor, "round.remove_assignment", "round", round_.id, entry_id=assignment.entry_id,
           member_id=assignment.member_id)


# Scoring --------------------------------------------------------------------------------------

def judging(user_id) -> ColumnElement[bool]:
    """The assignments that let a user judge their entry, as a condition on Assignment: the user's, as a juror of
    the assignment's round, not stepped back from, and the entry still taking part in that round (so in a round of
    its own call, and not withdrawn). The one rule of who may judge an entry. A juror keeps reading their own
    sheets after the round is decided (scoring itself is refused once the round closes, by save_score)."""
    return and_(
        Assignment.recused_at.is_(None),
        Assignment.member_id.in_(select(RoundMember.id).where(RoundMember.user_id == user_id,
                                                             RoundMember.role == "juror",
                                                             RoundMember.round_id == Assignment.round_id)),
        Assignment.entry_id.in_(entries_in_round(Assignment.round_id)),
    )


def current_assignment(user: User, assignment_id: int) -> Assignment | None:
    """The user's assignment by its id, if it still lets them judge its entry (`judging`)."""
    if not user.is_authenticated:
        return None
    return db.session.scalar(select(Assignment).where(Assignment.id == assignment_id, judging(user.id))
                             .options(selectinload(Assignment.entry).selectinload(Entry.pictures)
                                      .joinedload(EntryImage.image)))


def juror_list(member: RoundMember) -> list[Assignment]:
    """A juror's entries, in their order: those they may judge (`judging`), not the ones they stepped back from
    nor those no longer in the round."""
    return list(db.session.scalars(
        select(Assignment).where(Assignment.member_id == member.id, judging(member.user_id))
        .options(selectinload(Assignment.score), selectinload(Assignment.entry).selectinload(Entry.pictures))
        .order_by(Assignment.position, Assignment.id)))


def save_score(member: RoundMember, assignment: Assignment, marks: dict[int, str], note_to_organisers: str,
               note_to_entrant: str, *, submit: bool, version: int | None) -> Score:
    """Save a draft or submit; `version` is the score's version the juror's page showed (None: no score yet)."""
    round_ = member.round
    if assignment.member_id != member.id or not assignment.active:
        raise ServiceError(_("This entry is not on your list."))
    if round_.state is not RoundState.OPEN:
        raise RoundNotOpen(_("This round is not open for scoring."))
    values = {}
    for criterion in round_.criteria:
        raw = (marks.get(criterion.id) or "").strip()
        if not raw:
            if submit:
                raise ServiceError(_("Give a mark for “%(name)s”.", name=criterion.name))
            continue
        try:
            value = float(raw)
        except ValueError:
            raise ServiceError(_("“%(name)s”: write a number.", name=criterion.name)) from None
        if not (round_.scale_low <= value <= round_.scale_high and _on_grid(value, round_.scale_low,
                                                                            round_.scale_step)) or math.isnan(value):
            raise ServiceError(_("“%(name)s”: the mark must be between %(low)s and %(high)s in steps of %(step)s.",
                                 name=criterion.name, low=_fmt(round_.scale_low), high=_fmt(round_.scale_high),
                                 step=_fmt(round_.scale_step)))
        values[str(criterion.id)] = value
    score = assignment.score
    if score is None:
        if version is not None:
            raise ScoreConflict(_("This score was changed elsewhere (in another tab?) since you opened it. "
                                  "Reload the page to see it, then make your change again."))
        score = Score(assignment=assignment)
        db.session.add(score)
    elif version != score.version:
        raise ScoreConflict(_("This score was changed elsewhere (in another tab?) since you opened it. "
                              "Reload the page to see it, then make your change again."))
    score.marks = values
    score.note_to_organisers = note_to_organisers.strip()[:5000]
    score.note_to_entrant = note_to_entrant.strip()[:5000]
    score.updated_at = utcnow()
    if submit:
        score.submitted_at = score.submitted_at or utcnow()
    try:
        db.session.flush()
    except (StaleDataError, OperationalError) as error:  # SQLite reports a write that came first as a lock
        if database.unreachable(error):
            raise
        raise ScoreConflict(_("This score was changed elsewhere (in another tab?) since you opened it. "
                              "Reload the page to see it, then make your change again.")) from None
    return score


def _fmt(value: float) -> str:
    return f"{value:g}"


# Progress, ranking, advancement ---------------------------------------------------------------

@dataclass
class Progress:
    by_juror: list[tuple[RoundMember, int, int]]  # (juror, submitted, assigned)
    by_entry: list[tuple[Entry, int, int]]  # (entry, submitted, assigned)


def progress(round_: Round) -> Progress:
    rows = db.session.execute(
        select(Assignment.member_id, Assignment.entry_id, Score.submitted_at)
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.round_id == round_.id, Assignment.recused_at.is_(None))).all()
    juror_done, juror_all, entry_done, entry_all = Counter(), Counter(), Counter(), Counter()
    for member_id, entry_id, submitted in rows:
        juror_all[member_id] += 1
        entry_all[entry_id] += 1
        if submitted is not None:
            juror_done[member_id] += 1
            entry_done[entry_id] += 1
    entries = db.session.scalars(select(Entry).where(Entry.id.in_(
        select(RoundEntry.entry_id).where(RoundEntry.round_id == round_.id))).order_by(Entry.id)).all()
    return Progress(
        by_juror=[(m, juror_done[m.id], juror_all[m.id]) for m in round_.jurors],
        by_entry=[(e, entry_done[e.id], entry_all[e.id]) for e in entries],
    )


def remind(actor: User, round_: Round) -> int:
    """Mail each juror who has entries left to score; returns how many were reminded."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    count = 0
    for member, done, assigned in progress(round_).by_juror:
        if member.user is None or done >= assigned:
            continue
        _send_reminder(member, round_, done, assigned)
        member.reminded_at = utcnow()
        count += 1
    record(actor, "round.remind", "round", round_.id, reminded=count)
    return count


def remind_before_closing(now: datetime | None = None) -> int:
    """Remind each juror with entries left to score, JUROR_REMINDER_DAYS before their expert round closes; returns
    how many were reminded. The worker runs this at every turn of its clock.

    Once per juror and round: a juror reminded in that time (by the organisers too) is not reminded again. Each
    reminder is claimed by one conditional UPDATE of reminded_at and committed with its mail (unlike the services a
    page calls), so two workers at once remind a juror once. Needs no request: the link is the configured site's.
    """
    now = now or utcnow()
    ahead = timedelta(days=current_app.config["JUROR_REMINDER_DAYS"])
    rounds = db.session.scalars(select(Round).where(
        Round.kind == RoundKind.EXPERT, Round.decided_at.is_(None), Round.opens_at <= now, Round.closes_at > now,
        Round.closes_at <= now + ahead).order_by(Round.id)).all()
    due = [(round_.id, member.id, round_.closes_at - ahead, done, assigned)
           for round_ in rounds for member, done, assigned in progress(round_).by_juror
           if member.user is not None and done < assigned
           and (member.reminded_at is None or member.reminded_at < round_.closes_at - ahead)]
    details = {member_id: (round_id, since, done, assigned) for round_id, member_id, since, done, assigned in due}

    def not_reminded_since(member_id: int):
        since = details[member_id][1]
        return (or_(RoundMember.reminded_at.is_(None), RoundMember.reminded_at < since),), {"reminded_at": now}

    reminded = 0
    for member in claimed_one_by_one(RoundMember, list(details), not_reminded_since):
        round_id, _since, done, assigned = details[member.id]
        _send_reminder(member, db.session.get(Round, round_id), done, assigned)
        record(None, "round.remind", "round", round_id, reminded=1, automatic=True)
        reminded += 1
    return reminded


def _send_reminder(member: RoundMember, round_: Round, done: int, assigned: int) -> None:
    send_mail(member.user.email, member.user.locale, "juror_reminder", kind=MailKind.JURY, user=member.user,
              member=member, round=round_, done=done, assigned=assigned,
              url=external_url("jury.round", round_id=round_.id))


def sheets(round_: Round) -> list[scoring.Sheet]:
    rows = db.session.execute(
        select(Assignment.entry_id, Assignment.member_id, Score.marks)
        .join(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.round_id == round_.id, Assignment.recused_at.is_(None), Score.submitted_at.is_not(None))
    ).all()
    return [scoring.Sheet(entry_id=e, juror_id=m, marks={int(k): float(v) for k, v in marks.items()})
            for e, m, marks in rows]


def ranking(round_: Round, cut: int | None = None, samples: int = 1000) -> scoring.Tally:
    criteria = [scoring.Criterion(id=c.id, weight=c.weight) for c in round_.criteria]
    scale = scoring.Scale(round_.scale_low, round_.scale_high, round_.scale_step)
    return scoring.tally(sheets(round_), criteria, scale, normalise=round_.normalise, trim=round_.trim,
                         samples=samples, seed=round_.seed, cut=cut)


def distributions(round_: Round) -> dict[int, list[int]]:
    criteria = [scoring.Criterion(id=c.id, weight=c.weight) for c in round_.criteria]
    scale = scoring.Scale(round_.scale_low, round_.scale_high, round_.scale_step)
    return scoring.distributions(sheets(round_), criteria, scale)



def juror_marks(round_: Round) -> list[tuple[RoundMember, scoring.JurorMarks]]:
    """How each juror of the round marks, beside the others, as normalisation counts them: for the organisers only."""
    criteria = [scoring.Criterion(id=c.id, weight=c.weight) for c in round_.criteria]
    scale = scoring.Scale(round_.scale_low, round_.scale_high, round_.scale_step)
    members = {m.id: m for m in round_.jurors}
    return [(members[j.juror_id], j) for j in scoring.juror_marks(sheets(round_), criteria, scale,
                                                                  normalise=round_.normalise)
            if j.juror_id in members]

def close_refusal(round_: Round) -> str | None:
    """Why scoring cannot be closed now, or None: what `close_now` refuses, for the page that asks first."""
    if round_.state is not RoundState.OPEN:
        return _("Scoring can only be closed while it is open.")
    return None


def close_now(actor: User, round_: Round) -> None:
    """End scoring before the closing date (every juror is done, say); the timeline keeps the date."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    refusal = close_refusal(round_)
    if refusal:
        raise ServiceError(refusal)
    from contest.services.results import jobs  # below this module: the results read the rounds

    round_.closes_at = to_minute(utcnow())
    db.session.add(CallEvent(call_id=round_.call_id, kind="round_closed", actor_id=actor.id,
                             detail={"round": round_.title, "round_en": round_.title_en, "round_id": round_.id}))
    record(actor, "round.close", "round", round_.id)
    jobs.queue_if_due(round_.call)  # the last round: a large call's results are computed at once


def advancing_ids(round_: Round, mode: AdvanceMode, value: float | None, picked: set[int]) -> list[int]:
    """Which entries the rule advances (not yet saved): top N, the top share, or those picked by hand."""
    order = [r.entry_id for r in ranking(round_, samples=0).results]
    if mode is AdvanceMode.TOP_N:
        if value is None or value < 1:
            raise ServiceError(_("Say how many entries advance."))
        return order[:int(value)]
    if mode is AdvanceMode.TOP_SHARE:
        if value is None or not 0 < value <= 100:
            raise ServiceError(_("Give the share that advances, in per cent."))
        return order[:max(1, math.ceil(len(order) * value / 100))]
    taking_part = set(db.session.scalars(select(RoundEntry.entry_id).where(RoundEntry.round_id == round_.id)))
    if not picked or not picked <= taking_part:
        raise ServiceError(_("Pick the entries that advance."))
    return [e for e in order if e in picked] + sorted(picked - set(order))


def decide(actor: User, round_: Round, mode: AdvanceMode, value: float | None, picked: set[int]) -> list[int]:
    """Close the round for good: the chosen entries advance, the others are told, the timeline says so."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if round_.state is not RoundState.CLOSED:
        raise ServiceError(_("The round can be decided once scoring has closed."))
    advancing = set(advancing_ids(round_, mode, value, picked))
    rows = db.session.scalars(select(RoundEntry).where(RoundEntry.round_id == round_.id)
                              .options(selectinload(RoundEntry.entry).selectinload(Entry.author))
                              .order_by(RoundEntry.entry_id)).all()
    for row in rows:
        row.advanced = row.entry_id in advancing
    send_once_each([(row.entry.author, row) for row in rows if row.entry.author is not None], "round_decided",
                   kind=MailKind.ADVANCED, round=round_, url=external_url("submit.my_entries"))
    round_.decided_at, round_.decided_by_id = utcnow(), actor.id
    round_.advance_mode, round_.advance_value = mode, value
    db.session.add(CallEvent(call_id=round_.call_id, kind="round_decided", actor_id=actor.id,
                             detail={"round": round_.title, "round_en": round_.title_en, "advanced": len(advancing),
                                     "of": len(rows)}))
    record(actor, "round.decide", "round", round_.id, mode=mode.value, value=value, advanced=sorted(advancing))
    return sorted(advancing)


def can_judge_entry(user: User, entry: Entry) -> bool:
    """Whether the user may see an entry as its juror: an assignment to it that `judging` accepts."""
    if not user.is_authenticated:
        return False
    return bool(db.session.scalar(select(exists().where(Assignment.entry_id == entry.id, judging(user.id)))))


def rounds_of(call: Call, *options) -> Select:
    """The statement of a call's rounds in their order, with the loader options given."""
    return select(Round).where(Round.call_id == call.id).options(*options).order_by(Round.position)


def memberships_of(user: User) -> list[RoundMember]:
    """The rounds a person judges (or is invited to), each with its round and call."""
    return list(db.session.scalars(select(RoundMember).where(RoundMember.user_id == user.id)
                                   .options(selectinload(RoundMember.round).selectinload(Round.call))))


def assignments_of(round_: Round) -> list[Assignment]:
    """A round's assignments with their juror, score and entry, by entry."""
    return list(db.session.scalars(select(Assignment).where(Assignment.round_id == round_.id)
                                   .options(selectinload(Assignment.member), selectinload(Assignment.score),
                                            selectinload(Assignment.entry))
                                   .order_by(Assignment.entry_id, Assignment.id)))
