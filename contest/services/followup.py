"""The follow-up of adopted entries, from design to street: adoption, dated updates with photos, news to backers."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from contest.extensions import db
from contest.i18n import english
from contest.links import external_url
from contest.localtime import site_zone
from contest.mail import send_once_each
from contest.models import (
    Award,
    Call,
    CallEvent,
    Comparison,
    Entry,
    EntryImage,
    EntryStatus,
    FollowUp,
    FollowUpStage,
    FollowUpUpdate,
    Image,
    MailKind,
    Prize,
    Round,
    RoundKind,
    User,
    Vote,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError, following
from contest.services.audit import record
from contest.services.departments import check_point
from contest.services.media import process_uploads, store_image
from contest.services.visibility import public_entries
from contest.text import ADDRESS, PICTURE_DESCRIPTION

PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
PHOTO_MAX_MB = 20  # photos of a building site come straight from a phone


def _check_staff(actor: User, call: Call) -> None:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))


def adopt(actor: User, entry: Entry) -> FollowUp:
    """Record that the organisers adopted an entry: it is followed from here until it is built."""
    call = entry.call
    _check_staff(actor, call)
    if call.results_published_at is None:
        raise ServiceError(_("Entries can be adopted once the results of the call are published."))
    if entry.status is not EntryStatus.APPROVED:
        raise ServiceError(_("Only an approved entry can be adopted."))
    if db.session.scalar(select(FollowUp.id).where(FollowUp.entry_id == entry.id)) is not None:
        raise ServiceError(_("“%(title)s” is already adopted.", title=entry.title))
    now = utcnow()
    # The built object stands where the idea was placed until the organisers say otherwise.
    follow_up = FollowUp(call=call, entry=entry, stage=FollowUpStage.ADOPTED, progress=0, created_at=now,
                         updated_at=now, lat=entry.lat, lng=entry.lng, address=entry.address or "")
    follow_up.updates.append(FollowUpUpdate(happened_on=now, stage=FollowUpStage.ADOPTED, progress=0,
                                            text="", author_id=actor.id, created_at=now))
    db.session.add(follow_up)
    db.session.flush()
    _timeline_event(actor, follow_up, now)
    record(actor, "follow_up.adopt", "entry", entry.id, call_id=call.id, follow_up_id=follow_up.id)
    notify_backers(follow_up)
    return follow_up


def _local_date(value: datetime):
    return value.astimezone(site_zone()).date()


def add_update(actor: User, follow_up: FollowUp, *, stage: FollowUpStage, progress, text: str,
               happened_on: datetime, upload: bytes | None = None, image_alt: str = "",
               text_en: str = "") -> FollowUpUpdate:
    """A dated step: the follow-up takes its stage and progress. A new stage goes on the call's timeline and
    is told to the entrant and the entry's backers."""
    _check_staff(actor, follow_up.call)
    text, image_alt = (text or "").strip(), PICTURE_DESCRIPTION.check(image_alt or "")
    if not isinstance(progress, int) or isinstance(progress, bool) or not 0 <= progress <= 100:
        raise ServiceError(_("Give the progress as a whole number from 0 to 100."))
    if stage.position < follow_up.stage.position:
        raise ServiceError(_("A follow-up only moves forward: choose “%(stage)s” or a later stage.",
                             stage=follow_up.stage.label))
    if stage is FollowUpStage.IMPLEMENTED:
        progress = 100
    if not text and not upload:
        raise ServiceError(_("Write what happened, or add a photo."))
    if upload and not image_alt:
        raise ServiceError(_("Describe the photo in a sentence for people who cannot see it."))
    now = utcnow()
    if happened_on > now:
        raise ServiceError(_("The date cannot be in the future."))
    latest = follow_up.updates[0] if follow_up.updates else None
    if latest is not None:
        if _local_date(happened_on) < _local_date(latest.happened_on):
            raise ServiceError(_("The date cannot be before the latest update (%(date)s).",
                                 date=_format_date(latest.happened_on)))
        # Dates are given by the day: an update of the same day as the latest comes after it.
        happened_on = max(happened_on, latest.happened_on)
    image = None
    if upload:
        # Last, once everything else is known to be right: a refused update stores no photo.
        processed = process_uploads([upload], formats=PHOTO_FORMATS, max_mb=PHOTO_MAX_MB)[0]
        image = store_image(processed, actor)
    update = FollowUpUpdate(happened_on=happened_on, stage=stage, progress=progress, text=text,
                            text_en=english(text_en), image=image,
                            image_alt=image_alt if image is not None else "", author_id=actor.id,
                            created_at=now)
    previous_stage = follow_up.stage
    follow_up.updates.insert(0, update)
    follow_up.stage, follow_up.progress, follow_up.updated_at = stage, progress, happened_on
    db.session.flush()
    record(actor, "follow_up.update", "follow_up", follow_up.id, entry_id=follow_up.entry_id, stage=stage.value,
           progress=progress, photo=image is not None)
    if stage is not previous_stage:
        _timeline_event(actor, follow_up, happened_on)
        notify_backers(follow_up)
    return update


