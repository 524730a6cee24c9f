"""Expert rounds: configuring, inviting, assigning, scoring blind, conflicts, versions, ranking, advancing."""
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import Assignment, CallEvent, Conflict, Round, RoundEntry, RoundMember, Score
from contest.models.types import utcnow
from contest.services import rounds as round_service
from tests.helpers import (
    SITE,
    approved_entries,
    last_mail,
    link_in,
    log_in,
    make_call,
    make_juror,
    make_organiser,
    make_round,
    make_user,
    post_form,
    zh,
)


@pytest.fixture
def entries(railing_call):
    return approved_entries(railing_call, 6)


@pytest.fixture
def expert_round(railing_call, transport_organiser, entries):
    return make_round(railing_call, transport_organiser, k=2)


@pytest.fixture
def jury(expert_round):
    return [make_juror(expert_round, f"juror{n}@example.org", name=f"评委{n}") for n in range(4)]


def assigned(expert_round):
    return db.session.scalars(select(Assignment).where(Assignment.round_id == expert_round.id)).all()


def marks_form(round_, values, version="", submit=True):
    data = {f"mark-{c.id}": str(v) for c, v in zip(round_.criteria, values, strict=True)}
    data.update({"version": version, "note_to_organisers": "不错", "note_to_entrant": "配色可以再考虑"})
    data["submit" if submit else "save"] = "y"
    return data


