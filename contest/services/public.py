"""Public rounds: one person one voice, by votes or by "which do you prefer?" pairs, with an audit trail."""
from __future__ import annotations

import enum
import random
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, case, delete, exists, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.orm import joinedload

from contest import pairwise
from contest.extensions import db
from contest.localtime import format_moment, to_minute, up_to_minute
from contest.models import (
    Call,
    CallEvent,
    CallState,
    Comparison,
    Entry,
    PublicMode,
    Round,
    RoundKind,
    RoundMember,
    RoundState,
    ShownPair,
    User,
    Vote,
    VoteAllowance,
)
from contest.models.types import UTCDateTime, enum_column, utcnow
from contest.permissions import call_staff, can_manage_call, runs_call
from contest.services import ServiceError
from contest.services.audit import record
from contest.services.rounds import (
    awaited_round,
    candidates,
    decided_rounds,
    entries_from,
    entries_in_round,
    opens_after_previous,
    source_of,
    takes_part,
)
from contest.sessions import SessionAccount, still_stands
from contest.tokens import TokenExpired, TokenInvalid, make_token, read_token

PAIR_MAX_AGE = timedelta(hours=12)


class NotEligible(ServiceError):
    """This person may not vote here (yet)."""


class NotLoggedIn(NotEligible):
    """Nobody is logged in, or the session no longer stands for its account (logged out everywhere, new password,
    account disabled)."""


class NotFound(ServiceError):
    """No such public round (of a published call), or no such entry in its call."""


@dataclass
class PublicRoundData:
    title: str
    opens_at: datetime
    closes_at: datetime
    mode: PublicMode = PublicMode.VOTES
    votes_per_citizen: int = 3
    min_account_age_hours: int = 24
    hide_counts: bool = True
    # Which entries the round holds (at creation only): the advanced entries of this earlier decided round, or
    # every approved entry; neither: the last decided round's (every approved entry when there is no earlier round).
    source_round_id: int | None = None
    all_approved: bool = False


@dataclass
class Holding:
    """The entries a public round holds and where they come from."""

    source: Round | None  # the round whose outcome it takes; None: every approved entry of the call
    entries: list[Entry]


def holding(call: Call, source_round_id: int | None = None, all_approved: bool = False) -> Holding:
    """Which entries a new public round of the call would hold. Refuses a source that is not a decided round of
    the call, and a round that would hold nothing (unless entries can still come: every approved entry of a call
    that has not closed for entries)."""
    decided = decided_rounds(call)
    awaited = awaited_round(call)
    if not all_approved and source_round_id is None and awaited is not None:
        # Set up ahead: the round takes what the round before it advances, once that one decides.
        return Holding(awaited, [])
    if all_approved or (source_round_id is None and not call.rounds):
        source = None
    elif source_round_id is None:
        if not decided:
            raise ServiceError(_("This round would hold no entries: no earlier round has decided which entries "
                                 "advance. Choose all approved entries, or decide the earlier round first."))
        source = decided[-1]
    else:
        source = next((r for r in decided if r.id == source_round_id), None)
        if source is None:
            raise ServiceError(_("Choose a round that has decided which entries advance, or all approved entries."))
    entries = entries_from(call, source)
    if not entries:
        if source is not None:
            raise ServiceError(_("This round would hold no entries: none of the entries “%(round)s” advanced is "
                                 "approved. Choose another round's outcome, or all approved entries.",
                                 round=source.title))
        if call.state is CallState.CLOSED:
            raise ServiceError(_("This round would hold no entries: no entry of this call is approved. Approve "
                                 "entries first."))
    return Holding(source, entries)


def round_holding(round_: Round) -> Holding:
    """The entries a round holds now and where they come from."""
    source = source_of(round_)
    return Holding(source, entries_from(round_.call, source))


def _check_settings(data: PublicRoundData) -> None:
    if not data.title.strip():
        raise ServiceError(_("Give the round a title."))
    if to_minute(data.closes_at) <= to_minute(data.opens_at):
        raise ServiceError(_("The round must close after it opens."))
    if not 1 <= data.votes_per_citizen <= 50:
        raise ServiceError(_("Votes per citizen must be between 1 and 50."))
    if not 0 <= data.min_account_age_hours <= 24 * 60:
        raise ServiceError(_("The account age must be between 0 and 1440 hours."))


