"""Votes: cast (by insert-or-ignore and an atomic quota; on PostgreSQL in one statement), taken back, counted."""
from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.orm import joinedload

from contest.database import dialect_insert, insert_ignoring_conflicts
from contest.extensions import db
from contest.models import (
    Call,
    Entry,
    PublicMode,
    Round,
    RoundKind,
    RoundState,
    User,
    Vote,
    VoteAllowance,
)
from contest.models.types import UTCDateTime, enum_column, utcnow
from contest.permissions import call_staff, can_manage_call
from contest.services import ServiceError, following
from contest.services.audit import record
from contest.services.public.settings import (
    NotFound,
    NotLoggedIn,
    _check_account,
    _check_ballot,
    _check_round_open,
    _quota_used_up,
    check_eligible,
)
from contest.services.public.standings import forget_standing
from contest.services.rounds import (
    entries_in_round,
    takes_part,
)
from contest.sessions import SessionAccount, still_stands


def _take_one_vote(round_: Round, user: User) -> bool:
    """Use one of the citizen's votes, if one is left, in one atomic statement: an upsert whose update only
    happens below the quota (the database, not this process, decides; concurrent votes queue on the row)."""
    table = VoteAllowance.__table__
    statement = dialect_insert(table).values(round_id=round_.id, user_id=user.id, used=1)
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
    inserted = insert_ignoring_conflicts(Vote, {
        "round_id": round_.id, "user_id": user.id, "entry_id": entry.id, "created_at": utcnow(),
        "address": address[:64], "voided_reason": ""}, ["round_id", "user_id", "entry_id"])
    if not inserted:
        return False
    if not _take_one_vote(round_, user):
        raise _quota_used_up(round_.votes_per_citizen)
    following.follow_automatically(user, round_.call_id)
    return True


def public_round(round_id: int) -> Round | None:
    """A public round of a published call, the call loaded with it."""
    round_ = db.session.scalar(select(Round).where(Round.id == round_id).options(joinedload(Round.call)))
    if round_ is None or round_.kind is not RoundKind.PUBLIC or round_.call.published_at is None:
        return None
    return round_


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
    _check_account(row.confirmed, row.account_created_at, row.min_account_age_hours, row.organiser, row.juror, now,
                   phone_missing=row.phone_missing)
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
           r.requires_phone AND u.phone_verified_at IS NULL AS phone_missing,
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
), followed AS (
    -- following.follow_automatically, in the same round trip: a counted vote follows the call, unless the
    -- citizen follows it already or stopped following it
    INSERT INTO call_follower (call_id, user_id, since, automatic)
    SELECT r.call_id, :user_id, :now, true FROM round AS r WHERE r.id = :round_id AND EXISTS (SELECT FROM taken)
    ON CONFLICT (call_id, user_id) DO NOTHING
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
    forget_standing(round_)  # no ballot's time says the standing lost one: it is counted again
    db.session.execute(update(VoteAllowance).where(
        VoteAllowance.round_id == round_.id, VoteAllowance.user_id == user.id, VoteAllowance.used > 0)
        .values(used=VoteAllowance.used - 1))
    record(user, "vote.take_back", "round", round_.id, entry_id=entry.id)


def my_votes(user: User, round_: Round) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(db.session.scalars(select(Vote.entry_id).where(
        Vote.round_id == round_.id, Vote.user_id == user.id, Vote.voided_at.is_(None))))


def vote_counts(round_: Round, entry_ids: list[int] | None = None) -> dict[int, int]:
    """The votes counted for each entry of the round, in one grouped query; `entry_ids`: for those entries only
    (a page of the round)."""
    stmt = select(Vote.entry_id, func.count()).where(Vote.round_id == round_.id, Vote.voided_at.is_(None))
    if entry_ids is not None:
        stmt = stmt.where(Vote.entry_id.in_(entry_ids))
    return dict(db.session.execute(stmt.group_by(Vote.entry_id)).all())


def counts_visible(round_: Round, viewer: User) -> bool:
    return not round_.hide_counts or round_.state in (RoundState.CLOSED, RoundState.DECIDED) or \
        can_manage_call(viewer, round_.call)


def ballots_for_export(call: Call) -> Iterator[tuple]:
    """Every ballot of the call's votes rounds, counted or voided with the reason, oldest first, read in batches
    (constant memory at city size): (ballot, round, round title, entry, entry title, cast at, voided at, reason).
    Nothing of the voter: not who, not from where."""
    statement = (select(Vote.id, Vote.round_id, Round.title, Vote.entry_id, Entry.title, Vote.created_at,
                        Vote.voided_at, Vote.voided_reason)
                 .join(Round, Round.id == Vote.round_id).join(Entry, Entry.id == Vote.entry_id)
                 .where(Round.call_id == call.id).order_by(Vote.id)
                 .execution_options(yield_per=2000))
    for row in db.session.execute(statement):
        yield tuple(row)