def place_built(actor: User, follow_up: FollowUp, *, lat: float | None, lng: float | None, address: str) -> bool:
    """Say where the built object stands (a point, an address, or either); whether anything changed."""
    _check_staff(actor, follow_up.call)
    check_point(lat, lng)
    address = ADDRESS.check(address or "")
    before = {"lat": follow_up.lat, "lng": follow_up.lng, "address": follow_up.address}
    if before == {"lat": lat, "lng": lng, "address": address}:
        return False
    follow_up.lat, follow_up.lng, follow_up.address = lat, lng, address
    db.session.flush()
    record(actor, "follow_up.place", "follow_up", follow_up.id, entry_id=follow_up.entry_id, before=before)
    return True


def _format_date(value: datetime) -> str:
    from flask_babel import format_date

    return format_date(value, "medium")


def _timeline_event(actor: User, follow_up: FollowUp, at: datetime) -> None:
    entry = follow_up.entry
    db.session.add(CallEvent(call_id=follow_up.call_id, at=at, kind="follow_up", actor_id=actor.id,
                             detail={"entry": entry.title, "entry_id": entry.id, "stage": follow_up.stage.value}))


def backers(entry: Entry) -> list[User]:
    """The entrant and every citizen who backed the entry in a public round of its call (a vote, or a pair won),
    ballots voided by the organisers excepted; each once, in one query."""
    in_public_round = select(Round.id).where(Round.call_id == entry.call_id, Round.kind == RoundKind.PUBLIC)
    voters = select(Vote.user_id).where(Vote.entry_id == entry.id, Vote.voided_at.is_(None),
                                        Vote.round_id.in_(in_public_round))
    pickers = select(Comparison.user_id).where(Comparison.winner_id == entry.id, Comparison.voided_at.is_(None),
                                               Comparison.round_id.in_(in_public_round))
    return list(db.session.scalars(
        select(User).where(or_(User.id == entry.author_id, User.id.in_(voters), User.id.in_(pickers)),
                           User.disabled_at.is_(None))
        .order_by(User.id)))


def notify_backers(follow_up: FollowUp) -> int:
    """Tell the entrant and the entry's backers, each in their own language, where the entry has got to."""
    entry = follow_up.entry
    url = external_url("followup.call", call_id=follow_up.call_id, _anchor=f"entry-{entry.id}")
    people = backers(entry)
    send_once_each([(user, entry) for user in people], "follow_up_stage", kind=MailKind.FOLLOW_UP, entry=entry,
                   call=follow_up.call, stage=follow_up.stage, progress=follow_up.progress, url=url,
                   per_person=following.unfollow_links(follow_up.call, people))
    following.tell_follow_up_stage(follow_up.call, entry, follow_up.stage, already_told=people)
    return len(people)


