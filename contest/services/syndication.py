"""How a call travels beyond the site: the card a shared link shows (OpenGraph), the calendars of its dates
(iCalendar), the feed of its news (Atom) and the list of its public pages for search engines (sitemap).

Everything here is public: a card, a calendar, a feed item or a sitemap line names only what an anonymous visitor
may see (published calls, public entries, their derived image sizes), never an author during a blind round, and
every address is built from the site's configured address (contest.links), never from the request."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from contest.extensions import db
from contest.links import external_url
from contest.localtime import site_zone
from contest.models import Call, Entry, FollowUp, FollowUpUpdate, Meeting
from contest.models.types import utcnow
from contest.services.visibility import is_public

SHARE_SIZE = "page"  # the derived size a shared card shows (1200 px wide at most): never the original
DESCRIPTION_LENGTH = 200
FEED_LENGTH = 50


@dataclass(frozen=True)
class ShareCard:
    """What a page says of itself to a service that shows a shared link (OpenGraph, meta description)."""

    title: str
    description: str
    url: str
    image_url: str | None = None
    image_alt: str = ""
    kind: str = "website"  # og:type


def _title(thing) -> str:
    """A call's, round's or meeting's title in the reader's language (the Chinese one when there is no English)."""
    return thing.local("title").text


def _summary(call) -> str:
    return call.local("summary").text


def clip(text: str, length: int = DESCRIPTION_LENGTH) -> str:
    """A text as one line of at most `length` characters, cut with an ellipsis (Chinese has no spaces to cut at)."""
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= length else flat[:length - 1].rstrip() + "…"


def _image_url(image_id: int | None) -> str | None:
    return external_url("media.image", image_id=image_id, name=SHARE_SIZE) if image_id else None


def _cover(call: Call) -> tuple[str | None, str]:
    """A published call's cover, which the public may see in its derived sizes."""
    if call.published_at is None or call.cover_image_id is None:
        return None, ""
    return _image_url(call.cover_image_id), call.cover_alt or _title(call)


def _entry_picture(entry: Entry) -> tuple[str | None, str]:
    """A public entry's first picture that is not a paper scan (scans are never public)."""
    if not is_public(entry):
        return None, ""
    for picture in entry.pictures:
        if not picture.is_scan:
            return _image_url(picture.image_id), picture.alt_text or entry.title
    return None, ""


def call_card(call: Call) -> ShareCard:
    image, alt = _cover(call)
    return ShareCard(_title(call), clip(_summary(call) or _title(call)), external_url("public.call", call_id=call.id),
                     image, alt)


def entry_card(entry: Entry) -> ShareCard:
    image, alt = _entry_picture(entry)
    if image is None:
        image, alt = _cover(entry.call)
    return ShareCard(entry.title, clip(entry.description or _title(entry.call)),
                     external_url("public.entry", entry_id=entry.id), image, alt, "article")


def results_card(call: Call, winners: list[Entry]) -> ShareCard:
    """The results: the first awarded entry's picture, else the call's cover."""
    image, alt = None, ""
    for winner in winners:
        image, alt = _entry_picture(winner)
        if image:
            break
    if image is None:
        image, alt = _cover(call)
    return ShareCard(_("Results: %(title)s", title=_title(call)), clip(_summary(call) or _title(call)),
                     external_url("public.results", call_id=call.id), image, alt, "article")


def follow_up_card(call: Call, follow_ups: list[FollowUp]) -> ShareCard:
    """The follow-up: the latest photo of a built (or being built) winner, else the call's cover."""
    photos = [u for f in follow_ups for u in f.updates if u.image_id]
    image, alt = None, ""
    if photos:
        latest = max(photos, key=lambda u: (u.happened_on, u.id))
        image, alt = _image_url(latest.image_id), latest.image_alt or _title(call)
    else:
        image, alt = _cover(call)
    return ShareCard(_("From design to street: %(title)s", title=_title(call)), clip(_summary(call) or _title(call)),
                     external_url("followup.call", call_id=call.id), image, alt, "article")