def create_public_round(actor: User, call: Call, data: PublicRoundData) -> Round:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    _check_settings(data)
    opens_after_previous(call, data.opens_at)
    held = holding(call, data.source_round_id, data.all_approved)
    round_ = Round(call=call, position=len(call.rounds) + 1, kind=RoundKind.PUBLIC, title=data.title.strip()[:200],
                   opens_at=to_minute(data.opens_at), closes_at=to_minute(data.closes_at), public_mode=data.mode,
                   votes_per_citizen=data.votes_per_citizen, min_account_age_hours=data.min_account_age_hours,
                   hide_counts=data.hide_counts, jurors_per_entry=0,
                   source_round_id=held.source.id if held.source else None,
                   takes_all_approved=held.source is None and bool(call.rounds))
    db.session.add(round_)
    db.session.flush()
    record(actor, "round.create_public", "round", round_.id, mode=data.mode.value,
           source_round_id=round_.source_round_id, entries=len(held.entries))
    return round_


def update_public_round(actor: User, round_: Round, data: PublicRoundData) -> list[str]:
    """Change a public round's title, dates, votes per citizen, account age and hidden counts (not its mode nor its
    entries); returns the names of the settings that changed. Once voting has opened, only the title, the closing
    date and the hidden counts may change; a closed round no longer changes."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if round_.kind is not RoundKind.PUBLIC:
        raise ServiceError(_("This is not a public round."))
    state = round_.state
    if state in (RoundState.CLOSED, RoundState.DECIDED):
        raise ServiceError(_("Voting in this round has closed: it can no longer be changed."))
    _check_settings(data)
    wanted = {"title": data.title.strip()[:200], "opens_at": to_minute(data.opens_at),
              "closes_at": to_minute(data.closes_at), "votes_per_citizen": data.votes_per_citizen,
              "min_account_age_hours": data.min_account_age_hours, "hide_counts": data.hide_counts}
    current = {name: getattr(round_, name) for name in wanted}
    current["opens_at"], current["closes_at"] = to_minute(round_.opens_at), to_minute(round_.closes_at)
    changed = [name for name in wanted if wanted[name] != current[name]]
    if state is RoundState.OPEN:
        if {"opens_at", "votes_per_citizen", "min_account_age_hours"} & set(changed):
            raise ServiceError(_("Voting has opened: only the title, the closing date and whether the counts are "
                                 "hidden can change now."))
        if wanted["closes_at"] <= utcnow():
            raise ServiceError(_("The closing date has passed: to end voting now, close the round early."))
    else:
        earlier = [r for r in round_.call.rounds if r.position < round_.position]
        if earlier and wanted["opens_at"] < to_minute(earlier[-1].closes_at):
            raise ServiceError(_("A round must open after the round before it closes."))
    if not changed:
        return []
    for name in changed:
        setattr(round_, name, wanted[name])
    db.session.add(CallEvent(call_id=round_.call_id, kind="round_changed", actor_id=actor.id,
                             detail={"round": round_.title, "round_id": round_.id, "changed": changed}))
    record(actor, "round.update_public", "round", round_.id,
           changed={name: _plain(wanted[name]) for name in changed})
    return changed


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def close_voting_now(actor: User, round_: Round) -> None:
    """End a public round's voting before its closing date; the timeline says it closed early."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if round_.kind is not RoundKind.PUBLIC:
        raise ServiceError(_("This is not a public round."))
    if round_.state is not RoundState.OPEN:
        raise ServiceError(_("Voting can only be closed early while it is open."))
    round_.closes_at = max(to_minute(utcnow()), round_.opens_at)
    db.session.add(CallEvent(call_id=round_.call_id, kind="voting_closed", actor_id=actor.id,
                             detail={"round": round_.title, "round_id": round_.id}))
    record(actor, "round.close_public", "round", round_.id)


def removal_refused(round_: Round) -> str | None:
    """Why the round cannot be removed (None: it can): only a public round, and only before it opens or while
    nobody has voted in it (voided ballots count: they are part of the record)."""
    if round_.kind is not RoundKind.PUBLIC:
        raise ServiceError(_("This is not a public round."))
    if round_.state is RoundState.UPCOMING:
        return None
    ballots = sum(db.session.scalar(select(func.count()).select_from(model).where(model.round_id == round_.id))
                  for model in (Vote, Comparison))
    if ballots:
        return _("Citizens have already voted in this round (%(n)d ballots), so it cannot be removed: close it early "
                 "instead.", n=ballots)
    return None


