"""Following a call: who follows it (by the button, or by taking part), and telling them, once per event and in
their own language, when it opens a round, publishes results, answers an objection or records a follow-up stage.

A person who stopped following a call is never followed to it again by taking part; only the button brings them
back. Every mail of a call one follows carries a signed link that stops following without logging in.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from contest.database import claimed_one_by_one, dialect_insert
from contest.extensions import db
from contest.links import external_url
from contest.mail import send_once_each
from contest.models import Call, CallFollower, CommentStatus, MailKind, Round, User
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.audit import record
from contest.tokens import TokenExpired, TokenInvalid, make_token, read_token

UNFOLLOW_PURPOSE = "unfollow"
UNFOLLOW_LINK_AGE = timedelta(days=365)  # a mail kept for months still stops what it brought


def is_following(user: User, call: Call) -> bool:
    if not user.is_authenticated:
        return False
    return bool(followers_of(call, among=[user.id]))


def follow(actor: User, call: Call) -> None:
    """The citizen follows the call by the button (again, too, after stopping)."""
    if not actor.is_authenticated:
        raise ServiceError(_("Log in to follow a call."))
    if call.published_at is None:
        raise ServiceError(_("This call is not published."))
    now = utcnow()
    statement = dialect_insert(CallFollower).values(call_id=call.id, user_id=actor.id, since=now, automatic=False)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["call_id", "user_id"], set_={"since": now, "automatic": False, "stopped_at": None},
        where=CallFollower.stopped_at.is_not(None)))
    record(actor, "call.follow", "call", call.id)


def follow_automatically(user: User | int, call: Call | int) -> None:
    """Follow the call for a citizen who took part in it (sent an entry, voted, compared, commented), unless they
    follow it already or stopped following it. One insert-or-ignore: safe under concurrent votes."""
    user_id = user if isinstance(user, int) else user.id
    call_id = call if isinstance(call, int) else call.id
    db.session.execute(dialect_insert(CallFollower).values(call_id=call_id, user_id=user_id, since=utcnow(),
                                                      automatic=True).on_conflict_do_nothing())


def stop_following(actor: User, call: Call) -> None:
    """The citizen stops following the call; kept as stopped, so that taking part does not follow it again."""
    now = utcnow()
    statement = dialect_insert(CallFollower).values(call_id=call.id, user_id=actor.id, since=now, automatic=False,
                                               stopped_at=now)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["call_id", "user_id"], set_={"stopped_at": now}, where=CallFollower.stopped_at.is_(None)))
    record(actor, "call.unfollow", "call", call.id)


def followed_calls(user: User) -> list[Call]:
    """The calls the person follows, the most recently followed first."""
    return list(db.session.scalars(select(Call).join(CallFollower, CallFollower.call_id == Call.id).where(
        CallFollower.user_id == user.id, CallFollower.stopped_at.is_(None), Call.published_at.is_not(None))
        .order_by(CallFollower.since.desc(), Call.id)))


def followers_of(call: Call, among: Iterable[int] | None = None) -> list[User]:
    """Everyone following the call whose account is active (only those of the user ids `among`, when given), in one
    query."""
    statement = select(User).join(CallFollower, CallFollower.user_id == User.id).where(
        CallFollower.call_id == call.id, CallFollower.stopped_at.is_(None), User.disabled_at.is_(None))
    if among is not None:
        statement = statement.where(User.id.in_(list(among)))
    return list(db.session.scalars(statement.order_by(User.id)))


# The signed link of every mail ------------------------------------------------------------------------

def unfollow_url(user: User, call: Call) -> str:
    """The link in a mail that stops `user` following `call`, without logging in (it opens a page that asks)."""
    token = make_token(UNFOLLOW_PURPOSE, {"user": user.id, "call": call.id})
    return external_url("public.unfollow_by_link", token=token)


def read_unfollow_link(token: str) -> tuple[User, Call]:
    """Whose link it is and of which call; ServiceError when it was changed, has expired or names nothing."""
    try:
        data = read_token(UNFOLLOW_PURPOSE, token, UNFOLLOW_LINK_AGE)
    except TokenExpired as error:
        raise ServiceError(_("This link has expired. Log in to stop following the call from its page.")) from error
    except TokenInvalid as error:
        raise ServiceError(_("This link is not valid. Copy the whole link from the e-mail.")) from error
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    call = db.session.get(Call, data.get("call")) if isinstance(data.get("call"), int) else None
    if user is None or call is None:
        raise ServiceError(_("This link is not valid. Copy the whole link from the e-mail."))
    return user, call


def unfollow_links(call: Call, people: Iterable[User]) -> Callable[[User], dict]:
    """For a mail of the call's own (results, an answer, a stage) going to `people`: the unfollow link of each one
    who follows the call, so that every mail they get of it lets them stop."""
    following = {user.id for user in followers_of(call, among={user.id for user in people})}
    return lambda user: {"unfollow_url": unfollow_url(user, call)} if user.id in following else {}


# Telling them ------------------------------------------------------------------------------------------

def _tell(call: Call, event: str, already_told: Iterable[User] = (), **context) -> int:
    """Mail the call's followers of one event, each once, in their language and by their choices; those in
    `already_told` had a mail of their own about it (as its entrant, its objector, a backer) and get no second."""
    told = {user.id for user in already_told}
    people = [user for user in followers_of(call) if user.id not in told]
    links = {user.id: unfollow_url(user, call) for user in people}
    send_once_each([(user, event) for user in people], "call_news", kind=MailKind.FOLLOWING, call=call,
                   event=event, call_url=external_url("public.call", call_id=call.id),
                   per_person=lambda user: {"unfollow_url": links[user.id]}, **context)
    return len(people)


def tell_reply(comment, parent) -> int:
    """The author of a comment is told once of a reply to it, if they follow its call: never of their own reply,
    nor of one still waiting for the moderators. The mail names nobody, so a blind round stays blind."""
    author = parent.author
    if author is None or author.id == comment.author_id:  # a deleted account is disabled: it follows nothing
        return 0
    call = db.session.get(Call, comment.call_id)
    if comment.status is not CommentStatus.VISIBLE or not is_following(author, call):
        return 0
    if comment.entry_id is not None:
        url = external_url("public.entry", entry_id=comment.entry_id, _anchor=f"comment-{comment.id}")
    else:
        url = external_url("public.call", call_id=call.id, _anchor=f"comment-{comment.id}")
    send_once_each([(author, "reply")], "call_news", kind=MailKind.FOLLOWING, call=call, event="reply", url=url,
                   call_url=external_url("public.call", call_id=call.id),
                   per_person=lambda user: {"unfollow_url": unfollow_url(user, call)})
    return 1


def tell_results_published(call: Call, already_told: Iterable[User] = ()) -> int:
    return _tell(call, "results", already_told, url=external_url("public.results", call_id=call.id))


def tell_objection_answered(call: Call, already_told: Iterable[User] = ()) -> int:
    return _tell(call, "objection", already_told,
                 url=external_url("public.results", call_id=call.id, _anchor="objections"))


def tell_follow_up_stage(call: Call, entry, stage, already_told: Iterable[User] = ()) -> int:
    return _tell(call, "follow_up", already_told, entry=entry, stage=stage,
                 url=external_url("followup.call", call_id=call.id, _anchor=f"entry-{entry.id}"))


def tell_round_opened(round_: Round) -> int:
    from contest.models import RoundKind

    url = (external_url("vote.round", round_id=round_.id) if round_.kind is RoundKind.PUBLIC
           else external_url("public.call", call_id=round_.call_id))
    return _tell(round_.call, "round_public" if round_.kind is RoundKind.PUBLIC else "round_expert", round=round_,
                 url=url)


def tell_rounds_opened(now: datetime | None = None) -> int:
    """Tell the followers of each published call whose round has opened (and is not over) that it has; returns how
    many rounds. The worker runs this at every turn of its clock.

    Once per round: claimed by one conditional UPDATE and committed with its mails (unlike the services a page
    calls), so two workers at once tell each follower once. Needs no request: the links are the configured site's.
    """
    now = now or utcnow()
    waiting = (Round.opening_told_at.is_(None), Round.opens_at <= now, Round.closes_at > now,
               Round.decided_at.is_(None))
    round_ids = list(db.session.scalars(select(Round.id).join(Call, Call.id == Round.call_id).where(
        *waiting, Call.published_at.is_not(None)).order_by(Round.opens_at, Round.id)))
    told = 0
    for round_ in claimed_one_by_one(Round, round_ids, lambda _id: (waiting, {"opening_told_at": now})):
        count = tell_round_opened(round_)
        record(None, "round.opening_told", "round", round_.id, told=count)
        told += 1
    return told