# Calendars ----------------------------------------------------------------------------------------------

def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//People's City Design Calls//contest//")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", site_zone().key)
    return calendar


def _event(uid: str, summary: str, starts: datetime, ends: datetime | None, url: str, description: str = "",
           location: str = "") -> Event:
    event = Event()
    event.add("uid", f"{uid}@{urlsplit(current_app.config['BASE_URL']).hostname}")
    event.add("dtstamp", utcnow())
    event.add("summary", summary)
    zone = site_zone()
    event.add("dtstart", starts.astimezone(zone))  # with TZID=Asia/Shanghai (the site's zone) and its VTIMEZONE
    if ends is not None and ends > starts:
        event.add("dtend", ends.astimezone(zone))
    event.add("url", url)
    if description:
        event.add("description", description)
    if location:
        event.add("location", location)
    return event


def _call_events(call: Call, meetings: list[Meeting]) -> list[Event]:
    """A published call's dates: taking entries, each round (a round closed early closes then), the notice period
    of its results, its meetings."""
    url = external_url("public.call", call_id=call.id)
    events = [_event(f"call-{call.id}-entries", _("Entries to “%(title)s”", title=_title(call)), call.opens_at,
                     call.closes_at, url, clip(_summary(call), 500))]
    for round_ in call.rounds:
        events.append(_event(f"round-{round_.id}", f"{_title(round_)} · {_title(call)}", round_.opens_at,
                             round_.closes_at, url))
    if call.results_published_at is not None and call.notice_ends_at is not None:
        notice = _("Notice period of the results of “%(title)s”", title=_title(call))
        events.append(_event(f"call-{call.id}-notice", notice, call.results_published_at, call.notice_ends_at,
                             external_url("public.results", call_id=call.id)))
    events += [_meeting_event(meeting) for meeting in meetings]
    return events


def _meeting_event(meeting: Meeting) -> Event:
    place = ", ".join(part for part in (meeting.venue, meeting.place.name if meeting.place else "") if part)
    return _event(f"meeting-{meeting.id}", f"{_title(meeting)} · {_title(meeting.call)}", meeting.held_at, None,
                  external_url("meetings.meeting", meeting_id=meeting.id), location=place)


def _meetings_of(call_ids: list[int]) -> dict[int, list[Meeting]]:
    """The calls' meetings, each call's in the order they are held: one query for any number of calls."""
    by_call: dict[int, list[Meeting]] = {call_id: [] for call_id in call_ids}
    for meeting in db.session.scalars(select(Meeting).where(Meeting.call_id.in_(call_ids))
                                      .options(joinedload(Meeting.place), joinedload(Meeting.call))
                                      .order_by(Meeting.held_at, Meeting.id)):
        by_call[meeting.call_id].append(meeting)
    return by_call


def _ics(calendar: Calendar) -> bytes:
    calendar.add_missing_timezones()
    return calendar.to_ical()


def call_calendar(call: Call) -> bytes:
    calendar = _calendar(_title(call))
    for event in _call_events(call, _meetings_of([call.id])[call.id]):
        calendar.add_component(event)
    return _ics(calendar)


def meeting_calendar(meeting: Meeting) -> bytes:
    calendar = _calendar(_title(meeting))
    calendar.add_component(_meeting_event(meeting))
    return _ics(calendar)


def all_calls_calendar() -> bytes:
    """Every published call's dates in one calendar (a feed a visitor can subscribe to)."""
    calendar = _calendar(_("People's City Design Calls"))
    calls = db.session.scalars(select(Call).where(Call.published_at.is_not(None))
                               .options(selectinload(Call.rounds)).order_by(Call.opens_at.desc(), Call.id.desc())).all()
    meetings = _meetings_of([call.id for call in calls])
    for call in calls:
        for event in _call_events(call, meetings[call.id]):
            calendar.add_component(event)
    return _ics(calendar)


# The feed and the sitemap -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedItem:
    uid: str
    title: str
    url: str
    at: datetime
    summary: str