def remove_round(actor: User, round_: Round) -> None:
    """Remove a public round that has not opened or has no ballots; the rounds after it move up one place."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    refusal = removal_refused(round_)
    if refusal:
        raise ServiceError(refusal)
    call, title, position = round_.call, round_.title, round_.position
    db.session.execute(delete(VoteAllowance).where(VoteAllowance.round_id == round_.id))
    for later in call.rounds:
        if later.source_round_id == round_.id:
            later.source_round_id = None
    record(actor, "round.remove", "round", round_.id, call_id=call.id, title=title)
    db.session.delete(round_)
    db.session.flush()
    db.session.expire(call, ["rounds"])
    for later in sorted((r for r in call.rounds if r.position > position), key=lambda r: r.position):
        later.position -= 1  # one at a time, upwards: the (call, position) pairs stay unique at every step
        db.session.flush()
    db.session.add(CallEvent(call_id=call.id, kind="round_removed", actor_id=actor.id, detail={"round": title}))


def entries_of(round_: Round) -> list[Entry]:
    """The entries in the round (the rule is the one every round follows)."""
    return candidates(round_)


def check_eligible(user: User, round_: Round, now: datetime | None = None) -> None:
    """Logged in, confirmed, old enough, and not running or judging this call."""
    now = now or utcnow()
    _check_round_open(round_.kind, round_.state_at(now))
    if not user.is_authenticated:
        raise NotLoggedIn(_("Log in to vote."))
    organiser, juror = _roles_in_call(user, round_)
    _check_account(user.is_confirmed, user.created_at, round_.min_account_age_hours, organiser or user.is_admin,
                   juror, now)


# The rules of a vote, each in one place: the ORM path and PostgreSQL's one-statement path (below) gather the
# facts their own way and ask these.

def _check_round_open(kind: RoundKind, state: RoundState) -> None:
    if kind is not RoundKind.PUBLIC:
        raise ServiceError(_("This is not a public round."))
    if state is RoundState.UPCOMING:
        raise NotEligible(_("Voting has not opened yet."))
    if state is not RoundState.OPEN:
        raise NotEligible(_("Voting has closed."))


def _check_account(confirmed: bool, created_at: datetime, min_age_hours: int, organiser: bool, juror: bool,
                   now: datetime) -> None:
    """`organiser`: of this call, or an administrator; `juror`: of any round of this call. Who they are comes
    first: an organiser or a juror never votes in the call, whatever the age of the account."""
    if organiser:
        raise NotEligible(_("You run this call: its organisers do not vote in its public rounds."))
    if juror:
        raise NotEligible(_("You are a juror of this call: its jurors do not vote in its public rounds."))
    if not confirmed:
        raise NotEligible(_("Please confirm your e-mail address before voting."))
    old_enough_at = created_at + timedelta(hours=min_age_hours)
    if now < old_enough_at:
        raise NotEligible(_("Your account can vote from %(when)s: accounts vote once they are %(hours)d hours old, "
                            "so that each person has one voice.", when=format_moment(up_to_minute(old_enough_at)),
                            hours=min_age_hours))


def _check_ballot(mode: PublicMode | None, in_round: bool, own_entry: bool) -> None:
    if mode is not PublicMode.VOTES:
        raise ServiceError(_("This round compares pairs; it has no votes."))
    if not in_round:
        raise ServiceError(_("This entry is not in this round."))
    if own_entry:
        raise NotEligible(_("You cannot vote for your own entry."))


def _quota_used_up(quota: int) -> ServiceError:
    return ServiceError(_("You have used all %(n)d of your votes. Take one back to vote for another entry.", n=quota))


def _roles_in_call(user: User, round_: Round) -> tuple[bool, bool]:
    """Whether the user runs the call (its department or a co-organiser) and whether they judge any of its
    rounds, in one query: this runs on every vote."""
    juror = exists().where(RoundMember.user_id == user.id, RoundMember.round_id.in_(
        select(Round.id).where(Round.call_id == round_.call_id)))
    is_staff, is_juror = db.session.execute(select(runs_call(user.id, round_.call_id), juror)).one()
    return bool(is_staff), bool(is_juror)


def _insert(table):
    """The INSERT of this database's dialect, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _insert_ignoring_conflicts(model, values: dict, keys: list[str] | None = None) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike; True if the row was inserted.

    With `keys`, only a conflict on that unique constraint is ignored; without, a conflict on any.

    RETURNING tells for sure (a row comes back only when one was written); rowcount is not reliable for
    this statement on every driver.
    """
    table = model.__table__
    statement = (_insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
                 .returning(table.primary_key.columns.values()[0]))
    return db.session.execute(statement).first() is not None


def _take_one_vote(round_: Round, user: User) -> bool:
    """Use one of the citizen's votes, if one is left, in one atomic statement: an upsert whose update only
    happens below the quota (the database, not this process, decides; concurrent votes queue on the row)."""
    table = VoteAllowance.__table__
    statement = _insert(table).values(round_id=round_.id, user_id=user.id, used=1)
    statement = statement.on_conflict_do_update(
        index_elements=["round_id", "user_id"], set_={"used": table.c.used + 1},
        where=table.c.used < round_.votes_per_citizen,
    ).returning(table.c.used)
    return db.session.execute(statement).first() is not None


def cast_vote(user: User, round_: Round, entry: Entry, address: str = "") -> bool:
    """Record one vote: True if it is counted, False if it already was (the same vote twice is stored once,
    and that is no error: nothing changed). A refusal raises ServiceError (NotEligible for who may vote) and
    may leave a written row behind: the caller rolls back on it. A vote past the quota is refused, atomically.
    """
    check_eligible(user, round_)
    taking_part = entry.call_id == round_.call_id and takes_part(round_, entry.id)
    _check_ballot(round_.public_mode, taking_part, entry.author_id == user.id)
    inserted = _insert_ignoring_conflicts(Vote, {
        "round_id": round_.id, "user_id": user.id, "entry_id": entry.id, "created_at": utcnow(),
        "address": address[:64], "voided_reason": ""}, ["round_id", "user_id", "entry_id"])
    if not inserted:
        return False
    if not _take_one_vote(round_, user):
        raise _quota_used_up(round_.votes_per_citizen)
    return True


def public_round_and_entry(round_id: int, entry_id: int) -> tuple[Round, Entry] | None:
    """A public round of a published call (the call loaded with it) and an entry of that call, in one query."""
    row = db.session.execute(select(Round, Entry).join(Entry, Entry.call_id == Round.call_id)
                             .where(Round.id == round_id, Entry.id == entry_id)
                             .options(joinedload(Round.call))).first()
    if row is None or row[0].kind is not RoundKind.PUBLIC or row[0].call.published_at is None:
        return None
    return row[0], row[1]


def cast_vote_as(account: SessionAccount, round_id: int, entry_id: int, address: str = "") -> bool:
    """cast_vote for the vote page, which has only ids: the account its session names (not loaded: checked
    here, NotLoggedIn if the session no longer stands), the round and the entry from the address (NotFound
    where the page answers 404). The same answers as cast_vote, and the same contract.

    On PostgreSQL one statement reads every fact the rules need and writes the vote; the rules then judge
    those facts here, and a refusal (ServiceError) leaves the caller to roll the writes back."""
    if db.session.get_bind().dialect.name != "postgresql":
        user = db.session.get(User, account.id)
        if user is None or not still_stands(account, user.is_active, user.session_token):
            raise NotLoggedIn(_("Log in to vote."))
        found = public_round_and_entry(round_id, entry_id)
        if found is None:
            raise NotFound(_("The page you asked for does not exist or has been moved."))
        return cast_vote(user, *found, address)
    now = utcnow()
    row = db.session.execute(_VOTE_IN_ONE_STATEMENT, {
        "round_id": round_id, "entry_id": entry_id, "user_id": account.id, "now": now,
        "address": address[:64]}).one()
    if not still_stands(account, row.active, row.session_token):
        raise NotLoggedIn(_("Log in to vote."))
    if not row.found or row.kind is not RoundKind.PUBLIC or not row.published:
        raise NotFound(_("The page you asked for does not exist or has been moved."))
    _check_round_open(row.kind, RoundState.at(now, row.opens_at, row.closes_at, row.decided_at))
    _check_account(row.confirmed, row.account_created_at, row.min_account_age_hours, row.organiser, row.juror, now)
    _check_ballot(row.public_mode, row.in_round, row.own_entry)
    if not row.inserted:
        return False
    if not row.allowance_taken:
        raise _quota_used_up(row.votes_per_citizen)
    return True


def _as_sql(*queries) -> tuple[list[str], list]:
    """Queries of the rules' own functions as PostgreSQL text for the statement below, with the parameters they
    bring: the fast path asks the same rules as the ORM path instead of a copy of them. Their `round_id`,
    `user_id` and `entry_id` are the statement's own."""
    dialect = PGDialect(paramstyle="named")
    texts, binds = [], {}
    for query in queries:
        compiled = query.compile(dialect=dialect)
        texts.append(str(compiled))
        for parameter, name in compiled.bind_names.items():
            if name in ("round_id", "user_id", "entry_id"):
                continue
            if name in binds:
                raise RuntimeError(f"two rules bring a parameter named {name}")
            binds[name] = bindparam(name, value=parameter.value, type_=parameter.type)
    return texts, list(binds.values())


