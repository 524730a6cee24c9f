"""Meetings of a call (long-table talks, panels, workshops): recording them, and the suggestions raised at them,
which are entries of channel "meeting" linked to the meeting."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from contest.extensions import db
from contest.i18n import english
from contest.models import Call, Channel, Department, Entry, EntryStatus, Meeting, MeetingKind, User
from contest.models.types import utcnow
from contest.permissions import can_manage_call
from contest.services import ServiceError
from contest.services.audit import record
from contest.services.departments import check_point, place_at
from contest.services.entries import EntryData, Upload, staff_entry
from contest.services.visibility import public_entries

TITLE_MAX, VENUE_MAX, MINUTES_MAX, ORGANISATIONS_MAX = 200, 200, 50000, 5000
ATTENDEES_MAX = 1_000_000


@dataclass
class MeetingData:
    title: str
    kind: MeetingKind
    held_at: datetime | None  # aware, UTC
    place_id: int | None = None
    venue: str = ""  # the room or address
    lat: float | None = None  # where it was held, WGS-84
    lng: float | None = None
    attendees: int | None = 0
    organisations: str = ""  # one a line
    minutes: str = ""  # Markdown
    title_en: str = ""  # the English twins, optional
    minutes_en: str = ""


def _check_staff(actor: User, call: Call) -> None:
    if not can_manage_call(actor, call):
        raise ServiceError(_("You do not run this call."))


def organisation_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _clean(data: MeetingData) -> dict:
    """The meeting's fields as they are stored, or a ServiceError naming what is wrong."""
    title = " ".join((data.title or "").split())
    if not title:
        raise ServiceError(_("Give the meeting a title."))
    if len(title) > TITLE_MAX:
        raise ServiceError(_("The title has at most %(n)d characters.", n=TITLE_MAX))
    if not isinstance(data.kind, MeetingKind):
        raise ServiceError(_("Choose the kind of meeting."))
    if data.held_at is None:
        raise ServiceError(_("Give the date and time of the meeting."))
    attendees = data.attendees
    if not isinstance(attendees, int) or isinstance(attendees, bool) or not 0 <= attendees <= ATTENDEES_MAX:
        raise ServiceError(_("Give the number of attendees as a whole number, 0 or more."))
    if data.place_id is not None and db.session.get(Department, data.place_id) is None:
        raise ServiceError(_("Unknown place."))
    venue = (data.venue or "").strip()
    if len(venue) > VENUE_MAX:
        raise ServiceError(_("The venue has at most %(n)d characters.", n=VENUE_MAX))
    check_point(data.lat, data.lng)
    place_id = data.place_id
    if data.lat is not None:  # the outlines know the point: its district wins over a choice elsewhere
        derived = place_at(data.lat, data.lng, db.session.get(Department, place_id) if place_id else None)
        place_id = derived.id if derived is not None else place_id
    organisations = "\n".join(organisation_lines(data.organisations))
    if len(organisations) > ORGANISATIONS_MAX:
        raise ServiceError(_("The list of organisations has at most %(n)d characters.", n=ORGANISATIONS_MAX))
    minutes = (data.minutes or "").strip()
    if len(minutes) > MINUTES_MAX:
        raise ServiceError(_("The minutes have at most %(n)d characters.", n=MINUTES_MAX))
    title_en = english(" ".join((data.title_en or "").split()))
    if title_en and len(title_en) > TITLE_MAX * 3 // 2:
        raise ServiceError(_("The English title has at most %(n)d characters.", n=TITLE_MAX * 3 // 2))
    minutes_en = english(data.minutes_en)
    if minutes_en and len(minutes_en) > MINUTES_MAX * 2:
        raise ServiceError(_("The English minutes have at most %(n)d characters.", n=MINUTES_MAX * 2))
    return {"title": title, "kind": data.kind, "held_at": data.held_at, "place_id": place_id, "venue": venue,
            "lat": data.lat, "lng": data.lng, "attendees": attendees, "organisations": organisations,
            "minutes": minutes, "title_en": title_en, "minutes_en": minutes_en}


def create_meeting(actor: User, call: Call, data: MeetingData) -> Meeting:
    _check_staff(actor, call)
    fields = _clean(data)
    meeting = Meeting(call=call, created_by_id=actor.id, created_at=utcnow(), **fields)
    db.session.add(meeting)
    db.session.flush()
    record(actor, "meeting.create", "meeting", meeting.id, call_id=call.id, title=meeting.title,
           kind=meeting.kind.value, held_at=meeting.held_at.isoformat())
    return meeting


def _logged(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, MeetingKind):
        return value.value
    return value


def update_meeting(actor: User, meeting: Meeting, data: MeetingData) -> list[str]:
    """Change a meeting; returns the names of the fields that changed (logged with their old values)."""
    _check_staff(actor, meeting.call)
    fields = _clean(data)
    changed = {name: _logged(getattr(meeting, name)) for name, value in fields.items()
               if getattr(meeting, name) != value}
    for name in changed:
        setattr(meeting, name, fields[name])
    if changed:
        db.session.flush()
        record(actor, "meeting.edit", "meeting", meeting.id, call_id=meeting.call_id, before=changed)
    return sorted(changed)


def add_suggestion(actor: User, meeting: Meeting, data: EntryData, *, author_name: str = "",
                   uploads: list[Upload] | None = None) -> Entry:
    """A suggestion raised at the meeting, entered by the call's staff as an entry of channel "meeting"."""
    _check_staff(actor, meeting.call)
    if meeting.held_at > utcnow():
        raise ServiceError(_("This meeting has not been held yet: suggestions can be added once it has."))
    return staff_entry(actor, meeting.call, channel=Channel.MEETING, data=data, uploads=uploads or [], scans=[],
                       author_name=author_name, meeting=meeting)


def _suggestion_count(public: bool):
    condition = [Entry.meeting_id == Meeting.id]
    if public:
        condition.extend(public_entries(merged=True))
    else:
        condition.append(Entry.status != EntryStatus.WITHDRAWN)
    return select(func.count(Entry.id)).where(*condition).correlate(Meeting).scalar_subquery()


def meetings_of(call: Call, *, public: bool = True) -> list[tuple[Meeting, int]]:
    """The call's meetings, latest first, each with its number of suggestions (approved ones for the public):
    one query."""
    rows = db.session.execute(
        select(Meeting, _suggestion_count(public).label("suggestions")).where(Meeting.call_id == call.id)
        .options(joinedload(Meeting.place)).order_by(Meeting.held_at.desc(), Meeting.id.desc())
    ).all()
    return [(meeting, count) for meeting, count in rows]


def suggestions_of(meeting: Meeting, *, public: bool = True) -> list[Entry]:
    """The suggestions raised at the meeting, in the order they were entered (approved ones for the public)."""
    stmt = (select(Entry).where(Entry.meeting_id == meeting.id)
            .options(joinedload(Entry.author), joinedload(Entry.topic), joinedload(Entry.place),
                     joinedload(Entry.merged_into))
            .order_by(Entry.id))
    if public:
        stmt = stmt.where(*public_entries(merged=True))
    return list(db.session.scalars(stmt).unique())


def meeting_by_id(meeting_id: int, *options) -> Meeting | None:
    """The meeting of an id, its call loaded (and what else the options ask), or None."""
    return db.session.scalar(select(Meeting).where(Meeting.id == meeting_id)
                             .options(joinedload(Meeting.call), *options))
