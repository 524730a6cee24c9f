"""Public rounds: who may vote, votes and their quota, pairs and their fit, voided ballots in the open."""
import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest import pairwise
from contest.extensions import db
from contest.models import Comparison, RoundStanding, User, Vote
from contest.models.types import utcnow
from contest.services import public as public_service
from contest.worker import run_clock
from tests.helpers import (
    approved_entries,
    csrf_token,
    log_in,
    make_call,
    make_public_round,
    make_user,
    make_voter,
    post_form,
    zh,
    zh_n,
)


@pytest.fixture
def votes_round(railing_call, transport_organiser, entries):
    return make_public_round(railing_call, transport_organiser, mode="votes", votes=3)


@pytest.fixture
def voter(client):
    user = make_voter("voter@example.org")
    log_in(client, user.email)
    return user


def vote(client, round_, entry):
    return post_form(client, f"/rounds/{round_.id}/votes/{entry.id}", page=f"/rounds/{round_.id}",
                     follow_redirects=True)


def votes_in_db():
    db.session.commit()
    return db.session.scalars(select(Vote)).all()


def test_voting_and_taking_a_vote_back(client, voter, votes_round, entries):
    page = vote(client, votes_round, entries[0]).get_data(as_text=True)
    assert zh("Your vote for “%(title)s” is counted.", title=entries[0].title) in page
    again = vote(client, votes_round, entries[0]).get_data(as_text=True)
    assert zh("You have already voted for this entry.") in again
    assert len(votes_in_db()) == 1
    post_form(client, f"/rounds/{votes_round.id}/votes/{entries[0].id}/take-back", page=f"/rounds/{votes_round.id}")
    assert votes_in_db() == []
    assert zh("Votes left: %(n)d of %(total)d.", n=3, total=3) in client.get(f"/rounds/{votes_round.id}").get_data(
        as_text=True)


def test_the_quota(client, voter, votes_round, entries):
    for entry in entries[:3]:
        vote(client, votes_round, entry)
    page = vote(client, votes_round, entries[3]).get_data(as_text=True)
    assert zh("You have used all %(n)d of your votes. Take one back to vote for another entry.", n=3) in page
    assert len(votes_in_db()) == 3


@pytest.mark.parametrize("who", ["unconfirmed", "too new", "author", "organiser", "juror"])
def test_who_may_not_vote(client, votes_round, entries, transport_organiser, who):
    from contest.models import RoundMember

    if who == "unconfirmed":
        user = make_voter("u@example.org", confirmed=False)
        expected = zh("Please confirm your e-mail address before voting.")
    elif who == "too new":
        user = make_user("new@example.org")
        expected = zh("Your account can vote from %(when)s: accounts vote once they are %(hours)d hours old, so "
                      "that each person has one voice.", when=_zh_moment(_next_minute(user.created_at + timedelta(
                          hours=24))), hours=24)
    elif who == "author":
        user = entries[0].author
        user.created_at = utcnow() - timedelta(days=5)
        db.session.commit()
        expected = zh("You cannot vote for your own entry.")
    elif who == "organiser":  # an account too new to vote anyway: who they are is what they are told
        user = transport_organiser
        expected = zh("You run this call: its organisers do not vote in its public rounds.")
    else:
        from contest.models import Round, RoundKind

        user = make_user("juror@example.org")
        later = Round(call=votes_round.call, position=2, kind=RoundKind.EXPERT, title="复评",
                      opens_at=votes_round.closes_at + timedelta(days=1),
                      closes_at=votes_round.closes_at + timedelta(days=5))
        db.session.add(later)
        db.session.add(RoundMember(round=later, email=user.email, user=user))
        db.session.commit()
        expected = zh("You are a juror of this call: its jurors do not vote in its public rounds.")
    log_in(client, user.email)
    page = vote(client, votes_round, entries[0]).get_data(as_text=True)
    assert expected in page
    assert votes_in_db() == []
    if who == "author":  # may vote, for the others' entries
        assert zh("Votes left: %(n)d of %(total)d.", n=3, total=3) in page
        return
    assert zh("Votes left: %(n)d of %(total)d.", n=3, total=3) not in page
    assert zh_n("You have %(num)d vote, at most one per entry. You can take a vote back until voting closes.",
                "You have %(num)d votes, at most one per entry. You can take a vote back until voting closes.",
                3) not in page
    assert zh_n("Each citizen has %(num)d vote, at most one per entry.",
                "Each citizen has %(num)d votes, at most one per entry.", 3) in page