(_TAKING_PART, _STAFF), _RULE_PARAMETERS = _as_sql(
    entries_in_round(bindparam("round_id")),
    call_staff(select(Round.call_id).where(Round.id == bindparam("round_id")).scalar_subquery()))

# PostgreSQL runs data-modifying statements inside WITH: the facts (`ballot`, the same as the ORM path's
# queries, in one row even when the account, the round or the entry is missing; which entries take part and who
# runs the call come from their rules' own functions, above), the insert-or-ignore of the
# vote and the quota's atomic upsert (only for a vote just inserted, and only below the quota: concurrent votes
# queue on the allowance row) are one round trip. The writes happen whatever the facts say; the caller rolls
# them back when a rule refuses the vote, which is rare.
_VOTE_IN_ONE_STATEMENT = text(f"""
WITH ballot AS (
    SELECT u.id IS NOT NULL AND u.disabled_at IS NULL AS active, u.session_token, r.id IS NOT NULL AS found,
           r.kind, r.public_mode, r.opens_at, r.closes_at, r.decided_at, r.votes_per_citizen,
           r.min_account_age_hours, c.published_at IS NOT NULL AS published,
           e.id IN ({_TAKING_PART}) AS in_round,
           e.author_id = u.id AS own_entry,
           u.id AS account_id, u.email_confirmed_at IS NOT NULL AS confirmed, u.created_at AS account_created_at,
           u.is_admin OR u.id IN ({_STAFF}) AS organiser,
           EXISTS (SELECT FROM round_member AS j JOIN round AS jr ON jr.id = j.round_id
                   WHERE j.user_id = u.id AND jr.call_id = c.id) AS juror
    FROM (VALUES (:user_id, :round_id, :entry_id)) AS asked (user_id, round_id, entry_id)
    LEFT JOIN "user" AS u ON u.id = asked.user_id
    LEFT JOIN (round AS r JOIN call AS c ON c.id = r.call_id
               JOIN entry AS e ON e.call_id = r.call_id) ON r.id = asked.round_id AND e.id = asked.entry_id
), new_vote AS (
    INSERT INTO vote (round_id, user_id, entry_id, created_at, address, voided_reason)
    SELECT :round_id, account_id, :entry_id, :now, :address, '' FROM ballot WHERE found AND account_id IS NOT NULL
    ON CONFLICT (round_id, user_id, entry_id) DO NOTHING
    RETURNING user_id
), taken AS (
    INSERT INTO vote_allowance AS a (round_id, user_id, used)
    SELECT :round_id, user_id, 1 FROM new_vote
    ON CONFLICT (round_id, user_id) DO UPDATE SET used = a.used + 1
    WHERE a.used < (SELECT votes_per_citizen FROM ballot)
    RETURNING used
)
SELECT ballot.*, EXISTS (SELECT FROM new_vote) AS inserted, EXISTS (SELECT FROM taken) AS allowance_taken
FROM ballot
""").bindparams(
    bindparam("now", type_=UTCDateTime()), *_RULE_PARAMETERS).columns(
    kind=enum_column(RoundKind), public_mode=enum_column(PublicMode), opens_at=UTCDateTime(),
    closes_at=UTCDateTime(), decided_at=UTCDateTime(), account_created_at=UTCDateTime())


