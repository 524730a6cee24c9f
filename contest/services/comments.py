"""Comments on entries and calls: who may write, reply, endorse and report; when a call's comments are closed; how
reports hide a comment and how organisers review it; and how authors are shown (never an entrant during a blind
round). The one rule for each, read by the pages and by the moderation queue alike."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from contest.extensions import db
from contest.models import (
    Call,
    Comment,
    CommentEndorsement,
    CommentReport,
    CommentStatus,
    Entry,
    ReportCategory,
    Round,
    RoundKind,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services.audit import record
from contest.services.visibility import authors_hidden, is_public

BODY_MAX = 5000
REASON_MAX = 1000


# When comments are open ---------------------------------------------------------------------------------------

def closed_because(call: Call) -> str | None:
    """Why the call takes no new comments now, or None when it does: closed by its organisers, or closed while an
    expert round of the call is open (the jury scores undisturbed)."""
    if call.published_at is None:
        return _("Comments open when the call is published.")
    if not call.comments_open:
        return _("The organisers have closed the comments of this call.")
    if call.comments_closed_while_judging:
        now = utcnow()
        judging = db.session.scalar(select(Round.id).where(
            Round.call_id == call.id, Round.kind == RoundKind.EXPERT, Round.decided_at.is_(None),
            Round.opens_at <= now, Round.closes_at > now).limit(1))
        if judging is not None:
            return _("Comments are closed while the jury scores the entries.")
    return None


def set_comments_open(actor: User, call: Call, *, open_: bool, closed_while_judging: bool) -> None:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    call.comments_open, call.comments_closed_while_judging = open_, closed_while_judging
    record(actor, "comments.settings", "call", call.id, open=open_, closed_while_judging=closed_while_judging)


# Writing ---------------------------------------------------------------------------------------------------------

def _check_writer(user: User) -> None:
    if not user.is_authenticated:
        raise ServiceError(_("Log in to comment."))
    if not user.is_confirmed:
        raise ServiceError(_("Please confirm your e-mail address before commenting."))


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ServiceError(_("Write your comment."))
    if len(body) > BODY_MAX:
        raise ServiceError(_("A comment has at most %(n)d characters.", n=BODY_MAX))
    return body


def _official_department(user: User, call: Call):
    """The department an organiser answers for: their own among those running the call (the lead first)."""
    running = [call.department, *call.co_departments]
    mine = {d.id for d in user.departments}
    return next((d for d in running if d.id in mine), call.department)


def _first_status(user: User, staff: bool) -> CommentStatus:
    """A new account's first comments wait for an organiser (COMMENT_FIRST_MODERATED of them; 0: none wait)."""
    waiting = current_app.config["COMMENT_FIRST_MODERATED"]
    if staff or waiting <= 0:
        return CommentStatus.VISIBLE
    shown = db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.author_id == user.id, Comment.status == CommentStatus.VISIBLE))
    return CommentStatus.VISIBLE if shown >= waiting else CommentStatus.PENDING


def post_comment(user: User, call: Call, body: str, *, entry: Entry | None = None,
                 parent: Comment | None = None) -> Comment:
    """A comment on the call or on one of its entries, or a reply (one level deep) to a comment there."""
    _check_writer(user)
    if entry is not None and (entry.call_id != call.id or not is_public(entry)):
        raise ServiceError(_("This entry takes no comments."))
    if parent is not None:
        if parent.call_id != call.id or parent.entry_id != (entry.id if entry else None):
            raise ServiceError(_("Reply to a comment of this page."))
        if parent.parent_id is not None:
            parent = db.session.get(Comment, parent.parent_id)  # one level deep: a reply to a reply joins its thread
        if parent.status is not CommentStatus.VISIBLE:
            raise ServiceError(_("This comment takes no replies."))
    closed = closed_because(call)
    if closed:
        raise ServiceError(closed)
    staff = can_manage_call(user, call)
    comment = Comment(call_id=call.id, entry_id=entry.id if entry else None,
                      parent_id=parent.id if parent else None, author_id=user.id, body=_check_body(body),
                      department_id=_official_department(user, call).id if staff else None,
                      by_entrant=entry is not None and entry.author_id == user.id,
                      status=_first_status(user, staff))
    db.session.add(comment)
    db.session.flush()
    record(user, "comment.reply" if parent else "comment.post", "comment", comment.id, call_id=call.id,
           entry_id=comment.entry_id, parent_id=comment.parent_id, status=comment.status.value)
    comment_stored(comment, parent)
    return comment