def feed_items(limit: int = FEED_LENGTH) -> list[FeedItem]:
    """The newest news of the published calls, newest first: a call published, its results published or made
    final, a follow-up update. A bounded query of each kind, whatever the number of calls."""
    published = Call.published_at.is_not(None)
    items: list[FeedItem] = []
    for call in db.session.scalars(select(Call).where(published).order_by(Call.published_at.desc()).limit(limit)):
        items.append(FeedItem(f"call-{call.id}", _("New call: %(title)s", title=_title(call)),
                              external_url("public.call", call_id=call.id), call.published_at,
                              clip(_summary(call), 500)))
    for call in db.session.scalars(select(Call).where(published, Call.results_published_at.is_not(None))
                                   .order_by(Call.results_published_at.desc()).limit(limit)):
        url = external_url("public.results", call_id=call.id)
        items.append(FeedItem(f"results-{call.id}", _("Results published: %(title)s", title=_title(call)), url,
                              call.results_published_at, clip(_summary(call), 500)))
        if call.results_final_at is not None:
            items.append(FeedItem(f"final-{call.id}", _("Results final: %(title)s", title=_title(call)), url,
                                  call.results_final_at, clip(_summary(call), 500)))
    updates = db.session.scalars(
        select(FollowUpUpdate).join(FollowUp, FollowUp.id == FollowUpUpdate.follow_up_id)
        .join(Call, Call.id == FollowUp.call_id).where(published)
        .options(joinedload(FollowUpUpdate.follow_up).joinedload(FollowUp.entry).load_only(Entry.id, Entry.title),
                 joinedload(FollowUpUpdate.follow_up).joinedload(FollowUp.call).load_only(Call.id, Call.title,
                                                                                           Call.title_en))
        .order_by(FollowUpUpdate.happened_on.desc(), FollowUpUpdate.id.desc()).limit(limit))
    for update in updates:
        follow_up = update.follow_up
        items.append(FeedItem(f"follow-up-{update.id}",
                              _("“%(entry)s” (%(call)s): %(stage)s", entry=follow_up.entry.title,
                                call=_title(follow_up.call), stage=update.stage.label),
                              external_url("followup.call", call_id=follow_up.call_id), update.happened_on,
                              clip(update.text, 500)))
    return sorted(items, key=lambda item: item.at, reverse=True)[:limit]


@dataclass(frozen=True)
class SitemapLine:
    url: str
    modified: datetime | None = None


def sitemap_lines() -> list[SitemapLine]:
    """The site's public pages: the site's own, and each published call's page, gallery, results (once
    published), follow-up (once a winner is followed) and meetings. Entries are reached from the galleries."""
    lines = [SitemapLine(external_url(endpoint)) for endpoint in
             ("public.index", "public.calls", "followup.index", "statistics.index")]
    followed = set(db.session.scalars(select(FollowUp.call_id).distinct()))
    meetings: dict[int, list[int]] = {}
    for call_id, meeting_id in db.session.execute(select(Meeting.call_id, Meeting.id).order_by(Meeting.id)):
        meetings.setdefault(call_id, []).append(meeting_id)
    latest = func.coalesce(Call.results_final_at, Call.results_published_at, Call.published_at)
    for call in db.session.scalars(select(Call).where(Call.published_at.is_not(None)).order_by(latest.desc())):
        modified = max(d for d in (call.published_at, call.results_published_at, call.results_final_at) if d)
        lines.append(SitemapLine(external_url("public.call", call_id=call.id), modified))
        lines.append(SitemapLine(external_url("public.gallery", call_id=call.id)))
        if call.results_published_at is not None:
            lines.append(SitemapLine(external_url("public.results", call_id=call.id), modified))
        if call.id in followed:
            lines.append(SitemapLine(external_url("followup.call", call_id=call.id)))
        lines += [SitemapLine(external_url("meetings.meeting", meeting_id=m)) for m in meetings.get(call.id, [])]
    return lines