def take_back(user: User, round_: Round, entry: Entry) -> None:
    if round_.state is not RoundState.OPEN:
        raise ServiceError(_("Voting has closed."))
    removed = db.session.execute(delete(Vote).where(
        Vote.round_id == round_.id, Vote.user_id == user.id, Vote.entry_id == entry.id,
        Vote.voided_at.is_(None))).rowcount
    if not removed:
        raise ServiceError(_("You had not voted for this entry."))
    db.session.execute(update(VoteAllowance).where(
        VoteAllowance.round_id == round_.id, VoteAllowance.user_id == user.id, VoteAllowance.used > 0)
        .values(used=VoteAllowance.used - 1))
    record(user, "vote.take_back", "round", round_.id, entry_id=entry.id)


def my_votes(user: User, round_: Round) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(db.session.scalars(select(Vote.entry_id).where(
        Vote.round_id == round_.id, Vote.user_id == user.id, Vote.voided_at.is_(None))))


def vote_counts(round_: Round) -> dict[int, int]:
    return dict(db.session.execute(select(Vote.entry_id, func.count()).where(
        Vote.round_id == round_.id, Vote.voided_at.is_(None)).group_by(Vote.entry_id)).all())


def counts_visible(round_: Round, viewer: User) -> bool:
    return not round_.hide_counts or round_.state in (RoundState.CLOSED, RoundState.DECIDED) or \
        can_manage_call(viewer, round_.call)