def test_an_organiser_configures_a_round(client, transport_organiser, railing_call, entries):
    log_in(client, transport_organiser.email)
    form = {"title": "专家评审", "criteria": "文化表达 | 30\n可行性与安全 | 30 | 能否大规模生产\n美观 | 40",
            "scale_low": "1", "scale_high": "10", "scale_step": "0.5", "jurors_per_entry": "3", "blind": "y",
            "normalise": "y", "trim": "0", "opens_at": "2099-01-01T09:00", "closes_at": "2099-01-15T18:00"}
    response = post_form(client, f"/console/calls/{railing_call.id}/rounds/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    round_ = db.session.scalar(select(Round))
    assert [(c.name, c.weight) for c in round_.criteria] == [("文化表达", 30), ("可行性与安全", 30), ("美观", 40)]
    assert round_.blind and round_.jurors_per_entry == 3
    bad = dict(form, criteria="文化表达 | 30\n美观 | 40")
    response = post_form(client, f"/console/calls/{railing_call.id}/rounds/new", bad)
    assert response.status_code == 400
    assert zh("The weights of the criteria must add up to 100 (they add up to %(n)d).", n=70) in \
        response.get_data(as_text=True)


def test_the_round_page_counts_jurors_per_entry_in_words_that_fit_the_number(client, transport_organiser,
                                                                             transport_commission, railing_call):
    log_in(client, transport_organiser.email)
    client.get("/lang/en")
    one = make_round(railing_call, transport_organiser, k=1)
    three = make_round(make_call(transport_commission, title="第二个征集"), transport_organiser, k=3)
    assert "1 juror per entry" in client.get(f"/console/rounds/{one.id}/").get_data(as_text=True)
    assert "3 jurors per entry" in client.get(f"/console/rounds/{three.id}/").get_data(as_text=True)


def test_a_juror_is_invited_by_mail_and_accepts(client, transport_organiser, expert_round, outbox):
    organiser = client.application.test_client()
    log_in(organiser, transport_organiser.email)
    post_form(organiser, f"/console/rounds/{expert_round.id}/invite", {"email": "Expert@Example.org", "name": "周教授"},
              page=f"/console/rounds/{expert_round.id}/")
    link = link_in(last_mail("expert@example.org"))
    anonymous = client.get(link).get_data(as_text=True)
    assert zh("Log in, or create an account, to accept it.") in anonymous
    make_user("expert-account@example.org", name="周教授")
    log_in(client, "expert-account@example.org")
    assert post_form(client, link).status_code == 302
    member = db.session.scalar(select(RoundMember))
    assert member.user.email == "expert-account@example.org" and member.accepted_at is not None
    assert client.get(f"/jury/rounds/{expert_round.id}/").status_code == 200


def test_the_juror_invitation_links_to_the_configured_site(app, client, transport_organiser, expert_round, outbox):
    app.config["BASE_URL"] = SITE
    organiser = client.application.test_client()
    log_in(organiser, transport_organiser.email)
    response = post_form(organiser, f"/console/rounds/{expert_round.id}/invite",
                         {"email": "expert@example.org", "name": "周教授"}, page=f"/console/rounds/{expert_round.id}/")
    assert response.status_code == 302
    link = link_in(last_mail("expert@example.org"), SITE)
    assert link.startswith("/jury/invitation/")
    assert zh("Log in, or create an account, to accept it.") in client.get(link).get_data(as_text=True)


def test_assignment_is_balanced_and_never_gives_a_juror_their_own_entry(app, transport_organiser, expert_round,
                                                                         jury, entries):
    # The first juror is also the author of an entry: they must never get it.
    own = entries[0]
    own.author_id = jury[0][0].id
    db.session.commit()
    with app.test_request_context():
        made = round_service.assign(transport_organiser, expert_round)
        db.session.commit()
    rows = assigned(expert_round)
    assert made == len(rows) == 12
    per_entry = Counter(a.entry_id for a in rows)
    assert set(per_entry.values()) == {2}
    loads = Counter(a.member_id for a in rows)
    assert max(loads.values()) - min(loads.values()) <= 1
    assert not any(a.entry_id == own.id and a.member_id == jury[0][1].id for a in rows)
    assert db.session.scalar(select(db.func.count()).select_from(RoundEntry)) == 6


@pytest.fixture
def assigned_round(app, transport_organiser, expert_round, jury):
    with app.test_request_context():
        round_service.assign(transport_organiser, expert_round)
        db.session.commit()
    return expert_round


def first_assignment_of(user):
    return db.session.scalar(select(Assignment).join(RoundMember).where(RoundMember.user_id == user.id)
                             .order_by(Assignment.id))


def test_a_juror_scores_and_sees_their_progress(client, assigned_round, jury):
    user, _member = jury[0]
    log_in(client, user.email)
    assignment = first_assignment_of(user)
    page = f"/jury/assignments/{assignment.id}"
    assert client.get(page).status_code == 200
    response = post_form(client, page, marks_form(assigned_round, [8, 6.5, 9]))
    assert response.status_code == 302
    score = db.session.scalar(select(Score).where(Score.assignment_id == assignment.id))
    assert score.submitted_at is not None and score.marks == {str(c.id): v for c, v in
                                                              zip(assigned_round.criteria, [8, 6.5, 9], strict=True)}
    total = db.session.scalar(select(db.func.count()).select_from(Assignment).join(RoundMember)
                              .where(RoundMember.user_id == user.id))
    assert zh("%(done)d of %(total)d scored", done=1, total=total) in \
        client.get(f"/jury/rounds/{assigned_round.id}/").get_data(as_text=True)


def test_a_mark_off_the_scale_is_refused(client, assigned_round, jury):
    user, _ = jury[0]
    log_in(client, user.email)
    assignment = first_assignment_of(user)
    response = post_form(client, f"/jury/assignments/{assignment.id}", marks_form(assigned_round, [11, 6, 9]))
    assert response.status_code == 400
    assert db.session.scalar(select(Score)) is None


def test_two_tabs_saving_the_same_score_do_not_overwrite_each_other(client, another_client, assigned_round, jury):
    user, _ = jury[0]
    log_in(client, user.email)
    log_in(another_client, user.email)
    assignment = first_assignment_of(user)
    page = f"/jury/assignments/{assignment.id}"
    post_form(client, page, marks_form(assigned_round, [5, 5, 5], submit=False))
    version = str(db.session.scalar(select(Score)).version)
    first = post_form(client, page, marks_form(assigned_round, [8, 8, 8], version=version))
    second = post_form(another_client, page, marks_form(assigned_round, [2, 2, 2], version=version))
    assert first.status_code == 302
    assert second.status_code == 409
    assert zh("This score was changed elsewhere (in another tab?) since you opened it. Reload the page to see "
              "it, then make your change again.") in second.get_data(as_text=True)
    assert set(db.session.scalar(select(Score)).marks.values()) == {8}


@pytest.mark.real_commits  # another connection updates the row behind the session's back
def test_concurrent_saves_of_one_version_one_wins(app, assigned_round, jury):
    """Both saves read the same version at the same moment; the database lets only one write it."""
    user, member = jury[0]
    assignment = first_assignment_of(user)
    with app.test_request_context():
        round_service.save_score(member, assignment, {c.id: "5" for c in assigned_round.criteria}, "", "",
                                 submit=False, version=None)
        db.session.commit()
    score_id = db.session.scalar(select(Score.id))
    # Another session updates the row behind this one's back, as a concurrent request would.
    with db.engine.begin() as connection:
        connection.execute(Score.__table__.update().where(Score.__table__.c.id == score_id)
                           .values(version=Score.__table__.c.version + 1, marks={"x": 1}))
    with app.test_request_context(), pytest.raises(round_service.ScoreConflict):
        round_service.save_score(member, assignment, {c.id: "9" for c in assigned_round.criteria}, "", "",
                                 submit=True, version=1)
    db.session.rollback()
    assert db.session.scalar(select(Score.marks)) == {"x": 1}


def test_who_may_not_score(client, app, assigned_round, jury, transport_commission, planning_bureau, citizen):
    user, member = jury[0]
    mine = first_assignment_of(user)
    not_mine = db.session.scalar(select(Assignment).where(Assignment.member_id != member.id))
    log_in(client, user.email)
    assert client.get(f"/jury/assignments/{not_mine.id}").status_code == 403
    assert post_form(client, f"/jury/assignments/{not_mine.id}", marks_form(assigned_round, [5, 5, 5]),
                     page=f"/jury/assignments/{mine.id}").status_code == 403
    stranger = app.test_client()
    log_in(stranger, citizen.email)
    assert stranger.get(f"/jury/assignments/{mine.id}").status_code == 403
    assert stranger.get(f"/jury/rounds/{assigned_round.id}/").status_code == 403
    planner = make_organiser(planning_bureau, "planner@example.org")
    other_organiser = app.test_client()
    log_in(other_organiser, planner.email)
    assert other_organiser.get(f"/console/rounds/{assigned_round.id}/").status_code == 403
    assert other_organiser.get(f"/jury/assignments/{mine.id}").status_code == 403
    # After the round closes, not even the juror.
    assigned_round.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = post_form(client, f"/jury/assignments/{mine.id}", marks_form(assigned_round, [5, 5, 5]))
    assert response.status_code == 409
    assert zh("This round is not open for scoring.") in response.get_data(as_text=True)
    assert db.session.scalar(select(Score)) is None


def test_a_conflict_takes_the_entry_away_and_another_juror_takes_it(client, assigned_round, jury):
    user, member = jury[0]
    log_in(client, user.email)
    assignment = first_assignment_of(user)
    entry_id = assignment.entry_id
    response = post_form(client, f"/jury/assignments/{assignment.id}/recuse",
                         {"reason": "作者是我的学生", "conflict": "y"}, page=f"/jury/assignments/{assignment.id}")
    assert response.status_code == 302
    assert db.session.get(Conflict, (member.id, entry_id)) is not None
    active = [a for a in assigned(assigned_round) if a.entry_id == entry_id and a.recused_at is None]
    assert len(active) == 2 and member.id not in {a.member_id for a in active}
    assert client.get(f"/jury/assignments/{assignment.id}").status_code == 403
    assert f"/jury/assignments/{assignment.id}\"" not in client.get(f"/jury/rounds/{assigned_round.id}/").get_data(
        as_text=True)


def test_a_blind_round_shows_nothing_of_the_entrant(client, assigned_round, jury, entries):
    user, _ = jury[0]
    log_in(client, user.email)
    for assignment in db.session.scalars(select(Assignment).join(RoundMember).where(RoundMember.user_id == user.id)):
        entry = assignment.entry
        pages = [client.get(f"/jury/assignments/{assignment.id}").get_data(as_text=True),
                 client.get(f"/jury/rounds/{assigned_round.id}/").get_data(as_text=True)]
        for html in pages:
            assert entry.author.display_name not in html and entry.author.email not in html
        for picture in entry.images:
            image = client.get(f"/media/{picture.image_id}/page")
            assert image.status_code == 200
            assert b"Exif" not in image.data and entry.author.display_name.encode() not in image.data
            assert "filename" not in image.headers.get("Content-Disposition", "")


def test_ranking_and_advancing_the_top_two(client, app, transport_organiser, assigned_round, jury, outbox):
    for n, (_user, member) in enumerate(jury):
        with app.test_request_context():
            for assignment in round_service.juror_list(member):
                value = str(1 + (assignment.entry_id * 7 + n) % 10)
                round_service.save_score(member, assignment, {c.id: value for c in assigned_round.criteria},
                                         "", "", submit=True, version=None)
            db.session.commit()
    tally = round_service.ranking(assigned_round, cut=2, samples=200)
    assert len(tally.results) == 6
    organiser = client
    log_in(organiser, transport_organiser.email)
    page = f"/console/rounds/{assigned_round.id}/"
    assert organiser.get(page).status_code == 200
    post_form(organiser, f"/console/rounds/{assigned_round.id}/close", page=page)
    response = post_form(organiser, f"/console/rounds/{assigned_round.id}/decide", {"mode": "top_n", "value": "2"},
                         page=page)
    assert response.status_code == 302
    advanced = db.session.scalars(select(RoundEntry.entry_id).where(RoundEntry.advanced.is_(True))).all()
    assert sorted(advanced) == sorted(r.entry_id for r in tally.results[:2])
    kinds = [e.kind for e in db.session.scalars(select(CallEvent).where(CallEvent.call_id == assigned_round.call_id))]
    assert "round_decided" in kinds and "round_closed" in kinds
    told = {m.to for m in outbox if m.subject in (zh("Your entry goes on to the next round"),
                                                   zh("The jury's decision on your entry"))}
    assert len(told) == 6
