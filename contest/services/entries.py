"""Entries: submitting, editing and withdrawing them, entering them on someone's behalf, moderating them."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from contest import database
from contest.extensions import db
from contest.geo import geohash
from contest.images import NEAR_DUPLICATE_DISTANCE, dhash_distance
from contest.links import external_url
from contest.mail import send_mail, send_once_each
from contest.models import (
    STAFF_CHANNELS,
    Call,
    CallKind,
    CallState,
    Channel,
    Department,
    DuplicateFlag,
    Entry,
    EntryCount,
    EntryImage,
    EntryStatus,
    Image,
    MailKind,
    Meeting,
    Poster,
    Topic,
    User,
)
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError, following, pending_uploads
from contest.services.audit import record
from contest.services.departments import check_point, is_place, place_at
from contest.services.media import delete_images, process_uploads, store_image
from contest.services.visibility import is_public
from contest.text import ADDRESS, DESCRIPTION, PICTURE_DESCRIPTION, TITLE, display_name


@dataclass
class Upload:
    """A picture sent with an entry: a file's bytes, or the token of a picture held since the form was refused
    (contest.services.pending_uploads); `slot` is the form's slot it came in."""

    data: bytes = b""
    alt_text: str = ""
    token: str = ""
    slot: int = 0


@dataclass
class EntryData:
    title: str
    description: str = ""
    topic_id: int | None = None
    place_id: int | None = None
    theme_id: int | None = None  # one of the call's themes, which the entry answers
    lat: float | None = None  # a WGS-84 point, given together with lng
    lng: float | None = None
    address: str = ""


def can_view_entry(user: User, entry: Entry) -> bool:
    """The public sees a public entry; its author and the call's staff see it whatever its state."""
    if is_public(entry):
        return True
    if not user.is_authenticated:
        return False
    return entry.author_id == user.id or can_manage_call(user, entry.call)


def check_open(call: Call) -> None:
    state = call.state
    if state is CallState.CLOSED:
        raise ServiceError(_("This call closed on %(date)s: entries can no longer be sent or changed.",
                             date=_format_date(call.closes_at)))
    if state is not CallState.OPEN:
        raise ServiceError(_("This call is not open for entries yet."))


def _format_date(value) -> str:
    from contest.localtime import format_moment

    return format_moment(value)


def check_can_enter(actor: User, call: Call) -> None:
    check_open(call)
    if not actor.is_confirmed:
        raise ServiceError(_("Please confirm your e-mail address before sending an entry: we will write to you "
                             "about it."))


def _check_data(call: Call, data: EntryData) -> EntryData:
    """The entry's data as it will be stored (its text checked against its limits, never cut), or a refusal."""
    data = replace(data, title=TITLE.check(data.title), description=DESCRIPTION.check(data.description))
    if not data.title:
        raise ServiceError(_("Give your entry a title."))
    if call.kind is CallKind.IDEA:
        if not data.description.strip():
            raise ServiceError(_("Write your idea."))
        if data.topic_id is None or db.session.get(Topic, data.topic_id) is None or \
                db.session.get(Topic, data.topic_id).call_id != call.id:
            raise ServiceError(_("Choose the topic of your idea."))
    # Any call: an unknown place or another call's topic is refused here, not by a foreign key at the insert.
    if data.topic_id is not None and (db.session.get(Topic, data.topic_id) is None
                                      or db.session.get(Topic, data.topic_id).call_id != call.id):
        raise ServiceError(_("Choose the topic of your idea."))
    place = db.session.get(Department, data.place_id) if data.place_id is not None else None
    if data.place_id is not None and (place is None or not is_place(place)):
        raise ServiceError(_("Unknown place."))
    data = replace(data, address=ADDRESS.check(data.address))
    check_point(data.lat, data.lng)
    if data.lat is not None:
        derived = place_at(data.lat, data.lng, place)
        if derived is not None:  # the outlines know the point: its district wins over a choice elsewhere
            data = replace(data, place_id=derived.id)
    if data.theme_id is not None and data.theme_id not in {t.id for t in call.themes}:
        raise ServiceError(_("Choose one of this call's themes."))
    return data


def _location(data: EntryData) -> dict:
    """An entry's point, its cell and its address, from checked data."""
    cell = geohash(data.lat, data.lng) if data.lat is not None else None
    return {"lat": data.lat, "lng": data.lng, "cell": cell, "address": data.address}