# Pairs ----------------------------------------------------------------------------------------

class PairAnswer(enum.Enum):
    """What became of an answer to a pair: counted, or refused (and recorded as refused)."""

    COUNTED = "counted"
    REPEATED = "repeated"  # this citizen's answer to this pair already counts
    STALE = "stale"  # the pair was dropped (an entry left the round): another one is shown now


def next_pair(user: User, round_: Round) -> tuple[Entry, Entry, str] | None:
    """The pair this citizen is to compare, with a token to answer it; None when no new pair is left.

    The pair shown is stored: until it is answered, opening the page again shows it again. A new one favours
    the least seen entries, never the citizen's own, never a pair this citizen has answered.
    """
    check_eligible(user, round_)
    entries = {e.id: e for e in entries_of(round_)}
    own = {e.id for e in entries.values() if e.author_id == user.id}
    answered = _pairs_answered(user, round_)
    shown = _outstanding_pair(user, round_)
    if shown is not None:
        if _still_a_question(shown.left_id, shown.right_id, entries, own, answered):
            return entries[shown.left_id], entries[shown.right_id], _pair_token(shown)
        shown.dropped_at = utcnow()
        db.session.flush()
    rows = db.session.execute(select(Comparison.left_id, Comparison.right_id).where(
        Comparison.round_id == round_.id, Comparison.voided_at.is_(None))).all()
    appearances, pair_counts = Counter(), Counter()
    for left, right in rows:
        appearances[left] += 1
        appearances[right] += 1
        pair_counts[frozenset((left, right))] += 1
    rng = random.Random(secrets.randbits(64))
    pair = pairwise.choose_pair(list(entries), appearances, pair_counts, exclude=own, seen_pairs=answered, rng=rng)
    if pair is None:
        return None
    left, right = pair
    # Two page views at the same moment: the database keeps one outstanding pair, and both show that one.
    _insert_ignoring_conflicts(ShownPair, {
        "round_id": round_.id, "user_id": user.id, "nonce": secrets.token_hex(16), "left_id": left,
        "right_id": right, "shown_at": utcnow(), "refusals": 0})
    shown = _outstanding_pair(user, round_)
    if shown is None:  # the other view's pair was answered in between: draw again, with that answer known
        return next_pair(user, round_)
    return entries[shown.left_id], entries[shown.right_id], _pair_token(shown)


def _pairs_answered(user: User, round_: Round) -> set[frozenset]:
    """Every pair this citizen answered in the round, voided answers included: none is asked again."""
    return {frozenset(pair) for pair in db.session.execute(select(Comparison.left_id, Comparison.right_id).where(
        Comparison.round_id == round_.id, Comparison.user_id == user.id)).all()}


def _outstanding_pair(user: User, round_: Round) -> ShownPair | None:
    return db.session.scalar(select(ShownPair).where(
        ShownPair.round_id == round_.id, ShownPair.user_id == user.id, ShownPair.answered_at.is_(None),
        ShownPair.dropped_at.is_(None)))


def _still_a_question(left: int, right: int, entries, own: set[int], answered: set[frozenset]) -> bool:
    return left in entries and right in entries and not {left, right} & own and \
        frozenset((left, right)) not in answered


def _pair_token(shown: ShownPair) -> str:
    return make_token("pair", {"round": shown.round_id, "user": shown.user_id, "nonce": shown.nonce})