def _next_minute(moment):
    start = moment.replace(second=0, microsecond=0)
    return start if start == moment else start + timedelta(minutes=1)


def _zh_moment(moment) -> str:
    """A moment as a Chinese page shows it: the site's zone, to the minute ("2026年12月3日 09:05")."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo("Asia/Shanghai"))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def test_a_citizen_too_new_to_vote_is_told_when_they_may_and_votes_then(app, client, railing_call,
                                                                       transport_organiser, entries):
    from contest.models import Comparison

    citizen = make_voter("new@example.org", days_old=0)
    citizen.created_at = utcnow() - timedelta(hours=23, minutes=30, seconds=20)
    db.session.commit()
    votes_round = make_public_round(railing_call, transport_organiser, mode="votes", votes=2, age_hours=24)
    when = _zh_moment(_next_minute(citizen.created_at + timedelta(hours=24)))
    told = zh("Your account can vote from %(when)s: accounts vote once they are %(hours)d hours old, so that each "
              "person has one voice.", when=when, hours=24)
    log_in(client, citizen.email)
    page = client.get(f"/rounds/{votes_round.id}").get_data(as_text=True)
    assert told in page and re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}起", page)
    assert zh("Votes left: %(n)d of %(total)d.", n=2, total=2) not in page
    assert f"/rounds/{votes_round.id}/votes/" not in page  # no vote buttons
    assert told in vote(client, votes_round, entries[0]).get_data(as_text=True)
    assert votes_in_db() == []

    pairs_call = make_call(railing_call.department, title="井盖彩绘")
    approved_entries(pairs_call, 3, start_seed=300)
    pairs = make_public_round(pairs_call, transport_organiser, mode="pairwise", age_hours=24)
    page = client.get(f"/rounds/{pairs.id}").get_data(as_text=True)
    assert told in page and zh("Start comparing") not in page
    page = client.get(f"/rounds/{pairs.id}/compare").get_data(as_text=True)
    assert told in page and 'name="pair"' not in page
    assert db.session.scalar(select(Comparison.id)) is None

    citizen.created_at = utcnow() - timedelta(hours=24, minutes=1)  # the hour has come
    db.session.commit()
    page = vote(client, votes_round, entries[0]).get_data(as_text=True)
    assert zh("Your vote for “%(title)s” is counted.", title=entries[0].title) in page
    assert zh("Votes left: %(n)d of %(total)d.", n=1, total=2) in page


def test_a_vote_after_the_close_or_without_a_token_changes_nothing(client, voter, votes_round, entries):
    assert client.post(f"/rounds/{votes_round.id}/votes/{entries[0].id}").status_code == 400
    votes_round.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = vote(client, votes_round, entries[0]).get_data(as_text=True)
    assert zh("Voting has closed.") in page
    assert votes_in_db() == []


def test_counts_are_hidden_until_the_close(client, voter, votes_round, entries):
    vote(client, votes_round, entries[0])
    label = zh("The counts are shown when voting closes.")
    assert label in client.get(f"/rounds/{votes_round.id}").get_data(as_text=True)
    votes_round.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert label not in client.get(f"/rounds/{votes_round.id}").get_data(as_text=True)


def test_pairs_are_answered_once_each_and_never_show_ones_own_entry(app, railing_call, transport_organiser, entries):
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise")
    author = entries[0].author
    author.created_at = utcnow() - timedelta(days=5)
    db.session.commit()
    with app.test_request_context():
        for _ in range(20):
            left, right, token = public_service.next_pair(author, round_)
            assert entries[0].id not in (left.id, right.id)
        left, right, token = public_service.next_pair(author, round_)
        assert public_service.answer_pair(author, round_, token, "left") is public_service.PairAnswer.COUNTED
        # A double submit
        assert public_service.answer_pair(author, round_, token, "left") is public_service.PairAnswer.REPEATED
        db.session.commit()
        assert public_service.comparisons_made(author, round_) == 1
        with pytest.raises(public_service.ServiceError):
            public_service.answer_pair(author, round_, token + "x", "left")


def test_simulated_citizens_recover_the_true_order(app, railing_call, transport_organiser):
    """20 entries with known strengths, 2,000 noisy answers through the services: the fit finds the order."""
    entries = approved_entries(railing_call, 20, start_seed=300)
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise", age_hours=0)
    rng = random.Random(42)
    strength = {e.id: 1.35 ** rank for rank, e in enumerate(entries)}
    citizens = [make_voter(f"sim{n}@example.org") for n in range(40)]
    with app.test_request_context():
        for n in range(2000):
            citizen = citizens[n % len(citizens)]
            left, right, token = public_service.next_pair(citizen, round_)
            p_left = strength[left.id] / (strength[left.id] + strength[right.id])
            answer = "none" if rng.random() < 0.1 else ("left" if rng.random() < p_left else "right")
            public_service.answer_pair(citizen, round_, token, answer)
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()
        scores = public_service.pairwise_scores(round_)
    fitted = sorted(scores, key=scores.get)
    true = sorted(strength, key=strength.get)
    tau = pairwise.kendall_tau(fitted, true)
    print(f"Kendall's tau between the fitted and the true order: {tau:.3f}")
    assert tau >= 0.9


def test_voided_votes_are_counted_with_their_reason(client, app, votes_round, entries, transport_organiser):
    voters = [make_voter(f"burst{n}@example.org", days_old=1) for n in range(6)]
    with app.test_request_context():
        for user in voters:
            public_service.cast_vote(user, votes_round, entries[1], "10.1.2.3")
        db.session.commit()
    bursts = public_service.bursts(votes_round, new_days=7, threshold=5)
    assert bursts and bursts[0].entry_id == entries[1].id and bursts[0].count == 6
    assert public_service.crowded_addresses(votes_round, threshold=5) == [("10.1.2.3", 6, 6)]
    log_in(client, transport_organiser.email)
    page = f"/console/rounds/{votes_round.id}/"
    assert zh("Bursts: many new accounts backing one entry within an hour") in client.get(page).get_data(as_text=True)
    reason = "同一地址短时间内新注册账号集中投票"
    response = post_form(client, f"/console/rounds/{votes_round.id}/void",
                         {"ballot": [str(i) for i in bursts[0].ids[:4]], "reason": reason}, page=page)
    assert response.status_code == 302
    assert public_service.vote_counts(votes_round) == {entries[1].id: 2}
    assert "同一地址短时间内新注册账号集中投票" in client.get(page).get_data(as_text=True)
    votes_round.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    public = app.test_client().get(f"/rounds/{votes_round.id}").get_data(as_text=True)
    assert "同一地址短时间内新注册账号集中投票" in public
    assert zh_n("%(num)d voided: %(reason)s", "%(num)d voided: %(reason)s", 4, reason=reason) in public


def test_the_gallery_order_is_random_but_stable_for_each_visitor(app, votes_round, entries):
    first = app.test_client()
    url = f"/calls/{votes_round.call_id}/entries"

    def order(c):
        html = c.get(url).get_data(as_text=True)
        return [int(part.split('"')[0]) for part in html.split('href="/entries/')[1:]]

    a1, a2 = order(first), order(first)
    assert a1 == a2 and sorted(a1) == sorted(e.id for e in entries)
    orders = {tuple(order(app.test_client())) for _ in range(8)}
    assert len(orders) > 1  # different visitors see different orders


def test_comparison_rows_keep_the_answer(app, railing_call, transport_organiser, entries):
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise")
    citizen = make_voter("c@example.org")
    with app.test_request_context():
        left, right, token = public_service.next_pair(citizen, round_)
        public_service.answer_pair(citizen, round_, token, "right")
        db.session.commit()
    row = db.session.scalar(select(Comparison))
    assert (row.left_id, row.right_id, row.winner_id) == (left.id, right.id, right.id)


# The vote page's path (one statement on PostgreSQL) and cast_vote (the ORM) must give the same answers.

def _voted(user, round_, entries):
    with_votes = [public_service.cast_vote(user, round_, entry) for entry in entries]
    db.session.commit()
    assert all(with_votes)


def _later_round(round_, entries):
    """A second public round of the call that takes entries[1] (advanced) but not entries[2]."""
    from contest.models import PublicMode, Round, RoundEntry, RoundKind

    later = Round(call=round_.call, position=2, kind=RoundKind.PUBLIC, title="第二轮", public_mode=PublicMode.VOTES,
                  opens_at=round_.opens_at, closes_at=round_.closes_at, votes_per_citizen=3,
                  min_account_age_hours=0, jurors_per_entry=0)
    db.session.add(later)
    db.session.add_all([RoundEntry(round_id=round_.id, entry_id=entries[1].id, advanced=True),
                        RoundEntry(round_id=round_.id, entry_id=entries[2].id, advanced=False)])
    db.session.commit()
    return later


def _situation(name, voter, round_, entries, others):
    """(the account a session names, the round, the entry) of a vote in the named situation."""
    from contest.models import EntryStatus, Round, RoundKind, RoundMember
    from contest.sessions import SessionAccount

    user, entry, now = voter, entries[0], utcnow()
    account = SessionAccount(voter.id, voter.session_token)
    if name == "already voted":
        _voted(voter, round_, entries[:1])
    elif name == "over the quota":
        _voted(voter, round_, entries[1:4])
    elif name == "unconfirmed":
        user = make_voter("unconfirmed@example.org", confirmed=False)
    elif name == "too new":
        user = make_voter("new@example.org", days_old=0)
    elif name == "own entry":
        user = entries[0].author
        user.created_at = now - timedelta(days=5)
    elif name == "organiser":
        user = others["organiser"]
        user.created_at = now - timedelta(days=5)
    elif name == "co-organiser":
        round_.call.co_departments.append(others["planning_bureau"])
        user = make_voter("planner@example.org")
        from contest.models import DepartmentMember

        db.session.add(DepartmentMember(department=others["planning_bureau"], user=user))
    elif name == "administrator":
        user = make_voter("admin@example.org", admin=True)
    elif name == "juror":
        later = _later_round(round_, entries)
        db.session.add(RoundMember(round=later, email=voter.email, user=voter))
    elif name == "closed":
        round_.closes_at = now - timedelta(minutes=1)
    elif name == "closed and already voted":
        _voted(voter, round_, entries[:1])
        round_.closes_at = now - timedelta(minutes=1)
    elif name == "upcoming":
        round_.opens_at = now + timedelta(minutes=5)
    elif name == "decided":
        round_.decided_at = now
    elif name == "pairwise":
        round_.public_mode = round_.public_mode.PAIRWISE
    elif name == "entry not approved":
        entries[0].status = EntryStatus.REJECTED
    elif name == "later round, advanced":
        round_, entry = _later_round(round_, entries), entries[1]
    elif name == "later round, not advanced":
        round_, entry = _later_round(round_, entries), entries[2]
    elif name == "unconfirmed, own entry":
        user = entries[0].author
        user.email_confirmed_at = None
    elif name == "entry of another call":
        entry = others["other_entry"]
    elif name == "expert round":
        round_ = Round(call=round_.call, position=2, kind=RoundKind.EXPERT, title="复评", opens_at=round_.opens_at,
                       closes_at=round_.closes_at)
        db.session.add(round_)
    elif name == "unpublished call":
        round_.call.published_at = None
    elif name in ("session ended", "session ended, unknown round"):
        voter.session_token = "logged out everywhere"
    elif name == "account disabled":
        voter.disabled_at = now
    elif name == "no such account":
        account = SessionAccount(voter.id + 1000, "made up")
    else:
        assert name in ("counted", "unknown round"), name
    db.session.commit()
    if user is not voter:
        account = SessionAccount(user.id, user.session_token)
    return account, round_.id + (1000 if "unknown round" in name else 0), entry.id


SITUATIONS = {
    "counted": True, "already voted": False,
    "over the quota": "You have used all %(n)d of your votes. Take one back to vote for another entry.",
    "unconfirmed": "Please confirm your e-mail address before voting.",
    "too new": "Your account can vote from %(when)s: accounts vote once they are %(hours)d hours old, so that each "
               "person has one voice.",
    "own entry": "You cannot vote for your own entry.",
    "organiser": "You run this call: its organisers do not vote in its public rounds.",
    "co-organiser": "You run this call: its organisers do not vote in its public rounds.",
    "administrator": "You run this call: its organisers do not vote in its public rounds.",
    "juror": "You are a juror of this call: its jurors do not vote in its public rounds.",
    "closed": "Voting has closed.", "closed and already voted": "Voting has closed.",
    "upcoming": "Voting has not opened yet.", "decided": "Voting has closed.",
    "pairwise": "This round compares pairs; it has no votes.",
    "entry not approved": "This entry is not in this round.",
    "later round, advanced": True, "later round, not advanced": "This entry is not in this round.",
    "unconfirmed, own entry": "Please confirm your e-mail address before voting.",
    "entry of another call": "not found", "expert round": "not found", "unpublished call": "not found",
    "unknown round": "not found", "session ended": "not logged in", "account disabled": "not logged in",
    "no such account": "not logged in", "session ended, unknown round": "not logged in",
}


@pytest.mark.parametrize("name", list(SITUATIONS))
def test_the_vote_page_and_cast_vote_give_the_same_answers(app, railing_call, votes_round, entries, planning_bureau,
                                                           transport_organiser, name):
    from flask_babel import force_locale, gettext

    from contest.services import ServiceError

    other_call = make_call(planning_bureau, title="社区生活圈")
    others = {"organiser": transport_organiser, "planning_bureau": planning_bureau,
              "other_entry": approved_entries(other_call, 1, start_seed=700)[0]}
    voter = make_voter("voter@example.org")
    account, round_id, entry_id = _situation(name, voter, votes_round, entries, others)

    def answer(vote):
        before = (len(votes_in_db()), _allowance_used())
        try:
            with app.test_request_context(), force_locale("en"):
                result = vote()
        except public_service.NotLoggedIn:
            result = "not logged in"
        except public_service.NotFound:
            result = "not found"
        except ServiceError as error:
            result = str(error)
        db.session.rollback()
        assert (len(votes_in_db()), _allowance_used()) == before  # rolled back or committed by nobody
        return result

    def as_before():  # the page's former path: Flask-Login's loader, the round and entry, then cast_vote
        from contest import _load_user

        user = _load_user(f"{account.id}:{account.token}")
        if user is None:
            raise public_service.NotLoggedIn("")
        found = public_service.public_round_and_entry(round_id, entry_id)
        if found is None:
            raise public_service.NotFound("")
        return public_service.cast_vote(user, *found)

    expected = SITUATIONS[name]
    if isinstance(expected, str) and expected != "not found":
        from contest.localtime import format_moment

        new = db.session.scalar(select(User.created_at).where(User.email == "new@example.org"))
        with app.test_request_context(), force_locale("en"):
            when = format_moment(_next_minute(new + timedelta(hours=24))) if new else ""
            expected = gettext(expected, n=3, hours=24, when=when)
    assert answer(lambda: public_service.cast_vote_as(account, round_id, entry_id)) == expected
    assert answer(as_before) == expected


def _allowance_used() -> int:
    from sqlalchemy import func

    from contest.models import VoteAllowance

    return db.session.scalar(select(func.coalesce(func.sum(VoteAllowance.used), 0)))


def test_a_vote_from_an_ended_session_or_none_asks_to_log_in(app, client, voter, votes_round, entries):
    url = f"/rounds/{votes_round.id}/votes/{entries[0].id}"
    token = csrf_token(client, f"/rounds/{votes_round.id}")
    voter.session_token = "logged out everywhere"
    db.session.commit()
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 302 and response.location.startswith("/account/login")
    anonymous = app.test_client()
    response = anonymous.post(url, data={"csrf_token": csrf_token(anonymous, "/account/login")})
    assert response.status_code == 302 and response.location.startswith("/account/login")
    assert votes_in_db() == []


# The stored fit of a pairwise round -----------------------------------------------------------------------------

def _stored_fit(round_) -> dict[int, float]:
    db.session.expire_all()
    return dict(db.session.execute(select(RoundStanding.entry_id, RoundStanding.value)
                                   .where(RoundStanding.round_id == round_.id)).all())


def _answer(app, round_, citizens, n, prefer):
    """n answers through the services, each citizen in turn; `prefer(left, right)` says which side wins."""
    with app.test_request_context():
        for k in range(n):
            citizen = citizens[k % len(citizens)]
            left, right, token = public_service.next_pair(citizen, round_)
            public_service.answer_pair(citizen, round_, token, prefer(left.id, right.id))
        db.session.commit()


def _answered_earlier(round_, minutes):
    """The round's answers as if given `minutes` earlier: well before its fit."""
    for comparison in db.session.scalars(select(Comparison).where(Comparison.round_id == round_.id)):
        comparison.created_at -= timedelta(minutes=minutes)
    db.session.commit()