def _check_image_count(call: Call, count: int) -> None:
    minimum = call.images_min if call.kind is CallKind.DESIGN else 0
    if count < minimum:
        raise ServiceError(_("This call asks for at least %(n)d images per entry.", n=minimum))
    if count > call.images_max:
        raise ServiceError(_("This call accepts at most %(n)d images per entry.", n=call.images_max))


def _check_alt_texts(uploads: list[Upload]) -> None:
    for number, upload in enumerate(uploads, start=1):
        upload.alt_text = PICTURE_DESCRIPTION.check(upload.alt_text)
        if not upload.alt_text:
            raise ServiceError(_("Image %(n)d: describe the image in a sentence for people who cannot see it.",
                                 n=number))


def _used_slots(call: Call, author: User) -> set[int]:
    return set(db.session.scalars(
        select(Entry.slot).where(Entry.call_id == call.id, Entry.author_id == author.id, Entry.slot.is_not(None))
    ))


def entries_sent(author: User, call: Call) -> int:
    """How many of the call's per-person entries the author holds now (a withdrawn one frees its place)."""
    return len(_used_slots(call, author))


def _free_slot(call: Call, author: User) -> int:
    used = _used_slots(call, author)
    free = [n for n in range(1, call.entries_per_person + 1) if n not in used]
    if not free:
        raise ServiceError(_("You have already sent %(n)d entries to this call, which is the most it accepts. "
                             "You can withdraw one to send another.", n=call.entries_per_person))
    return free[0]


def _add_with_slot(entry: Entry, call: Call, author: User | None) -> None:
    """Insert the entry holding a free slot of its author; two inserts racing for one slot: one retries."""
    for _attempt in range(3):
        if author is not None:
            entry.slot = _free_slot(call, author)
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
            return
        except IntegrityError:
            if entry in db.session:
                db.session.expunge(entry)
            if author is None:
                raise
        except OperationalError as error:
            if database.unreachable(error):
                raise
            # SQLite, where another submission wrote first since this one began: start again from the top.
            raise ServiceError(_("Another entry was being saved at the same moment. Please send yours "
                                 "again.")) from None
    raise ServiceError(_("You have already sent %(n)d entries to this call, which is the most it accepts. "
                         "You can withdraw one to send another.", n=call.entries_per_person))


def _process(actor: User | None, call: Call, uploads: list[Upload], first: int = 1) -> list:
    """Each upload ready to attach: a new file through the image pipeline, a held picture taken from its
    holding (once: a second use of its token is refused). Held pictures are only ever an entrant's own."""
    ready = []
    for number, upload in enumerate(uploads, start=first):
        if not upload.token:
            ready += process_uploads([upload.data], formats=call.image_formats, max_mb=call.image_max_mb,
                                     first=number)
        elif actor is None:
            raise ServiceError(_("Image %(n)d: choose the file.", n=number))
        else:
            ready.append(pending_uploads.take(actor, upload.token, number))
    return ready


def _attach_images(entry: Entry, uploads: list[Upload], processed, actor: User | None, is_scan: bool,
                   start: int = 0) -> list[Image]:
    """Attach the pictures in order: `processed` holds, for each upload, a processed file to store, or a held
    image (already stored)."""
    images = []
    for position, (upload, image_data) in enumerate(zip(uploads, processed, strict=True), start=start):
        image = image_data if isinstance(image_data, Image) else store_image(image_data, actor)
        entry.pictures.append(EntryImage(image=image, position=position, alt_text=upload.alt_text,
                                         is_scan=is_scan))
        images.append(image)
    return images