def answer_pair(user: User, round_: Round, token: str, choice: str, address: str = "") -> PairAnswer:
    """Store the answer to the pair `next_pair` showed. Only the outstanding pair's answer counts, once: an
    answer sent twice, for a pair already answered, or for a pair no longer shown is refused and recorded."""
    check_eligible(user, round_)
    try:
        data = read_token("pair", token, PAIR_MAX_AGE)
    except (TokenExpired, TokenInvalid):
        raise ServiceError(_("This pair is no longer valid. Here is a new one.")) from None
    if data.get("round") != round_.id or data.get("user") != user.id:
        raise ServiceError(_("This pair is no longer valid. Here is a new one."))
    shown = db.session.scalar(select(ShownPair).where(
        ShownPair.round_id == round_.id, ShownPair.user_id == user.id, ShownPair.nonce == data.get("nonce")))
    if shown is None:  # a token from before pairs were stored
        raise ServiceError(_("This pair is no longer valid. Here is a new one."))
    left, right = shown.left_id, shown.right_id
    winner = {"left": left, "right": right, "none": None}.get(choice, "invalid")
    if winner == "invalid":
        raise ServiceError(_("Choose one of the two, or say you cannot decide."))
    if shown.dropped_at is None and shown.answered_at is None and not (
            takes_part(round_, left) and takes_part(round_, right)):
        shown.dropped_at = utcnow()  # an entry left the round while the pair was on screen
    if shown.dropped_at is not None:
        return _refuse(shown, PairAnswer.STALE)
    if shown.answered_at is not None:
        return _refuse(shown, PairAnswer.REPEATED)
    # The unique index on (round, citizen, pair) decides between answers sent at the same moment.
    if not _insert_ignoring_conflicts(Comparison, {
            "round_id": round_.id, "user_id": user.id, "nonce": shown.nonce, "left_id": left, "right_id": right,
            "winner_id": winner, "created_at": utcnow(), "address": address[:64], "voided_reason": ""}):
        return _refuse(shown, PairAnswer.REPEATED)
    db.session.execute(update(ShownPair).where(ShownPair.id == shown.id, ShownPair.answered_at.is_(None))
                       .values(answered_at=utcnow()))
    return PairAnswer.COUNTED


def _refuse(shown: ShownPair, outcome: PairAnswer) -> PairAnswer:
    db.session.execute(update(ShownPair).where(ShownPair.id == shown.id)
                       .values(refusals=ShownPair.refusals + 1))
    return outcome


def comparisons_made(user: User, round_: Round) -> int:
    if not user.is_authenticated:
        return 0
    return db.session.scalar(select(func.count()).select_from(Comparison).where(
        Comparison.round_id == round_.id, Comparison.user_id == user.id))


def pairwise_scores(round_: Round) -> dict[int, float]:
    """Each entry's chance of beating a randomly chosen other entry, from a Bradley-Terry fit."""
    ids = [e.id for e in entries_of(round_)]
    outcomes = [pairwise.Outcome(left, right, winner) for left, right, winner in db.session.execute(
        select(Comparison.left_id, Comparison.right_id, Comparison.winner_id).where(
            Comparison.round_id == round_.id, Comparison.voided_at.is_(None))).all()]
    return pairwise.win_chances(pairwise.fit_bradley_terry(ids, outcomes))


# Integrity ------------------------------------------------------------------------------------

@dataclass
class Burst:
    entry_id: int
    start: datetime
    count: int
    ids: list[int]


def _ballots(round_: Round):
    model = Vote if round_.public_mode is PublicMode.VOTES else Comparison
    target = Vote.entry_id if model is Vote else Comparison.winner_id
    return model, target


def bursts(round_: Round, *, window: timedelta = timedelta(hours=1), new_days: int = 7,
           threshold: int = 5) -> list[Burst]:
    """Many new accounts backing the same entry within a short time."""
    model, target = _ballots(round_)
    rows = db.session.execute(
        select(model.id, target, model.created_at, User.created_at).join(User, User.id == model.user_id)
        .where(model.round_id == round_.id, model.voided_at.is_(None), target.is_not(None))
        .order_by(target, model.created_at)).all()
    by_entry = defaultdict(list)
    for ballot_id, entry_id, at, account_created in rows:
        if at - account_created < timedelta(days=new_days):  # only new accounts make a burst suspicious
            by_entry[entry_id].append((at, ballot_id))
    found = []
    for entry_id, ballots in by_entry.items():
        start = 0
        best = None
        for end in range(len(ballots)):
            while ballots[end][0] - ballots[start][0] > window:
                start += 1
            size = end - start + 1
            if size >= threshold and (best is None or size > best[1] - best[0] + 1):
                best = (start, end)
        if best:
            chosen = ballots[best[0]:best[1] + 1]
            found.append(Burst(entry_id, chosen[0][0], len(chosen), [b for _, b in chosen]))
    return sorted(found, key=lambda b: -b.count)


