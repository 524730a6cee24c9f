"""An organiser steers public rounds through the pages alone: edit, close early, remove; a new round says which
entries it holds and refuses to hold none; dates go round the forms to the minute; words that fit the call."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import AuditEvent, CallEvent, CallKind, EntryStatus, Round, RoundState, Vote
from contest.models.types import utcnow
from tests.helpers import (
    log_in,
    make_call,
    make_decided_round,
    make_public_round,
    make_round,
    make_voter,
    post_form,
    zh,
    zh_n,
)


@pytest.fixture
def organiser(client, transport_organiser):
    log_in(client, transport_organiser.email)
    return client


def _settings(**changes):
    form = {"title": "公众评选", "votes_per_citizen": "3", "min_account_age_hours": "24", "hide_counts": "y",
            "opens_at": "2099-01-01T09:00", "closes_at": "2099-01-15T18:00"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _actions(action):
    db.session.commit()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _events(call, kind):
    db.session.commit()
    return db.session.scalars(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind == kind)).all()


# 1. Steering a public round ------------------------------------------------------------------------------------

def test_a_public_round_is_edited_with_its_own_form_and_the_change_is_dated(
        organiser, client, transport_organiser, railing_call, entries):
    round_ = make_public_round(railing_call, transport_organiser, state="upcoming")
    page = f"/console/rounds/{round_.id}/edit"
    form = organiser.get(page)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert zh("Edit public round") in html and 'name="votes_per_citizen"' in html
    assert 'name="min_account_age_hours"' in html and 'name="hide_counts"' in html
    assert 'name="criteria"' not in html and 'name="jurors_per_entry"' not in html
    response = post_form(organiser, page, _settings(title="栏杆人气评选", votes_per_citizen="5",
                                                    min_account_age_hours="0", hide_counts=None,
                                                    opens_at="2027-01-01T03:37", closes_at="2027-01-08T20:00"))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(round_)
    assert (round_.title, round_.votes_per_citizen, round_.min_account_age_hours, round_.hide_counts) == (
        "栏杆人气评选", 5, 0, False)
    assert round_.opens_at == datetime(2026, 12, 31, 19, 37, tzinfo=round_.opens_at.tzinfo)
    [audit] = _actions("round.update_public")
    assert set(audit.detail["changed"]) == {"title", "votes_per_citizen", "min_account_age_hours", "hide_counts",
                                            "opens_at", "closes_at"}
    assert len(_events(railing_call, "round_changed")) == 1
    timeline = client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    assert zh("The settings of “%(round)s” were changed.", round="栏杆人气评选") in timeline
    # 3. shown to the minute, without seconds
    console = organiser.get(f"/console/rounds/{round_.id}/").get_data(as_text=True)
    assert "2027年1月1日 03:37" in console and "2027年1月1日 03:37:00" not in console


def test_editing_a_closed_public_round_is_refused(organiser, transport_organiser, railing_call, entries):
    round_ = make_public_round(railing_call, transport_organiser)
    round_.closes_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    page = f"/console/rounds/{round_.id}/edit"
    shown = organiser.get(page)
    assert shown.status_code == 200
    assert zh("Voting in this round has closed: it can no longer be changed.") in shown.get_data(as_text=True)
    response = post_form(organiser, page, _settings(title="改个名字", votes_per_citizen="9"),
                         page=f"/console/rounds/{round_.id}/")
    assert response.status_code == 400
    assert zh("Voting in this round has closed: it can no longer be changed.") in response.get_data(as_text=True)
    db.session.refresh(round_)
    assert (round_.title, round_.votes_per_citizen) == ("公众评选", 3)
    assert _actions("round.update_public") == [] and _events(railing_call, "round_changed") == []


def test_an_open_round_keeps_its_opening_and_its_rules(organiser, transport_organiser, railing_call, entries):
    round_ = make_public_round(railing_call, transport_organiser)
    page = f"/console/rounds/{round_.id}/edit"
    html = organiser.get(page).get_data(as_text=True)
    opens = re.search(r'name="opens_at"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="opens_at"', html)
    opens = next(g for g in opens.groups() if g)
    refused = post_form(organiser, page, _settings(opens_at=opens, closes_at="2099-01-15T18:00", votes_per_citizen="9"))
    assert refused.status_code == 400
    assert zh("Voting has opened: only the title, the closing date and whether the counts are hidden can change "
              "now.") in refused.get_data(as_text=True)
    longer = post_form(organiser, page, _settings(opens_at=opens, closes_at="2099-01-15T18:00"))
    assert longer.status_code == 302
    db.session.refresh(round_)
    assert round_.votes_per_citizen == 3 and round_.closes_at.year == 2099


def test_a_public_round_is_closed_early_after_a_confirmation(organiser, client, transport_organiser, railing_call,
                                                           entries):
    round_ = make_public_round(railing_call, transport_organiser)
    page = f"/console/rounds/{round_.id}/close-voting"
    asked = organiser.get(page)
    assert asked.status_code == 200
    assert zh("Close voting in “%(round)s” now?", round="公众评选") in asked.get_data(as_text=True)
    assert round_.state is RoundState.OPEN  # asking changed nothing
    response = post_form(organiser, page)
    assert response.status_code == 302
    db.session.refresh(round_)
    assert round_.state is RoundState.CLOSED
    assert round_.closes_at.second == 0 and round_.closes_at.microsecond == 0
    assert len(_actions("round.close_public")) == 1
    timeline = client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    assert zh("Voting in “%(round)s” closed early.", round="公众评选") in timeline


def test_a_round_without_ballots_is_removed_and_one_with_ballots_is_not(
        organiser, client, transport_organiser, railing_call, entries):
    upcoming = make_public_round(railing_call, transport_organiser, state="upcoming")
    page = f"/console/rounds/{upcoming.id}/remove"
    asked = organiser.get(page)
    assert asked.status_code == 200 and zh("Remove “%(round)s”?", round="公众评选") in asked.get_data(as_text=True)
    response = post_form(organiser, page)
    assert response.status_code == 302 and response.location.endswith(f"/console/calls/{railing_call.id}/")
    assert db.session.scalars(select(Round)).all() == []
    assert len(_actions("round.remove")) == 1
    timeline = client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    assert zh("The round “%(round)s” was removed.", round="公众评选") in timeline

    voted = make_public_round(railing_call, transport_organiser)
    citizen = make_voter("voter@example.org")
    db.session.add(Vote(round_id=voted.id, user_id=citizen.id, entry_id=entries[0].id, created_at=utcnow(),
                        address="", voided_reason=""))
    db.session.commit()
    page = f"/console/rounds/{voted.id}/remove"
    refusal = zh("Citizens have already voted in this round (%(n)d ballots), so it cannot be removed: close it "
                 "early instead.", n=1)
    asked = organiser.get(page)
    assert asked.status_code == 200 and refusal in asked.get_data(as_text=True)
    response = post_form(organiser, page, follow_redirects=True)
    assert response.status_code == 200 and refusal in response.get_data(as_text=True)
    assert db.session.get(Round, voted.id) is not None
    assert len(_actions("round.remove")) == 1


# 2. No dead round ----------------------------------------------------------------------------------------------

@pytest.fixture
def after_a_public_round(railing_call, entries, transport_organiser):
    """An expert round decided (two of five advance), then a pairwise round that took those two and has closed."""
    expert = make_decided_round(railing_call, transport_organiser, entries, entries[:2])
    first = make_public_round(railing_call, transport_organiser, mode="pairwise")
    first.opens_at, first.closes_at = utcnow() - timedelta(days=1), utcnow() - timedelta(hours=2)
    db.session.commit()
    return expert, first


def test_a_public_round_after_another_says_which_entries_it_holds_and_takes_them(
        organiser, another_client, railing_call, entries, after_a_public_round):
    expert, first = after_a_public_round
    page = f"/console/calls/{railing_call.id}/public-rounds/new"
    html = organiser.get(page).get_data(as_text=True)
    assert zh_n("The %(num)d entry “%(round)s” advanced", "The %(num)d entries “%(round)s” advanced", 2,
                round="专家评审") in html
    assert zh_n("Every approved entry of the call (%(num)d now)", "Every approved entry of the call (%(num)d now)",
                5) in html
    opens = (utcnow() + timedelta(hours=8, minutes=-1)).strftime("%Y-%m-%dT%H:%M")  # Shanghai time, open now
    response = post_form(organiser, page, _settings(title="第二轮", mode="votes", source=str(expert.id),
                                                    min_account_age_hours="0", opens_at=opens,
                                                    closes_at="2099-01-15T18:00"), follow_redirects=True)
    assert response.status_code == 200
    assert zh_n("It holds %(num)d entry, the one “%(round)s” advanced.",
                "It holds %(num)d entries, those “%(round)s” advanced.", 2, round="专家评审") in \
        response.get_data(as_text=True)
    second = db.session.scalar(select(Round).where(Round.title == "第二轮"))
    citizen = another_client
    public = citizen.get(f"/rounds/{second.id}")
    assert public.status_code == 200
    titles = re.findall(r'class="entry-card-title">([^<]+)<', public.get_data(as_text=True))
    assert titles == [entries[0].title, entries[1].title]
    # and the advanced entries can be voted for (the vote's own check of who takes part agrees)
    voter = make_voter("voter@example.org")
    log_in(citizen, voter.email)
    post_form(citizen, f"/rounds/{second.id}/votes/{entries[0].id}", page=f"/rounds/{second.id}")
    post_form(citizen, f"/rounds/{second.id}/votes/{entries[3].id}", page=f"/rounds/{second.id}")
    db.session.commit()
    assert [v.entry_id for v in db.session.scalars(select(Vote).where(Vote.round_id == second.id))] == [
        entries[0].id]


def test_all_approved_entries_can_be_chosen(organiser, railing_call, entries, after_a_public_round):
    page = f"/console/calls/{railing_call.id}/public-rounds/new"
    response = post_form(organiser, page, _settings(title="全部作品", mode="pairwise", source="all"))
    assert response.status_code == 302, response.get_data(as_text=True)
    second = db.session.scalar(select(Round).where(Round.title == "全部作品"))
    assert second.takes_all_approved
    console = organiser.get(f"/console/rounds/{second.id}/").get_data(as_text=True)
    assert zh_n("It holds %(num)d entry: every approved entry of the call.",
                "It holds %(num)d entries: every approved entry of the call.", 5) in console


def test_a_round_that_would_hold_no_entries_is_refused(organiser, railing_call, entries, after_a_public_round):
    expert, _first = after_a_public_round
    for entry in entries[:2]:  # the two that advanced were withdrawn since
        entry.status = EntryStatus.WITHDRAWN
    db.session.commit()
    page = f"/console/calls/{railing_call.id}/public-rounds/new"
    response = post_form(organiser, page, _settings(title="空的一轮", mode="votes", source=str(expert.id)))
    assert response.status_code == 400
    assert zh("This round would hold no entries: none of the entries “%(round)s” advanced is approved. Choose "
              "another round's outcome, or all approved entries.", round="专家评审") in response.get_data(as_text=True)
    assert db.session.scalar(select(Round).where(Round.title == "空的一轮")) is None


# 3. Default dates are accepted --------------------------------------------------------------------------------

def _dates_proposed_after_closing_scoring(organiser, transport_organiser, railing_call) -> tuple[str, dict]:
    """An expert round whose scoring the organiser closes now; the new public round form and the dates it proposes."""
    expert = make_round(railing_call, transport_organiser)
    assert post_form(organiser, f"/console/rounds/{expert.id}/close",
                     page=f"/console/rounds/{expert.id}/").status_code == 302
    page = f"/console/calls/{railing_call.id}/public-rounds/new"
    html = organiser.get(page).get_data(as_text=True)
    return page, dict(re.findall(r'<input[^>]*id="(opens_at|closes_at)"[^>]*value="([^"]*)"', html))


def test_the_dates_a_new_round_form_suggests_are_accepted(organiser, transport_organiser, railing_call, entries):
    page, values = _dates_proposed_after_closing_scoring(organiser, transport_organiser, railing_call)
    assert set(values) == {"opens_at", "closes_at"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", v) for v in values.values()), values
    response = post_form(organiser, page, _settings(title="公众评选", mode="votes", source="all", **values))
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_round_opening_in_the_minute_the_round_before_closed_comes_after_it_on_the_timeline(
        organiser, client, transport_organiser, railing_call, entries):
    """The proposed opening is the minute scoring closed: the timeline tells the close first, not a round that
    opened before the one before it was done."""
    page, values = _dates_proposed_after_closing_scoring(organiser, transport_organiser, railing_call)
    response = post_form(organiser, page, _settings(title="公众评选", mode="votes", source="all", **values))
    assert response.status_code == 302, response.get_data(as_text=True)
    timeline = client.get(f"/calls/{railing_call.id}").get_data(as_text=True)
    told = [timeline.find(text) for text in (
        zh("Scoring closed in “%(round)s”.", round="专家评审"),
        zh("“%(round)s” opened.", round="公众评选"))]
    assert -1 not in told, told
    assert told == sorted(told), told


# 10. Words that fit the call -----------------------------------------------------------------------------------

def test_an_idea_call_asks_for_a_suggestion(client, planning_bureau):
    from tests.helpers import make_user

    idea_call = make_call(planning_bureau, kind=CallKind.IDEA, title="15分钟社区生活圈", images_min=0)
    make_user("resident@example.org")
    log_in(client, "resident@example.org")
    response = client.get(f"/calls/{idea_call.id}/enter")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert zh("Send a suggestion") in html and "15分钟社区生活圈" in html
    assert zh("I accept the licence terms and declare that this suggestion is my own.") in html
    assert zh("Send suggestion") in html
    assert zh("Needed with every image, for people who cannot see it, e.g. “The empty corner by the bus stop, "
              "where benches could go”.") in html
    assert zh("I accept the licence terms and declare that this is my own original work.") not in html
    assert zh("Send an entry") not in html and "栏杆" not in html
    refused = post_form(client, f"/calls/{idea_call.id}/enter", {"title": "", "topic_id": "0", "place_id": "0"},
                        content_type="multipart/form-data")
    assert refused.status_code == 400 and zh("Give your suggestion a title.") in refused.get_data(as_text=True)


def test_an_idea_calls_form_and_its_refusals_never_speak_of_a_work_or_an_original_design(client, planning_bureau):
    from tests.helpers import make_user

    idea_call = make_call(planning_bureau, kind=CallKind.IDEA, title="口袋公园", images_min=0,
                          licence_text="您的建议将公开展示。", originality_text="建议内容为本人提出，真实可信。")
    make_user("resident@example.org")
    log_in(client, "resident@example.org")
    page = f"/calls/{idea_call.id}/enter"

    def main(response) -> str:
        return response.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]

    html = main(client.get(page))
    assert zh("Send a suggestion") in html and zh("Declaration") in html
    refused = post_form(client, page, {"title": "加一块沙坑", "topic_id": str(idea_call.topics[0].id), "place_id": "0"},
                        content_type="multipart/form-data")
    assert refused.status_code == 400
    html = main(refused)
    assert zh("Accept the licence terms and the declaration to send your suggestion.") in html
    for word in ("作品", "原创", "栏杆"):
        assert word not in html, word


def test_a_closed_votes_round_no_longer_offers_to_take_votes_back(client, transport_organiser, railing_call, entries):
    round_ = make_public_round(railing_call, transport_organiser)
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/rounds/{round_.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert zh_n("Voting has closed. Each citizen had %(num)d vote, at most one per entry.",
                "Voting has closed. Each citizen had %(num)d votes, at most one per entry.", 3) in html
    assert zh_n("You have %(num)d vote, at most one per entry. You can take a vote back until voting closes.",
                "You have %(num)d votes, at most one per entry. You can take a vote back until voting closes.",
                3) not in html


def test_the_console_names_a_public_rounds_state_as_the_public_page_does(organiser, transport_organiser,
                                                                        railing_call, entries):
    make_public_round(railing_call, transport_organiser)
    response = organiser.get(f"/console/calls/{railing_call.id}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "公众评选" in html and zh("Voting open") in html
    assert zh("Scoring open") not in html


def test_a_public_round_set_up_ahead_takes_what_the_expert_round_advances_once_it_decides(
        organiser, transport_organiser, railing_call, entries):
    from contest.models import RoundEntry
    from contest.services.rounds import candidates

    expert = make_round(railing_call, transport_organiser, state="upcoming")  # not decided yet
    page = f"/console/calls/{railing_call.id}/public-rounds/new"
    form = organiser.get(page).get_data(as_text=True)
    assert zh("The entries “%(round)s” will advance, once it decides", round=expert.title) in form
    response = post_form(organiser, page, _settings(title="提前设好的一轮", mode="votes", source="next",
                                                    opens_at="2099-02-01T09:00", closes_at="2099-02-15T18:00"),
                         follow_redirects=True)
    assert response.status_code == 200
    assert zh("It will hold the entries “%(round)s” advances, once that round decides.", round=expert.title) in \
        response.get_data(as_text=True)
    public = db.session.scalar(select(Round).where(Round.title == "提前设好的一轮"))
    assert public.source_round_id == expert.id and not public.takes_all_approved
    assert candidates(public) == []
    for entry in entries:  # the expert round decides: two of the five advance
        db.session.add(RoundEntry(round_id=expert.id, entry_id=entry.id, advanced=entry in entries[:2]))
    expert.decided_at, expert.decided_by_id = utcnow(), transport_organiser.id
    db.session.commit()
    assert [e.id for e in candidates(public)] == [entries[0].id, entries[1].id]


def test_a_public_round_before_is_not_waited_on(organiser, railing_call, entries, after_a_public_round):
    _expert, first = after_a_public_round  # only expert rounds decide who advances
    page = organiser.get(f"/console/calls/{railing_call.id}/public-rounds/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and zh_n("Every approved entry of the call (%(num)d now)",
                                            "Every approved entry of the call (%(num)d now)", 5) in html
    assert zh("The entries “%(round)s” will advance, once it decides", round=first.title) not in html
