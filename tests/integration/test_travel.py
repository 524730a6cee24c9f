"""A call that travels: the sharing card of each kind of public page (OpenGraph), its calendars (.ics), the Atom
feed of news, sitemap.xml and robots.txt, all with the site's configured address and nothing unpublished."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import feedparser
import pytest
from icalendar import Calendar

from contest.extensions import db
from contest.models import FollowUpStage, MeetingKind
from contest.models.types import utcnow
from contest.services import followup as followup_service
from contest.services.meetings import MeetingData, create_meeting
from tests.helpers import (
    SITE,
    adopted_entry,
    approved_entries,
    log_in,
    make_call,
    make_round,
    picture_bytes,
    post_form,
    submit_design,
)


@pytest.fixture(autouse=True)
def site(app):
    """The site's configured address, which every link here names (the requests come to http://localhost)."""
    app.config["BASE_URL"] = SITE


def meta(html: str) -> dict[str, str]:
    """The page's <meta property|name=... content=...> tags, by property or name."""
    found = {}
    for match in re.finditer(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html):
        found[match.group(1)] = unescape(match.group(2))
    return found


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_a_call_and_an_entry_carry_their_card_with_an_absolute_derived_image(client, app, transport_commission):
    call = make_call(transport_commission, summary="为城市道路栏杆设计新图案，" * 30)
    entry = approved_entries(call, 1)[0]
    tags = meta(page(client, f"/calls/{call.id}"))
    assert tags["og:title"] == call.title and tags["og:url"] == f"{SITE}/calls/{call.id}"
    assert tags["og:description"].startswith("为城市道路栏杆设计新图案") and len(tags["og:description"]) <= 200
    assert tags["description"] == tags["og:description"] and "og:image" not in tags  # the call has no cover
    tags = meta(page(client, f"/entries/{entry.id}"))
    assert tags["og:title"] == entry.title and tags["og:type"] == "article"
    assert tags["og:image"] == f"{SITE}/media/{entry.images[0].image_id}/page"  # a derived size, never the original
    assert client.get(tags["og:image"].removeprefix(SITE)).status_code == 200  # which anyone may fetch
    assert tags["twitter:card"] == "summary_large_image"
    client.get("/lang/en")
    english = meta(page(client, f"/calls/{call.id}"))
    assert english["og:locale"] == "en_GB" and english["og:site_name"] == "People's City Design Calls"


def test_an_unmoderated_entry_shows_its_author_no_picture_in_its_card(client, app, citizen, transport_commission):
    call = make_call(transport_commission)
    log_in(client, citizen.email)
    submit_design(client, call, title="待审栏杆")
    from sqlalchemy import select

    from contest.models import Entry

    entry = db.session.scalar(select(Entry).where(Entry.title == "待审栏杆"))
    tags = meta(page(client, f"/entries/{entry.id}"))  # the author sees their own entry awaiting moderation
    assert tags["og:title"] == "待审栏杆" and "og:image" not in tags  # what a crawler could never fetch


def test_the_results_card_shows_the_first_winner(client, app, story, transport_organiser):  # noqa: F811
    call = story["call"]
    log_in(client, transport_organiser.email)
    post_form(client, f"/console/calls/{call.id}/results/publish", {"notice_days": 5, "top_n": ""},
              page=f"/console/calls/{call.id}/results")
    tags = meta(page(app.test_client(), f"/calls/{call.id}/results"))
    winner = story["entries"][0]  # the first prize (test_results: A has the best rank)
    assert tags["og:image"] == f"{SITE}/media/{winner.images[0].image_id}/page"
    assert tags["og:url"] == f"{SITE}/calls/{call.id}/results" and call.title in tags["og:title"]
    db.session.refresh(call)
    calendar = Calendar.from_ical(page_bytes(client, f"/calls/{call.id}/calendar.ics"))
    notice = next(e for e in calendar.walk("VEVENT") if str(e["uid"]).startswith(f"call-{call.id}-notice@"))
    assert notice.decoded("dtend") == call.notice_ends_at.replace(microsecond=0)
    assert str(notice["url"]) == f"{SITE}/calls/{call.id}/results"


def test_the_follow_up_card_shows_the_latest_photo(client, app, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    follow_up = adopted_entry(call, transport_organiser)
    with app.test_request_context():
        update = followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.BUILDING,
                                             progress=60, text="施工中。", happened_on=utcnow(),
                                             upload=picture_bytes(9), image_alt="施工现场")
    db.session.commit()
    tags = meta(page(client, f"/calls/{call.id}/follow-up"))
    assert tags["og:image"] == f"{SITE}/media/{update.image_id}/page" and tags["og:image:alt"] == "施工现场"


