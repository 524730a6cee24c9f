"""Blind means blind: while a blind expert round of a call is undecided (its results not published), no public
page or API response of the call names an entry's author; once the results are published, the names are back."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import Entry, MeetingKind
from contest.models.types import utcnow
from contest.services import issues as issue_service
from contest.services import meetings as meeting_service
from contest.services import visibility  # noqa: F401  (the rule under test)
from contest.services.entries import EntryData
from tests.helpers import (
    approved_entries,
    log_in,
    make_call,
    make_juror,
    make_public_round,
    make_round,
    make_user,
    make_voter,
    post_form,
    zh,
)

SPEAKER = "王阿姨"  # who raised the suggestion at the meeting, as typed in by the staff


@pytest.fixture
def blind_call(app, transport_commission, transport_organiser):
    """A design call with three approved entries, a suggestion raised at a meeting (merged into the first entry),
    and an open blind expert round with one juror."""
    call = make_call(transport_commission, images_min=0)
    entries = approved_entries(call, 3)
    with app.test_request_context():
        meeting = meeting_service.create_meeting(transport_organiser, call, meeting_service.MeetingData(
            title="田林十二村长桌会", kind=MeetingKind.LONG_TABLE, held_at=utcnow() - timedelta(days=2)))
        suggestion = meeting_service.add_suggestion(transport_organiser, meeting,
                                                    EntryData(title="增加长椅", description="老人没有地方坐。"),
                                                    author_name=SPEAKER)
        issue_service.merge(transport_organiser, suggestion, entries[0], "同一个想法")
        db.session.commit()
    round_ = make_round(call, transport_organiser, k=1, blind=True)
    juror, _member = make_juror(round_, "juror@example.org", name="周教授")
    return {"call": call, "entries": entries, "meeting": meeting, "suggestion": suggestion, "round": round_,
            "juror": juror}


def decide(app, story, organiser) -> None:
    """The jurors get their entries, scoring closes, and the organiser advances every entry by hand."""
    from contest.models import AdvanceMode
    from contest.services import rounds as round_service

    round_ = story["round"]
    with app.test_request_context():
        round_service.assign(organiser, round_)
        round_.opens_at, round_.closes_at = utcnow() - timedelta(days=3), utcnow() - timedelta(days=2)
        round_service.decide(organiser, round_, AdvanceMode.HAND, None, {e.id for e in story["entries"]})
        db.session.commit()
    assert round_.decided_at is not None


def names(story) -> list[str]:
    return [e.author.display_name for e in story["entries"]] + [SPEAKER]


def log_in_as(client, story, who: str) -> None:
    if who == "juror":
        log_in(client, story["juror"].email)
    elif who == "citizen":
        log_in(client, make_user("someone@example.org", name="路人").email)


# Each public page of the call, with a text it must show (so an error page cannot pass for a blind one).
PAGES = {
    "entry": lambda s: (f"/entries/{s['entries'][0].id}", s["entries"][0].title),
    "entry with a merged suggestion": lambda s: (f"/entries/{s['entries'][0].id}", s["suggestion"].title),
    "merged suggestion": lambda s: (f"/entries/{s['suggestion'].id}", s["suggestion"].title),
    "gallery": lambda s: (f"/calls/{s['call'].id}/entries", s["entries"][1].title),
    "call": lambda s: (f"/calls/{s['call'].id}", s["call"].title),
    "meeting": lambda s: (f"/meetings/{s['meeting'].id}", s["suggestion"].title),
    "api entries": lambda s: (f"/api/v1/calls/{s['call'].id}/entries", s["entries"][1].title),
    "api entry": lambda s: (f"/api/v1/entries/{s['entries'][0].id}", s["entries"][0].title),
    "api call": lambda s: (f"/api/v1/calls/{s['call'].id}", s["call"].title),
}


@pytest.mark.parametrize("who", ["juror", "anonymous", "citizen"])
@pytest.mark.parametrize("page", list(PAGES))
def test_no_public_page_names_an_author_while_a_blind_round_is_undecided(client, blind_call, who, page):
    log_in_as(client, blind_call, who)
    url, expected = PAGES[page](blind_call)
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert expected in html or expected in str(response.get_json())
    for name in names(blind_call):
        assert name not in html, f"{name} named on {url}"
    for entry in blind_call["entries"]:
        assert entry.author.email not in html


def test_the_entry_page_says_the_author_is_hidden_and_its_head_names_nobody(client, blind_call):
    log_in(client, blind_call["juror"].email)
    entry = blind_call["entries"][0]
    html = client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert entry.title in html
    assert zh("The author is not shown until the results are published: the jury judges blind.") in html
    head = html.split("</head>")[0]
    assert entry.title in head and entry.author.display_name not in head  # the title and any share tags
    assert zh("Anonymous") not in html  # hidden is not anonymous


def test_the_results_are_not_public_before_publication(client, blind_call):
    log_in(client, blind_call["juror"].email)
    assert client.get(f"/calls/{blind_call['call'].id}/results").status_code == 404
    assert client.get(f"/api/v1/calls/{blind_call['call'].id}/results").status_code == 404


def test_the_names_wait_for_the_results_even_once_the_round_is_decided(client, app, blind_call,
                                                                         transport_organiser):
    decide(app, blind_call, transport_organiser)
    entry = blind_call["entries"][0]
    log_in(client, blind_call["juror"].email)
    response = client.get(f"/entries/{entry.id}")
    assert response.status_code == 200 and entry.title in response.get_data(as_text=True)
    assert entry.author.display_name not in response.get_data(as_text=True)


@pytest.mark.parametrize("mode", ["votes", "pairwise"])
def test_the_public_round_after_a_decided_blind_round_names_nobody(client, app, blind_call, transport_organiser,
                                                                    mode):
    decide(app, blind_call, transport_organiser)
    public = make_public_round(blind_call["call"], transport_organiser, mode=mode, age_hours=0)
    voter = make_voter("voter@example.org")
    pages = [f"/rounds/{public.id}"] + ([f"/rounds/{public.id}/compare"] if mode == "pairwise" else [])
    for who in (None, blind_call["juror"].email, voter.email):
        visitor = client.application.test_client()
        if who:
            log_in(visitor, who)
        for url in pages if who == voter.email else pages[:1]:
            response = visitor.get(url)
            html = response.get_data(as_text=True)
            assert response.status_code == 200, html
            assert any(e.title in html for e in blind_call["entries"])
            for name in names(blind_call):
                assert name not in html, f"{name} named on {url}"


def test_after_publication_the_authors_are_shown_again(client, blind_call, transport_organiser):
    call, round_ = blind_call["call"], blind_call["round"]
    call.closes_at = utcnow() - timedelta(days=4)
    round_.opens_at, round_.closes_at = utcnow() - timedelta(days=3), utcnow() - timedelta(days=2)
    db.session.commit()
    staff = client.application.test_client()
    log_in(staff, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    response = post_form(staff, f"{page}/publish", {"notice_days": 7, "top_n": ""}, page=page)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(call)
    assert call.results_published_at is not None

    log_in(client, blind_call["juror"].email)
    first = blind_call["entries"][0]
    html = client.get(f"/entries/{first.id}").get_data(as_text=True)
    assert first.title in html and first.author.display_name in html and SPEAKER in html  # merged one too
    assert SPEAKER in client.get(f"/meetings/{blind_call['meeting'].id}").get_data(as_text=True)
    assert first.title in client.get(f"/calls/{call.id}/results").get_data(as_text=True)


def test_a_round_that_is_not_blind_hides_nobody(client, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    entry = approved_entries(call, 1)[0]
    make_round(call, transport_organiser, blind=False)
    response = client.get(f"/entries/{entry.id}")
    assert response.status_code == 200 and entry.author.display_name in response.get_data(as_text=True)


def test_the_call_staff_still_see_the_author(client, blind_call, transport_organiser):
    log_in(client, transport_organiser.email)
    entry = blind_call["entries"][0]
    html = client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert entry.title in html
    staff_panel = html.split('id="staff-heading"')[1]
    assert entry.author.display_name in staff_panel and entry.author.email in staff_panel
    moderation = client.get(f"/console/calls/{blind_call['call'].id}/moderation?status=approved")
    assert moderation.status_code == 200 and entry.author.display_name in moderation.get_data(as_text=True)


def test_an_upcoming_blind_round_already_hides_the_authors(app, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    approved_entries(call, 1)
    assert not visibility.authors_hidden(call)
    make_round(call, transport_organiser, state="upcoming", blind=True)
    db.session.refresh(call)
    assert visibility.authors_hidden(call)
    call.results_published_at = utcnow()
    assert not visibility.authors_hidden(call)


def test_one_rule_tells_which_entries_the_public_sees(app, blind_call):
    listed = set(db.session.scalars(select(Entry.id).where(*visibility.public_entries())))
    reachable = set(db.session.scalars(select(Entry.id).where(*visibility.public_entries(merged=True))))
    assert listed == {e.id for e in blind_call["entries"]}
    assert reachable == listed | {blind_call["suggestion"].id}
    assert all(visibility.is_public(e) for e in blind_call["entries"])
    blind_call["call"].published_at = None
    assert not visibility.is_public(blind_call["entries"][0])