def _lower_wins(left, right):
    return "left" if left < right else "right"


def _higher_wins(left, right):
    return "left" if left > right else "right"


@pytest.fixture
def fitted_round(app, railing_call, transport_organiser):
    entries = approved_entries(railing_call, 5, start_seed=400)
    round_ = make_public_round(railing_call, transport_organiser, mode="pairwise", age_hours=0, hide_counts=False)
    citizens = [make_voter(f"fit{n}@example.org") for n in range(4)]
    _answer(app, round_, citizens, 8, _lower_wins)
    return round_, entries, citizens


def test_the_round_page_shows_the_stored_fit_and_fits_again_when_answers_came(client, app, fitted_round):
    round_, entries, citizens = fitted_round
    page = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    stored, fresh = _stored_fit(round_), public_service.pairwise_scores(round_)
    assert stored == pytest.approx(fresh, abs=1e-12) and set(stored) == {e.id for e in entries}
    for entry in entries:
        assert zh("Chance to be preferred: %(p)s%%", p=f"{stored[entry.id] * 100:.0f}") in page
    assert stored[entries[0].id] > 0.5 > stored[entries[-1].id]

    _answer(app, round_, citizens, 10, _higher_wins)
    client.get(f"/rounds/{round_.id}")
    assert _stored_fit(round_) == stored  # fitted moments ago: the page reads it as it is
    round_.standing_made_at = utcnow() - app.config["STANDING_MAX_AGE"] - timedelta(seconds=1)
    db.session.commit()
    client.get(f"/rounds/{round_.id}")
    refitted, fresh = _stored_fit(round_), public_service.pairwise_scores(round_)
    assert refitted == pytest.approx(fresh, abs=1e-12) and refitted != pytest.approx(stored)
    _answered_earlier(round_, 10)
    old = round_.standing_made_at = utcnow() - app.config["STANDING_MAX_AGE"] - timedelta(minutes=1)
    db.session.commit()
    client.get(f"/rounds/{round_.id}")  # old, but no answer came since: not fitted again
    db.session.expire_all()
    assert round_.standing_made_at == old