def submit_entry(actor: User, call: Call, data: EntryData, uploads: list[Upload], *, accepted_terms: bool,
                 channel: Channel = Channel.WEB, poster: Poster | None = None) -> Entry:
    """`poster`: the poster whose QR code the entrant arrived through; the entry then counts as sent through
    it (channel "poster"), whatever the device. Another call's poster is ignored."""
    if poster is not None and poster.call_id == call.id:
        channel = Channel.POSTER
    else:
        poster = None
    check_can_enter(actor, call)
    data = _check_data(call, data)
    _check_image_count(call, len(uploads))
    _check_alt_texts(uploads)
    if not accepted_terms:
        raise ServiceError(_("Accept the licence terms and the originality declaration to send your entry.")
                           if call.kind is CallKind.DESIGN else
                           _("Accept the licence terms and the declaration to send your suggestion."))
    _free_slot(call, actor)  # say so before the images are processed
    processed = _process(actor, call, uploads)
    entry = Entry(call=call, author=actor, channel=channel, title=data.title,
                  description=data.description, topic_id=data.topic_id, place_id=data.place_id,
                  theme_id=data.theme_id, **_location(data),
                  licence_accepted_at=utcnow(), poster_id=poster.id if poster is not None else None)
    _add_with_slot(entry, call, actor)
    images = _attach_images(entry, uploads, processed, actor, is_scan=False)
    db.session.flush()
    flag_near_duplicates(images)
    record(actor, "entry.submit", "entry", entry.id, call_id=call.id, images=len(images), channel=channel.value)
    following.follow_automatically(actor, call)
    send_mail(actor.email, actor.locale, "entry_received", kind=MailKind.RECEIVED, user=actor, entry=entry,
              url=external_url("submit.my_entries"))
    return entry


def hold_pictures(actor: User, call: Call, uploads: list[Upload], *, slots: int, entry: Entry | None = None,
                  prefix: str = "image", first: int = 1):
    """Hold the pictures of the actor's refused entry form (a new entry, or `entry` being changed) so that the
    form shows them again (contest.services.pending_uploads.hold, whose result this returns). Only the form's
    `slots` slots are held, and nothing for a new entry the actor may not send anyway (the per-person limit)."""
    uploads = [u for u in uploads if 1 <= u.slot <= slots]
    if not uploads or (entry is None and entries_sent(actor, call) >= call.entries_per_person):
        return {}, {}
    return pending_uploads.hold(actor, uploads, formats=call.image_formats, max_mb=call.image_max_mb,
                                prefix=prefix, first=first)


def _check_author_may_change(actor: User, entry: Entry) -> None:
    if entry.author_id != actor.id:
        raise ServiceError(_("Only the author of an entry can change it."))
    if entry.status is EntryStatus.WITHDRAWN:
        raise ServiceError(_("This entry has been withdrawn."))
    check_open(entry.call)


def edit_entry(actor: User, entry: Entry, data: EntryData, alt_texts: dict[int, str], remove_ids: set[int],
               new_uploads: list[Upload]) -> None:
    """Change an entry while the call is open; a changed approved or rejected entry goes back to moderation
    (a rejected one without its old reason, which was about what it was)."""
    _check_author_may_change(actor, entry)
    call = entry.call
    data = _check_data(call, data)
    kept = [p for p in entry.images if p.id not in remove_ids]
    _check_image_count(call, len(kept) + len(new_uploads))
    for picture in kept:
        alt = PICTURE_DESCRIPTION.check(alt_texts.get(picture.id, picture.alt_text))
        if not alt:
            raise ServiceError(_("Every image needs a description for people who cannot see it."))
        picture.alt_text = alt
    _check_alt_texts(new_uploads)
    processed = _process(actor, call, new_uploads, first=len(kept) + 1)
    removed = [picture for picture in entry.images if picture.id in remove_ids]
    for picture in removed:
        entry.pictures.remove(picture)
    delete_images([picture.image for picture in removed])
    for position, picture in enumerate(kept):
        picture.position = position
    images = _attach_images(entry, new_uploads, processed, actor, is_scan=False, start=len(kept))
    entry.title, entry.description = data.title, data.description
    entry.topic_id, entry.place_id, entry.theme_id = data.topic_id, data.place_id, data.theme_id
    for name, value in _location(data).items():
        setattr(entry, name, value)
    entry.updated_at = utcnow()
    if entry.status in (EntryStatus.APPROVED, EntryStatus.REJECTED):
        entry.status, entry.rejection_reason = EntryStatus.SUBMITTED, ""
    db.session.flush()
    flag_near_duplicates(images)
    record(actor, "entry.edit", "entry", entry.id)


def withdraw_entry(actor: User, entry: Entry) -> None:
    _check_author_may_change(actor, entry)
    entry.status = EntryStatus.WITHDRAWN
    entry.withdrawn_at = utcnow()
    entry.slot = None  # frees a place under the per-person limit
    # Withdrawn before the call closed (_check_author_may_change), so never judged or shown in results: its
    # images and their files go, or a loop of sending and withdrawing would fill the storage.
    images = [picture.image for picture in entry.pictures]
    entry.pictures.clear()
    delete_images(images)
    record(actor, "entry.withdraw", "entry", entry.id, images_deleted=len(images))