def comment_stored(comment: Comment, parent: Comment | None) -> None:
    """Once a comment (or a reply, then with its parent) is stored, in the same transaction: the commenter follows
    the call (unless they stopped following it), and the parent's author is told of a reply."""
    from contest.services import following

    following.follow_automatically(comment.author_id, comment.call_id)
    if parent is not None:
        following.tell_reply(comment, parent)


# Endorsing and reporting --------------------------------------------------------------------------------------------

def _check_shown(user: User, comment: Comment) -> None:
    if not user.is_authenticated:
        raise ServiceError(_("Log in first."))
    if comment.status is not CommentStatus.VISIBLE:
        raise ServiceError(_("This comment is not shown."))


def endorse(user: User, comment: Comment) -> bool:
    """Mark a comment useful, once per person; True when this counted (False: already endorsed, nothing changes)."""
    _check_shown(user, comment)
    if comment.author_id == user.id:
        raise ServiceError(_("You cannot mark your own comment useful."))
    try:
        with db.session.begin_nested():
            db.session.add(CommentEndorsement(comment_id=comment.id, user_id=user.id))
    except IntegrityError:
        return False
    db.session.execute(update(Comment).where(Comment.id == comment.id)
                       .values(endorsements=Comment.endorsements + 1))
    db.session.refresh(comment)
    return True


def report(user: User, comment: Comment, category: str, reason: str) -> bool:
    """Report a comment with a reason. The same person counts once (a unique row per person, so that even
    simultaneous reports count once); the COMMENT_REPORTS_TO_HIDE-th distinct report hides it pending review.
    True when this report counted."""
    _check_shown(user, comment)
    try:
        category_ = ReportCategory(category)
    except ValueError:
        raise ServiceError(_("Choose why you report this comment.")) from None
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Write the reason for your report."))
    if len(reason) > REASON_MAX:
        raise ServiceError(_("A reason has at most %(n)d characters.", n=REASON_MAX))
    if comment.author_id == user.id:
        raise ServiceError(_("You cannot report your own comment."))
    try:
        with db.session.begin_nested():
            db.session.add(CommentReport(comment_id=comment.id, user_id=user.id, category=category_, reason=reason))
    except IntegrityError:
        return False
    # One statement, so that simultaneous reports add up whatever order they commit in.
    db.session.execute(update(Comment).where(Comment.id == comment.id).values(reports=Comment.reports + 1))
    db.session.execute(update(Comment).where(
        Comment.id == comment.id, Comment.status == CommentStatus.VISIBLE,
        Comment.reports >= current_app.config["COMMENT_REPORTS_TO_HIDE"]).values(status=CommentStatus.HIDDEN))
    db.session.refresh(comment)
    record(user, "comment.report", "comment", comment.id, category=category_.value)
    return True


# Moderation ----------------------------------------------------------------------------------------------------------

def moderate(actor: User, comment: Comment, *, hide: bool, reason: str) -> None:
    """An organiser of the call hides a comment or shows it again (a pending one is let through), with a
    written reason the author sees; its open reports are reviewed."""
    call = db.session.get(Call, comment.call_id)
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Write the reason: the author sees it."))
    if len(reason) > REASON_MAX:
        raise ServiceError(_("A reason has at most %(n)d characters.", n=REASON_MAX))
    before = comment.status
    comment.status = CommentStatus.HIDDEN if hide else CommentStatus.VISIBLE
    comment.hidden_reason, comment.moderated_at, comment.moderated_by_id = reason, utcnow(), actor.id
    comment.reports = 0
    db.session.execute(update(CommentReport).where(CommentReport.comment_id == comment.id)
                       .values(reviewed=True))
    record(actor, "comment.hide" if hide else "comment.restore", "comment", comment.id, call_id=call.id,
           before=before.value, reason=reason)


@dataclass(frozen=True)
class Queued:
    """A comment waiting for an organiser: reported by people (with their reasons), or a newcomer's first one."""

    comment: Comment
    reports: list[CommentReport]


