"""A public round's settings (create, change, close, remove; what it holds) and who may take part in it:
the rules of a ballot, each in one place, that the ORM path and PostgreSQL's one statement both ask."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, delete, exists, func, select

from contest.extensions import db
from contest.i18n import english
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
    User,
    Vote,
    VoteAllowance,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call, runs_call
from contest.services import ServiceError
from contest.services.audit import record
from contest.services.rounds import (
    awaited_round,
    candidates,
    decided_rounds,
    entries_from,
    opens_after_previous,
    source_of,
)


def _ballots(round_: Round):
    """The table of a public round's ballots (votes, or answers to pairs) and the entry a ballot backs."""
    model = Vote if round_.public_mode is PublicMode.VOTES else Comparison
    target = Vote.entry_id if model is Vote else Comparison.winner_id
    return model, target


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
    requires_phone: bool = False  # a verified mobile number to vote or compare
    # Which entries the round holds (at creation only): the advanced entries of this earlier decided round, or
    # every approved entry; neither: the last decided round's (every approved entry when there is no earlier round).
    source_round_id: int | None = None
    all_approved: bool = False
    title_en: str = ""


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
                   hide_counts=data.hide_counts, requires_phone=data.requires_phone, jurors_per_entry=0,
                   source_round_id=held.source.id if held.source else None,
                   takes_all_approved=held.source is None and bool(call.rounds))
    round_.title_en = english(data.title_en)
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
              "min_account_age_hours": data.min_account_age_hours, "hide_counts": data.hide_counts,
              "requires_phone": data.requires_phone}
    current = {name: getattr(round_, name) for name in wanted}
    current["opens_at"], current["closes_at"] = to_minute(round_.opens_at), to_minute(round_.closes_at)
    changed = [name for name in wanted if wanted[name] != current[name]]
    round_.title_en = english(data.title_en)  # a translation, not a change of the round: never on its timeline
    if state is RoundState.OPEN:
        if {"opens_at", "votes_per_citizen", "min_account_age_hours", "requires_phone"} & set(changed):
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
                             detail={"round": round_.title, "round_en": round_.title_en, "round_id": round_.id,
                                     "changed": changed}))
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
    from contest.services.results import jobs  # below this module: the results read the rounds

    round_.closes_at = max(to_minute(utcnow()), round_.opens_at)
    db.session.add(CallEvent(call_id=round_.call_id, kind="voting_closed", actor_id=actor.id,
                             detail={"round": round_.title, "round_en": round_.title_en, "round_id": round_.id}))
    record(actor, "round.close_public", "round", round_.id)
    jobs.queue_if_due(round_.call)  # the last round: a large call's results are computed at once


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


ROUND_PAGE = 60  # entries on one page of a public round


def entries_of(round_: Round) -> list[Entry]:
    """The entries in the round (the rule is the one every round follows)."""
    return candidates(round_)


def page_of_round(round_: Round, start: int | None = None) -> tuple[list[Entry], int | None]:
    """One page of the round's entries from the entry id `start` on, and where the next page starts (None: this is
    the last): a seek on the id, so the thousandth page costs what the first does."""
    entries = candidates(round_, start=start, limit=ROUND_PAGE + 1)
    return entries[:ROUND_PAGE], entries[ROUND_PAGE].id if len(entries) > ROUND_PAGE else None


def check_eligible(user: User, round_: Round, now: datetime | None = None) -> None:
    """Logged in, confirmed, old enough, and not running or judging this call."""
    now = now or utcnow()
    _check_round_open(round_.kind, round_.state_at(now))
    if not user.is_authenticated:
        raise NotLoggedIn(_("Log in to vote."))
    organiser, juror = _roles_in_call(user, round_)
    _check_account(user.is_confirmed, user.created_at, round_.min_account_age_hours, organiser or user.is_admin,
                   juror, now, phone_missing=round_.requires_phone and user.phone_verified_at is None)


def _check_round_open(kind: RoundKind, state: RoundState) -> None:
    if kind is not RoundKind.PUBLIC:
        raise ServiceError(_("This is not a public round."))
    if state is RoundState.UPCOMING:
        raise NotEligible(_("Voting has not opened yet."))
    if state is not RoundState.OPEN:
        raise NotEligible(_("Voting has closed."))


def _check_account(confirmed: bool, created_at: datetime, min_age_hours: int, organiser: bool, juror: bool,
                   now: datetime, phone_missing: bool = False) -> None:
    """`organiser`: of this call, or an administrator; `juror`: of any round of this call. Who they are comes
    first: an organiser or a juror never votes in the call, whatever the age of the account."""
    if organiser:
        raise NotEligible(_("You run this call: its organisers do not vote in its public rounds."))
    if juror:
        raise NotEligible(_("You are a juror of this call: its jurors do not vote in its public rounds."))
    if not confirmed:
        raise NotEligible(_("Please confirm your e-mail address before voting."))
    if phone_missing:
        raise NotEligible(_("This round asks each voter for a verified mobile number: add one under “My account”, "
                            "“Mobile number”, then vote."))
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
    is_staff, is_juror = db.session.execute(_roles_in_call_statement(),
                                            {"user_id": user.id, "call_id": round_.call_id}).one()
    return bool(is_staff), bool(is_juror)


@functools.cache
def _roles_in_call_statement() -> Select:
    """`_roles_in_call`'s statement, built once with the user and the call as bind parameters (building it cost
    more than running it)."""
    user_id, call_id = bindparam("user_id"), bindparam("call_id")
    juror = exists().where(RoundMember.user_id == user_id, RoundMember.round_id.in_(
        select(Round.id).where(Round.call_id == call_id)))
    return select(runs_call(user_id, call_id), juror)


def open_public_round(call: Call, now: datetime | None = None) -> Round | None:
    now = now or utcnow()
    return next((r for r in call.rounds if r.kind is RoundKind.PUBLIC and r.state_at(now) is RoundState.OPEN), None)