def staff_entry(actor: User, call: Call, *, channel: Channel, data: EntryData, uploads: list[Upload],
                scans: list[Upload], author: User | None = None, author_name: str = "",
                meeting: Meeting | None = None) -> Entry:
    """An entry sent on paper or raised at a meeting, typed in by the call's staff with a scan of the original.
    A suggestion raised at a recorded meeting is linked to it, and the meeting's minutes stand for the original."""
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))
    if channel not in STAFF_CHANNELS:
        raise ServiceError(_("Choose how the entry reached you."))
    if meeting is not None and (meeting.call_id != call.id or channel is not Channel.MEETING):
        raise ServiceError(_("This meeting is not a meeting of this call."))
    check_open(call)
    data = _check_data(call, data)
    _check_image_count(call, len(uploads))
    _check_alt_texts(uploads)
    if not scans and meeting is None:
        raise ServiceError(_("Add a scan or a photo of the original."))
    _check_alt_texts(scans)
    processed = process_uploads([u.data for u in uploads], formats=call.image_formats, max_mb=call.image_max_mb)
    processed_scans = process_uploads([u.data for u in scans], formats=("JPEG", "PNG", "WEBP"), max_mb=20)
    author_name = display_name(author_name, optional=True) if author is None else ""
    entry = Entry(call=call, author=author, author_name=author_name,
                  entered_by_id=actor.id, channel=channel, title=data.title,
                  description=data.description, topic_id=data.topic_id, place_id=data.place_id,
                  theme_id=data.theme_id, **_location(data),
                  status=EntryStatus.APPROVED, moderated_at=utcnow(), moderated_by_id=actor.id,
                  meeting_id=meeting.id if meeting is not None else None)
    _add_with_slot(entry, call, author)
    images = _attach_images(entry, uploads, processed, actor, is_scan=False)
    _attach_images(entry, scans, processed_scans, actor, is_scan=True)
    db.session.flush()
    flag_near_duplicates(images)
    record(actor, "entry.staff_enter", "entry", entry.id, channel=channel.value,
           meeting_id=meeting.id if meeting is not None else None)
    return entry


def moderate(actor: User, entries: list[Entry], approve: bool, reason: str = "") -> int:
    """Approve entries, or reject them with a reason the entrant sees; returns how many changed. Each entrant is
    told once, of all their entries in the batch."""
    if not approve and not reason.strip():
        raise ServiceError(_("Give the entrant a reason for the rejection."))
    changed, news = 0, []
    for entry in entries:
        if not can_manage_call(actor, entry.call):
            raise ServiceError(_("You do not run this call."))
        if entry.status is EntryStatus.WITHDRAWN:
            continue
        new_status = EntryStatus.APPROVED if approve else EntryStatus.REJECTED
        if entry.status is new_status:
            continue
        entry.status = new_status
        entry.rejection_reason = "" if approve else reason.strip()
        entry.moderated_at, entry.moderated_by_id = utcnow(), actor.id
        record(actor, "entry.approve" if approve else "entry.reject", "entry", entry.id, reason=reason.strip())
        if entry.author is not None:
            news.append((entry.author, entry))
        changed += 1
    # One mail per entrant for the whole batch, however many of their entries it holds.
    send_once_each(news, "entry_approved" if approve else "entry_rejected", kind=MailKind.MODERATED,
                   reason="" if approve else reason.strip(), url=external_url("submit.my_entries"))
    return changed


def flag_near_duplicates(images: list[Image]) -> list[DuplicateFlag]:
    """Flag each new image that looks like an image of another entry (any call) or of the same entry."""
    if not images:
        return []
    new_ids = {i.id for i in images}
    others = db.session.execute(
        select(Image.id, Image.dhash, Image.sha256)
        .join(EntryImage, EntryImage.image_id == Image.id).where(EntryImage.is_scan.is_(False))
    ).all()
    flags = []
    for image in images:
        for other_id, other_hash, other_sha in others:
            if other_id == image.id or (other_id in new_ids and other_id > image.id):
                continue
            distance = 0 if other_sha == image.sha256 else dhash_distance(image.dhash, other_hash)
            if distance <= NEAR_DUPLICATE_DISTANCE:
                flag = DuplicateFlag(image_id=image.id, other_image_id=other_id, distance=distance)
                db.session.add(flag)
                flags.append(flag)
    return flags


@dataclass
class DuplicateSide:
    """One image of a flagged pair, with its entry; `picture` is None when the viewer may not see that entry."""
    picture: EntryImage | None
    image: Image | None