# What the pages show --------------------------------------------------------------------------------

def _with_pictures(stmt):
    """A follow-up as the pages show it: its entry's cover, its updates and their photos, a query each."""
    return stmt.options(
        selectinload(FollowUp.entry).load_only(Entry.id, Entry.title, Entry.call_id, Entry.status)
        .selectinload(Entry.pictures).joinedload(EntryImage.image).lazyload(Image.files),
        selectinload(FollowUp.updates).joinedload(FollowUpUpdate.image).lazyload(Image.files),
    )


def follow_ups_of(call: Call) -> list[FollowUp]:
    """A call's adopted entries, the most recently updated first."""
    return list(db.session.scalars(_with_pictures(
        select(FollowUp).where(FollowUp.call_id == call.id).order_by(FollowUp.updated_at.desc(), FollowUp.id.desc()))))


def all_follow_ups() -> list[tuple[Call, list[FollowUp]]]:
    """Every published call's adopted entries, grouped by call: the call with the latest news first."""
    rows = db.session.scalars(_with_pictures(
        select(FollowUp).join(Call, Call.id == FollowUp.call_id).where(Call.published_at.is_not(None))
        .options(joinedload(FollowUp.call).load_only(Call.id, Call.title, Call.title_en))
        .order_by(FollowUp.updated_at.desc(), FollowUp.id.desc())))
    groups: dict[int, tuple[Call, list[FollowUp]]] = {}
    for follow_up in rows:
        groups.setdefault(follow_up.call_id, (follow_up.call, []))[1].append(follow_up)
    return list(groups.values())


def count_of(call: Call) -> int:
    return db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.call_id == call.id))


FOLLOW_UPS_PAGE = 20  # adopted entries, each with its update form, on one page of the organisers' follow-up


def page_of_follow_ups(call: Call, after: int | None = None,
                       per_page: int = FOLLOW_UPS_PAGE) -> tuple[list[FollowUp], int | None]:
    """One page of a call's adopted entries, the most recently updated first, after the follow-up `after` (a seek
    on (updated, id), never a deep OFFSET), and the follow-up the next page comes after (None: the last page)."""
    stmt = select(FollowUp).where(FollowUp.call_id == call.id)
    if after is not None:
        at = select(FollowUp.updated_at).where(FollowUp.id == after).scalar_subquery()
        stmt = stmt.where(or_(FollowUp.updated_at < at, and_(FollowUp.updated_at == at, FollowUp.id < after)))
    rows = list(db.session.scalars(_with_pictures(
        stmt.order_by(FollowUp.updated_at.desc(), FollowUp.id.desc()).limit(per_page + 1))))
    return rows[:per_page], (rows[per_page - 1].id if len(rows) > per_page else None)


def awarded_not_adopted(call: Call) -> list[Entry]:
    """The call's approved entries holding an award and not adopted yet, in the order of the prizes: those an
    organiser adopts first, proposed by name; any other is adopted by its number."""
    return list(db.session.scalars(
        select(Entry).join(Award, Award.entry_id == Entry.id).join(Prize, Prize.id == Award.prize_id)
        .where(Award.call_id == call.id, Entry.status == EntryStatus.APPROVED,
               Entry.id.not_in(select(FollowUp.entry_id).where(FollowUp.call_id == call.id)))
        .options(load_only(Entry.id, Entry.title)).order_by(Prize.position, Entry.id)))


def public_follow_ups(call_id: int | None = None, *options) -> Select:
    """The statement of the follow-ups everyone may see, of one call or all, the latest changed first."""
    stmt = (select(FollowUp).join(Entry, Entry.id == FollowUp.entry_id).where(*public_entries(merged=True))
            .options(*options).order_by(FollowUp.updated_at.desc(), FollowUp.id.desc()))
    return stmt.where(FollowUp.call_id == call_id) if call_id is not None else stmt