@dataclass(frozen=True)
class PairTrouble:
    """A citizen of a pairwise round whose answers were refused (sent again for a pair already answered, or
    after the pair was dropped), or who left pairs unanswered."""

    user_id: int
    name: str
    answered: int
    refused: int
    abandoned: int  # shown, never answered: dropped, or left on screen when the round closed


def pair_trouble(round_: Round, now: datetime | None = None) -> list[PairTrouble]:
    """Citizens with refused or abandoned pairs, most refusals first. While the round is open, the pair on a
    citizen's screen is not abandoned yet: only once it was dropped or the round closed. None in a votes round."""
    if round_.public_mode is not PublicMode.PAIRWISE:
        return []
    unanswered = ShownPair.answered_at.is_(None)
    if round_.state_at(now or utcnow()) is RoundState.OPEN:
        unanswered = unanswered & ShownPair.dropped_at.is_not(None)
    answered = func.count(ShownPair.answered_at)
    refused = func.coalesce(func.sum(ShownPair.refusals), 0)
    abandoned = func.coalesce(func.sum(case((unanswered, 1), else_=0)), 0)
    rows = db.session.execute(
        select(ShownPair.user_id, User.display_name, answered, refused, abandoned)
        .join(User, User.id == ShownPair.user_id).where(ShownPair.round_id == round_.id)
        .group_by(ShownPair.user_id, User.display_name).having((refused > 0) | (abandoned > 0))
        .order_by(refused.desc(), abandoned.desc(), ShownPair.user_id)).all()
    return [PairTrouble(*row) for row in rows]


def crowded_addresses(round_: Round, threshold: int = 5) -> list[tuple[str, int, int]]:
    """Addresses many accounts voted from: (address, accounts, ballots). A school may be innocent: look first."""
    model, _target = _ballots(round_)
    rows = db.session.execute(
        select(model.address, func.count(func.distinct(model.user_id)), func.count())
        .where(model.round_id == round_.id, model.voided_at.is_(None), model.address != "")
        .group_by(model.address).having(func.count(func.distinct(model.user_id)) >= threshold)
        .order_by(func.count(func.distinct(model.user_id)).desc())).all()
    return [tuple(r) for r in rows]


def void(actor: User, round_: Round, ids: list[int], reason: str) -> int:
    """Void ballots with a written reason: they stop counting, and the results say how many and why."""
    if not can_manage_call(actor, round_.call):
        raise ServiceError(_("You do not run this call."))
    if not reason.strip():
        raise ServiceError(_("Write the reason for voiding: it is published with the results."))
    model, _target = _ballots(round_)
    changed = db.session.execute(
        update(model).where(model.round_id == round_.id, model.id.in_(ids), model.voided_at.is_(None))
        .values(voided_at=utcnow(), voided_by_id=actor.id, voided_reason=reason.strip()[:500])).rowcount
    record(actor, "round.void", "round", round_.id, ids=sorted(ids), reason=reason.strip(), count=changed)
    return changed


def voided_summary(round_: Round) -> list[tuple[str, int]]:
    """(reason, how many) of the voided ballots: shown with the results, never hidden."""
    model, _target = _ballots(round_)
    return [tuple(r) for r in db.session.execute(
        select(model.voided_reason, func.count()).where(model.round_id == round_.id, model.voided_at.is_not(None))
        .group_by(model.voided_reason).order_by(func.count().desc())).all()]


def ballot_total(round_: Round) -> int:
    model, _target = _ballots(round_)
    return db.session.scalar(select(func.count()).select_from(model).where(
        model.round_id == round_.id, model.voided_at.is_(None)))


def open_public_round(call: Call, now: datetime | None = None) -> Round | None:
    now = now or utcnow()
    return next((r for r in call.rounds if r.kind is RoundKind.PUBLIC and r.state_at(now) is RoundState.OPEN), None)