@dataclass
class DuplicatePair:
    flag: DuplicateFlag
    first: DuplicateSide
    second: DuplicateSide


def _flags_of(call: Call):
    """The open near-duplicate flags that concern an image of this call's entries."""
    call_images = select(EntryImage.image_id).join(Entry, Entry.id == EntryImage.entry_id).where(
        Entry.call_id == call.id)
    return select(DuplicateFlag).where(DuplicateFlag.dismissed_at.is_(None), DuplicateFlag.image_id.in_(call_images))


def open_flag_count(call: Call) -> int:
    return db.session.scalar(select(func.count()).select_from(_flags_of(call).subquery()))


def duplicate_pairs(viewer: User, call: Call) -> list[DuplicatePair]:
    """The call's open flags as its staff see them: each side shows its entry (title, call, state, image) only
    when the viewer may see that entry (`can_view_entry`); the other side of a flag may be any call's entry."""
    if not can_manage_call(viewer, call):
        raise ServiceError(_("You do not run this call."))
    flags = db.session.scalars(_flags_of(call).order_by(DuplicateFlag.distance, DuplicateFlag.id)).all()
    image_ids = {f.image_id for f in flags} | {f.other_image_id for f in flags}
    pictures = {p.image_id: p for p in db.session.scalars(
        select(EntryImage).where(EntryImage.image_id.in_(image_ids))
        .options(selectinload(EntryImage.entry).selectinload(Entry.call)))}
    images = {i.id: i for i in db.session.scalars(select(Image).where(Image.id.in_(image_ids)))}
    seen: dict[int, bool] = {}

    def side(image_id: int) -> DuplicateSide:
        picture = pictures.get(image_id)
        if picture is None:
            return DuplicateSide(None, None)
        if picture.entry_id not in seen:
            seen[picture.entry_id] = can_view_entry(viewer, picture.entry)
        if not seen[picture.entry_id]:
            return DuplicateSide(None, None)
        return DuplicateSide(picture, images.get(image_id))

    return [DuplicatePair(f, side(f.image_id), side(f.other_image_id)) for f in flags]


def status_counts(call: Call) -> dict[str, int]:
    """How many entries of a call are in each status (status value -> count), from the counts kept by
    contest.services.counts."""
    return {status.value: int(n) for status, n in db.session.execute(
        select(EntryCount.status, func.sum(EntryCount.count)).where(EntryCount.call_id == call.id)
        .group_by(EntryCount.status)).all() if n}


def entries_of_call(call: Call, ids) -> list[Entry]:
    """The entries of a call among the ids given (ids of other calls are left out)."""
    return list(db.session.scalars(select(Entry).where(Entry.call_id == call.id, Entry.id.in_(ids))))


def entries_in_status(call: Call, status: EntryStatus) -> list[Entry]:
    """A call's entries in one status, for moderation: with pictures, author and topic."""
    return list(db.session.scalars(
        select(Entry).where(Entry.call_id == call.id, Entry.status == status)
        .options(selectinload(Entry.pictures).joinedload(EntryImage.image), selectinload(Entry.author),
                 selectinload(Entry.topic))
        .order_by(Entry.id)
    ))


def entries_by_ids(ids) -> list[Entry]:
    """The entries of the ids given, by id (none for no ids)."""
    return list(db.session.scalars(select(Entry).where(Entry.id.in_(ids)).order_by(Entry.id))) if ids else []


def entries_of_author(user: User) -> list[Entry]:
    """A person's own entries, newest first, with their call and pictures."""
    return list(db.session.scalars(
        select(Entry).where(Entry.author_id == user.id)
        .options(selectinload(Entry.call), selectinload(Entry.pictures).joinedload(EntryImage.image))
        .order_by(Entry.created_at.desc())
    ))


def entry_by_id(entry_id: int, *options) -> Entry | None:
    """The entry of an id with the loader options given, or None."""
    return db.session.scalar(select(Entry).where(Entry.id == entry_id).options(*options))


def entries_for_export(call: Call, *options) -> Iterator[Entry]:
    """Every entry of a call by id, with the loader options the export gives (many-to-one only), read in
    batches from a server-side cursor: constant memory at city size."""
    yield from db.session.scalars(select(Entry).where(Entry.call_id == call.id).order_by(Entry.id)
                                  .options(*options).execution_options(yield_per=1000))