def test_a_calls_calendar_holds_its_dates_in_shanghai_time(client, app, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    round_ = make_round(call, transport_organiser)
    with app.test_request_context():
        meeting = create_meeting(transport_organiser, call, MeetingData(
            held_at=utcnow() + timedelta(days=3), title="田林街道长桌会", kind=MeetingKind.LONG_TABLE,
            venue="田林街道社区中心"))
    db.session.commit()
    response = client.get(f"/calls/{call.id}/calendar.ics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.data)
    events = {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"call-{call.id}-entries", f"round-{round_.id}", f"meeting-{meeting.id}"}
    entries = events[f"call-{call.id}-entries"]
    starts, ends = entries.decoded("dtstart"), entries.decoded("dtend")
    assert str(entries["dtstart"].params["TZID"]) == "Asia/Shanghai" and starts.utcoffset() == timedelta(hours=8)
    assert starts == call.opens_at.replace(microsecond=0) and ends == call.closes_at.replace(microsecond=0)
    assert str(entries["url"]) == f"{SITE}/calls/{call.id}"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]  # readers need no zone database
    assert events[f"round-{round_.id}"].decoded("dtstart") == round_.opens_at.replace(microsecond=0)
    assert str(events[f"meeting-{meeting.id}"]["location"]) == "田林街道社区中心"
    one = Calendar.from_ical(page_bytes(client, f"/meetings/{meeting.id}/calendar.ics"))
    assert [str(e["summary"]) for e in one.walk("VEVENT")] == [f"田林街道长桌会 · {call.title}"]


def page_bytes(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.data


def test_a_draft_has_no_calendar_and_the_site_calendar_holds_only_published_calls(
        client, app, transport_commission, transport_organiser):
    published = make_call(transport_commission, title="公开的征集")
    draft = make_call(transport_commission, title="草稿征集", state="draft")
    log_in(client, transport_organiser.email)  # even its staff: a draft's dates are not yet for sharing
    assert client.get(f"/calls/{draft.id}/calendar.ics").status_code == 404
    assert client.get("/calls/99999/calendar.ics").status_code == 404
    calendar = Calendar.from_ical(page_bytes(app.test_client(), "/calendar.ics"))
    summaries = " ".join(str(e["summary"]) for e in calendar.walk("VEVENT"))
    assert published.title in summaries and draft.title not in summaries


def test_the_atom_feed_lists_published_news_only(client, app, transport_commission, transport_organiser):
    older = make_call(transport_commission, title="早先的征集")
    older.published_at = utcnow() - timedelta(days=10)
    newer = make_call(transport_commission, title="新的征集")
    draft = make_call(transport_commission, title="尚未发布", state="draft")
    follow_up = adopted_entry(older, transport_organiser)
    with app.test_request_context():
        followup_service.add_update(transport_organiser, follow_up, stage=FollowUpStage.BUILDING, progress=50,
                                    text="开工了。", happened_on=utcnow())
    db.session.commit()
    response = client.get("/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    titles = [e.title for e in feed.entries]
    assert any(newer.title in t for t in titles) and any(older.title in t for t in titles)
    assert not any(draft.title in t for t in titles)
    assert any(follow_up.entry.title in t for t in titles)
    assert all(e.link.startswith(SITE + "/") for e in feed.entries)
    assert len({e.id for e in feed.entries}) == len(feed.entries)
    assert feed.entries == sorted(feed.entries, key=lambda e: e.updated_parsed, reverse=True)
    assert 'type="application/atom+xml" href="/feed.atom"' in page(client, "/")  # every page names the feed


def test_the_sitemap_lists_public_pages_and_robots_names_it(client, app, transport_commission):
    published = make_call(transport_commission)
    draft = make_call(transport_commission, state="draft")
    body = page_bytes(client, "/sitemap.xml").decode()
    locations = re.findall(r"<loc>([^<]+)</loc>", body)
    assert f"{SITE}/calls/{published.id}" in locations and f"{SITE}/calls/{published.id}/entries" in locations
    assert not any(f"/calls/{draft.id}" in loc for loc in locations)
    assert f"{SITE}/calls/{published.id}/results" not in locations  # none published yet
    robots = page_bytes(client, "/robots.txt").decode()
    assert f"Sitemap: {SITE}/sitemap.xml" in robots and "Disallow: /console/" in robots
    assert "Disallow: /account/" in robots