def moderation_queue(actor: User, call: Call) -> list[Queued]:
    """The call's comments an organiser looks at: reported ones not reviewed yet, pending ones, and hidden ones (to
    show again)."""
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    reported = select(CommentReport.comment_id).where(CommentReport.reviewed.is_(False))
    comments = db.session.scalars(select(Comment).where(
        Comment.call_id == call.id,
        (Comment.id.in_(reported)) | (Comment.status != CommentStatus.VISIBLE))
        .options(selectinload(Comment.author)).order_by(Comment.id)).all()
    reports: dict[int, list[CommentReport]] = {}
    for r in db.session.scalars(select(CommentReport).where(
            CommentReport.comment_id.in_([c.id for c in comments]), CommentReport.reviewed.is_(False))
            .order_by(CommentReport.id)):
        reports.setdefault(r.comment_id, []).append(r)
    return [Queued(c, reports.get(c.id, [])) for c in comments]


# Reading ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    """A comment as a reader sees it. `name` is empty when the author is not named (an entrant during a blind
    round, or an official answer, which names the department in `department`)."""

    comment: Comment
    name: str
    department: str
    entrant: bool
    hidden: bool  # hidden from readers: the page shows why instead of the text
    pending: bool
    mine: bool
    replies: list[Shown]


def _shown(comment: Comment, viewer: User, *, blind: bool, entrant_ids: set[int], staff: bool,
           replies: list[Shown]) -> Shown:
    department = comment.department.display_name if comment.department_id and comment.department else ""
    entrant = comment.by_entrant
    anonymous = blind and (comment.by_entrant or comment.author_id in entrant_ids)
    name = "" if anonymous or department else (comment.author.display_name if comment.author else "")
    mine = viewer.is_authenticated and comment.author_id == viewer.id
    return Shown(comment=comment, name=name, department=department, entrant=entrant,
                 hidden=comment.status is CommentStatus.HIDDEN,
                 pending=comment.status is CommentStatus.PENDING, mine=mine, replies=replies)


def comments_page(viewer: User, call: Call, entry: Entry | None, page: int):
    """One page of the comments on the call itself (entry None) or on an entry, each with its replies, oldest
    first, in a fixed number of queries. Pending comments show only to their author and the call's staff; hidden
    ones show as a line saying why."""
    staff = can_manage_call(viewer, call)
    me = viewer.id if viewer.is_authenticated else None

    def readable(stmt):
        if staff:
            return stmt
        return stmt.where((Comment.status != CommentStatus.PENDING) | (Comment.author_id == me))

    where = (Comment.call_id == call.id, Comment.entry_id == entry.id if entry else Comment.entry_id.is_(None))
    pagination = db.paginate(readable(select(Comment).where(*where, Comment.parent_id.is_(None)))
                             .options(selectinload(Comment.author), selectinload(Comment.department))
                             .order_by(Comment.id), page=page,
                             per_page=current_app.config["COMMENTS_PER_PAGE"], error_out=False)
    tops = list(pagination.items)
    replies: dict[int, list[Comment]] = {}
    if tops:
        for r in db.session.scalars(readable(select(Comment).where(Comment.parent_id.in_([c.id for c in tops])))
                                    .options(selectinload(Comment.author), selectinload(Comment.department))
                                    .order_by(Comment.id)):
            replies.setdefault(r.parent_id, []).append(r)
    blind = authors_hidden(call)
    entrant_ids = set(db.session.scalars(select(Entry.author_id).where(
        Entry.call_id == call.id, Entry.author_id.is_not(None)))) if blind else set()
    shown = [_shown(c, viewer, blind=blind, entrant_ids=entrant_ids, staff=staff, replies=[
        _shown(r, viewer, blind=blind, entrant_ids=entrant_ids, staff=staff, replies=[])
        for r in replies.get(c.id, [])]) for c in tops]
    return pagination, shown


def comment_target(comment: Comment) -> tuple[Call, Entry | None]:
    call = db.session.get(Call, comment.call_id)
    return call, (db.session.get(Entry, comment.entry_id) if comment.entry_id else None)


def can_view_comment(viewer: User, comment: Comment) -> bool:
    """Whoever may see the page the comment is on; a pending one only its author and the call's staff."""
    call, entry = comment_target(comment)
    if call.published_at is None or (entry is not None and not is_public(entry)):
        return can_manage_call(viewer, call)
    if comment.status is CommentStatus.PENDING:
        return (viewer.is_authenticated and comment.author_id == viewer.id) or can_manage_call(viewer, call)
    return True