def test_a_voided_answer_makes_the_round_fit_again(client, app, fitted_round, transport_organiser):
    round_, entries, _citizens = fitted_round
    client.get(f"/rounds/{round_.id}")
    before = _stored_fit(round_)
    wins_of_first = db.session.scalars(select(Comparison.id).where(
        Comparison.round_id == round_.id, Comparison.winner_id == entries[0].id)).all()
    with app.test_request_context():
        assert public_service.void(transport_organiser, round_, wins_of_first, "同一地址集中比较") == len(wins_of_first)
        db.session.commit()
    assert round_.standing_made_at is None
    client.get(f"/rounds/{round_.id}")
    after, fresh = _stored_fit(round_), public_service.pairwise_scores(round_)
    assert after == pytest.approx(fresh, abs=1e-12)
    assert after[entries[0].id] < before[entries[0].id]


def test_the_worker_fits_open_pairwise_rounds_that_had_answers(client, app, fitted_round):
    round_, _entries, citizens = fitted_round
    client.get(f"/rounds/{round_.id}")
    _answered_earlier(round_, 1)
    assert run_clock()["standings"] == 0  # fitted by the page, no answer since
    _answer(app, round_, citizens, 6, _higher_wins)
    assert run_clock()["standings"] == 1
    assert _stored_fit(round_) == pytest.approx(public_service.pairwise_scores(round_), abs=1e-12)
    _answered_earlier(round_, 1)
    assert run_clock()["standings"] == 0
