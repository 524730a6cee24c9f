"""Results: the final formula on ranks, awards, publication into a notice period, objections, finalising,
feedback to entrants, exports, and a results page whose queries do not grow with the call."""
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from contest.extensions import db
from contest.models import (
    Assignment,
    AuditEvent,
    Award,
    Call,
    CallEvent,
    CombineOn,
    Entry,
    EntryStatus,
    Objection,
    ParticipantGroup,
    PublicMode,
    Round,
    RoundEntry,
    RoundKind,
    RoundMember,
    Score,
    User,
    Vote,
)
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services import public as public_service
from contest.services import results as results_service
from contest.services import rounds as round_service
from contest.services.counts import recount
from contest.snapshot import Snapshot, Summary
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
    zh_n,
)


def order(snap):
    return [(r.entry, r.rank) for r in snap.rows]


def test_the_final_ranking_is_the_hand_computed_formula_on_ranks(app, story):
    a, b, c, d = (e.id for e in story["entries"])
    with app.test_request_context():
        snap = results_service.compute(story["call"])
    # 70/30 on ranks: A 0.7*1 + 0.3*3 = 1.6, B 0.7*2 + 0.3*1 = 1.7, C 0.7*3 + 0.3*2 = 2.7; D stopped in the jury round.
    assert order(snap) == [(a, 1), (b, 2), (c, 3), (d, None)]
    assert [round(r.value, 6) for r in snap.rows[:3]] == [1.6, 1.7, 2.7]
    assert snap.rows[3].out_in == story["expert"].title
    assert snap.rows[1].public.score == 3 and snap.rows[2].public.score == 2  # voided one left out
    story["call"].expert_weight, story["call"].public_weight = 50, 50
    with app.test_request_context():
        snap = results_service.compute(story["call"])
    # 50/50: B 0.5*2 + 0.5*1 = 1.5 comes before A 0.5*1 + 0.5*3 = 2.
    assert order(snap)[:3] == [(b, 1), (a, 2), (c, 3)]


def test_the_formula_is_on_the_call_page_and_its_change_after_opening_is_logged_and_shown(
        client, app, transport_commission, transport_organiser):
    call = make_call(transport_commission, state="upcoming")
    log_in(client, transport_organiser.email)
    form = {"kind": "design", "title": call.title, "summary": call.summary, "brief": call.brief,
            "image_formats": ["JPEG", "PNG"], "images_min": 1, "images_max": 4, "image_max_mb": 10,
            "entries_per_person": 3, "licence_text": call.licence_text,
            "opens_at": "", "closes_at": "", "expert_weight": 70, "public_weight": 30, "combine_on": "ranks"}

    def dates(c):
        from contest.console.routes import _to_local

        return {"opens_at": _to_local(c.opens_at).strftime("%Y-%m-%dT%H:%M"),
                "closes_at": _to_local(c.closes_at).strftime("%Y-%m-%dT%H:%M")}

    form.update(dates(call))
    url = f"/console/calls/{call.id}/edit"
    assert post_form(client, url, form).status_code == 302  # before opening: no reason needed
    db.session.refresh(call)
    assert (call.expert_weight, call.public_weight, call.combine_on) == (70, 30, CombineOn.RANKS)
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert zh("The final ranking weighs the jury's ranking %(ew)d%% and the public's %(pw)d%%, combined %(on)s.",
              ew=70, pw=30, on=zh("on ranks")) in page

    call.opens_at = utcnow() - timedelta(days=1)  # the call opens
    db.session.commit()
    form.update(dates(call), expert_weight=60, public_weight=40)
    response = post_form(client, url, form)
    assert response.status_code == 200
    assert zh("The call is open: say why the final formula changes (the timeline shows it).") in \
        response.get_data(as_text=True)
    db.session.refresh(call)
    assert call.expert_weight == 70
    form["formula_reason"] = "市民参与度超出预期"
    assert post_form(client, url, form).status_code == 302
    db.session.refresh(call)
    assert (call.expert_weight, call.public_weight) == (60, 40)
    event = db.session.scalar(select(CallEvent).where(CallEvent.call_id == call.id,
                                                      CallEvent.kind == "formula_changed"))
    assert event.detail["reason"] == "市民参与度超出预期"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.formula",
                                                      AuditEvent.actor_id == transport_organiser.id))
    assert "市民参与度超出预期" in client.get(f"/calls/{call.id}").get_data(as_text=True)

    form.update(expert_weight=60, public_weight=30, formula_reason="x")
    response = post_form(client, url, form)
    assert zh("The weights of the final formula must add up to 100 (they add up to %(n)d).", n=90) in \
        response.get_data(as_text=True)


def test_awards_follow_the_computed_order_or_come_with_a_published_reason(app, client, story, transport_organiser):
    call, (a, b, c, _d) = story["call"], story["entries"]
    first, second = call.prizes
    with app.test_request_context():
        with pytest.raises(ServiceError, match=zh("These awards depart from the computed order: write the reason, "
                                                  "which is published with the results.")[:8]):
            results_service.set_awards(transport_organiser, call, {b.id: first.id, a.id: second.id}, "")
        db.session.rollback()
        results_service.set_awards(transport_organiser, call, {a.id: first.id, b.id: second.id}, "")
        db.session.commit()
    assert call.award_statement == ""

    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    response = post_form(client, f"/console/calls/{call.id}/results/awards",
                         {f"prize-{c.id}": first.id, f"prize-{a.id}": second.id, "statement": ""}, page=page)
    assert zh("These awards depart from the computed order: write the reason, which is published with the "
              "results.") in client.get(response.location).get_data(as_text=True)
    assert {w.entry_id: w.prize_id for w in db.session.scalars(select(Award))} == {a.id: first.id, b.id: second.id}
    post_form(client, f"/console/calls/{call.id}/results/awards",
              {f"prize-{c.id}": first.id, f"prize-{a.id}": second.id,
               "statement": "C 的方案更易实施，评委会复议后调整。"}, page=page)
    db.session.expire_all()
    assert {w.entry_id: w.prize_id for w in db.session.scalars(select(Award))} == {c.id: first.id, a.id: second.id}
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "results.awards")
                              .order_by(AuditEvent.id.desc()))
    assert audit.actor_id == transport_organiser.id and audit.detail["statement"].startswith("C 的方案")

    post_form(client, f"/console/calls/{call.id}/results/publish", {"notice_days": 7, "top_n": ""}, page=page)
    html = client.get(f"/calls/{call.id}/results").get_data(as_text=True)
    assert "C 的方案更易实施" in html and "一等奖" in html


def test_publishing_freezes_the_ranking_tells_entrants_and_shows_how_the_score_was_made(
        app, client, story, transport_organiser, outbox):
    call = story["call"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    assert client.get(f"/calls/{call.id}/results").status_code == 404  # nothing public before publication
    post_form(client, f"/console/calls/{call.id}/results/publish", {"notice_days": 5, "top_n": ""}, page=page)
    db.session.refresh(call)
    assert call.results_published_at is not None
    assert call.notice_ends_at - call.results_published_at == timedelta(days=5)
    first, second = call.prizes  # never given by hand: they follow the computed order
    assert {w.entry_id: w.prize_id for w in db.session.scalars(select(Award))} == {
        story["entries"][0].id: first.id, story["entries"][1].id: second.id}
    told = [m.to for m in outbox if zh("The results of “%(call)s” are published", call=call.title) == m.subject]
    # the entrants with their feedback, the voters as the call's followers (voting follows it): each once
    assert sorted(told) == sorted({e.author.email for e in story["entries"]} | {v.email for v in story["voters"]})

    html = client.get(f"/calls/{call.id}/results").get_data(as_text=True)
    for entry in story["entries"]:
        assert entry.title in html
    assert "新注册账号集中投票" in html  # the voided ballots and why
    assert "文化表达" in html and "30%" in html  # criteria and weights
    assert zh("Approved entries by channel") in html
    assert "组织方备注" not in html  # organiser-only notes never reach the public
    assert "评委甲" not in html  # nor jurors' names
    assert zh("The results were published. Objections are open until %(end)s.", end="")[:6] in \
        client.get(f"/calls/{call.id}").get_data(as_text=True)

    # Later changes to the rounds do not change what was published.
    with app.test_request_context():
        public_service.void(transport_organiser, story["public"], list(db.session.scalars(select(Vote.id))), "x")
        db.session.commit()
    assert "新注册账号集中投票" in client.get(f"/calls/{call.id}/results").get_data(as_text=True)
    with app.test_request_context():
        with pytest.raises(ServiceError):
            results_service.publish(transport_organiser, call, 7, None)


def test_the_published_snapshot_is_stored_in_parts_that_load_and_equal_a_fresh_computation(
        app, client, story, transport_organiser):
    call = story["call"]
    with app.test_request_context():
        computed = results_service.compute(call)
        results_service.publish(transport_organiser, call, 5, None)
        db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(Call.results_snapshot).where(Call.id == call.id))  # as the column reads back
    assert isinstance(stored, dict) and stored["version"] == 1 and stored["part"] == "summary"
    assert "rows" not in stored and all(r["places"] == {} for r in stored["rounds"])
    summary = Summary.from_json(stored)
    assert summary.to_json() == stored
    assert summary == results_service.snapshot(db.session.get(Call, call.id))
    assert (summary.ranked, summary.finalists) == (len(computed.rows), len(computed.finalists))
    whole = results_service.stored.whole(db.session.get(Call, call.id))
    assert replace(whole, computed_at=None).to_json() == replace(computed, computed_at=None).to_json()
    assert Snapshot.from_json(whole.to_json()) == whole
    response = client.get(f"/calls/{call.id}/results")
    assert response.status_code == 200 and story["entries"][0].title in response.get_data(as_text=True)


def test_the_results_mail_links_to_the_configured_site(app, client, story, transport_organiser, outbox):
    app.config["BASE_URL"] = SITE
    call, entry = story["call"], story["entries"][0]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    response = post_form(client, page + "/publish", {"notice_days": 5, "top_n": ""}, page=page)
    assert response.status_code == 302
    mail = last_mail(entry.author.email)  # sent by the worker, outside any request
    assert mail.subject == zh("The results of “%(call)s” are published", call=call.title)
    assert link_in(mail, SITE) == f"/my/entries/{entry.id}/feedback"
    assert f"{SITE}/calls/{call.id}/results" in mail.body
    assert "http://localhost" not in mail.body


def test_objections_during_the_notice_period_only_with_a_reason_and_answered_in_public(
        app, client, story, transport_organiser):
    call, entry = story["call"], story["entries"][0]
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 7, None)
        db.session.commit()
    url = f"/calls/{call.id}/results/objections"
    results_page = f"/calls/{call.id}/results"

    anonymous = app.test_client()
    response = post_form(anonymous, url, {"entry_id": entry.id, "reason": "抄袭"}, page="/account/login")
    assert response.status_code == 302 and "/account/login" in response.location
    assert db.session.scalar(select(Objection.id)) is None

    citizen = make_user("objector@example.org", name="较真的市民")
    log_in(client, citizen.email)
    response = post_form(client, url, {"entry_id": entry.id, "reason": "  "}, page=results_page, follow_redirects=True)
    assert zh("Write the reason for your objection.") in response.get_data(as_text=True)
    assert db.session.scalar(select(Objection.id)) is None

    response = post_form(client, url, {"entry_id": entry.id, "reason": "该作品与某网站图案高度相似。"},
                         page=results_page, follow_redirects=True)
    assert zh("Your objection is filed. The organisers answer it publicly on this page.") in \
        response.get_data(as_text=True)
    objection = db.session.scalar(select(Objection))
    assert objection.entry_id == entry.id and objection.author_id == citizen.id
    assert "较真的市民" not in client.get(results_page).get_data(as_text=True)  # the objector stays unnamed

    # Only the call's organisers answer, and only they finalise, after the period with every objection answered.
    with app.test_request_context():
        with pytest.raises(ServiceError):
            results_service.answer_objection(citizen, objection, "不是")
        with pytest.raises(ServiceError, match=zh("The notice period is not over yet.")):
            results_service.finalise(transport_organiser, call)
    other = make_organiser(make_department_of_another_city(), email="other@example.org")
    other_client = app.test_client()
    log_in(other_client, other.email)
    assert post_form(other_client, f"/console/calls/{call.id}/results/finalise", {},
                     page="/account/profile").status_code == 403
    assert post_form(client, f"/console/calls/{call.id}/results/finalise", {},
                     page="/account/profile").status_code == 403

    call.notice_ends_at = utcnow() - timedelta(minutes=1)  # the notice period passes
    db.session.commit()
    response = post_form(client, url, {"entry_id": "", "reason": "太晚了"}, page=results_page, follow_redirects=True)
    assert zh("Objections can be filed only during the notice period.") in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Objection)) == 1

    organiser = app.test_client()
    log_in(organiser, transport_organiser.email)
    console = f"/console/calls/{call.id}/results"
    response = post_form(organiser, f"/console/calls/{call.id}/results/finalise", {}, page=console,
                         follow_redirects=True)
    assert zh("Answer every objection before making the results final (%(n)d unanswered).", n=1) in \
        response.get_data(as_text=True)
    post_form(organiser, f"/console/calls/{call.id}/results/objections/{objection.id}/answer",
              {"answer": "经核查，图案为作者原创，异议不成立。"}, page=console)
    html = client.get(results_page).get_data(as_text=True)
    assert "该作品与某网站图案高度相似。" in html and "经核查，图案为作者原创，异议不成立。" in html
    post_form(organiser, f"/console/calls/{call.id}/results/finalise", {}, page=console)
    db.session.refresh(call)
    assert call.results_final_at is not None
    assert zh("These results are final since %(date)s.", date="")[:4] in client.get(results_page).get_data(as_text=True)
    kinds = [e.kind for e in db.session.scalars(select(CallEvent).where(CallEvent.call_id == call.id))]
    assert {"results_published", "objection_filed", "objection_answered", "results_final"} <= set(kinds)


def make_department_of_another_city():
    from tests.helpers import make_department

    return make_department("杭州市规划局")


def test_an_entrant_sees_their_own_feedback_without_juror_names_and_nobody_else_sees_it(
        app, client, story, transport_organiser):
    call, entries = story["call"], story["entries"]
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 7, None)
        db.session.commit()
    author = entries[1].author
    log_in(client, author.email)
    html = client.get(f"/my/entries/{entries[1].id}/feedback").get_data(as_text=True)
    assert f"给作者的话{entries[1].id}" in html  # the jurors' notes to this entrant
    assert f"给作者的话{entries[0].id}" not in html  # never another entrant's
    assert "评委甲" not in html and "juror0@example.org" not in html  # never a juror's name
    assert "组织方备注" not in html  # never the notes to the organisers
    assert zh("Your entry is ranked %(rank)d of %(n)d in the final ranking.", rank=2, n=3) in html
    assert "8.00" in html  # the mean mark per criterion
    assert client.get(f"/my/entries/{entries[0].id}/feedback").status_code in (403, 404)
    other = app.test_client()
    log_in(other, entries[3].author.email)
    html = other.get(f"/my/entries/{entries[3].id}/feedback").get_data(as_text=True)
    assert zh("Your entry did not go beyond “%(round)s”.", round=story["expert"].title) in html
    assert zh_n("%(num)d entry advanced, the lowest of them scoring %(score)s. Yours did not advance.",
                "%(num)d entries advanced, the lowest of them scoring %(score)s. Yours did not advance.", 3,
                score="7.00") in html


def _words(html: str) -> str:
    """The page's text with its tags out and its spaces folded, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_feedback_results_and_round_pages_read_as_whole_sentences_in_both_languages(
        app, client, story, transport_organiser):
    """Sentences are whole messages, never translated pieces glued with English punctuation."""
    call, entries = story["call"], story["entries"]
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 7, None)
        db.session.commit()
    log_in(client, entries[3].author.email)
    feedback = f"/my/entries/{entries[3].id}/feedback"
    chinese = _words(client.get(feedback).get_data(as_text=True))
    assert "3件作品晋级，其中最低分为7.00。您的作品未晋级。" in chinese
    client.get("/lang/en")
    english = _words(client.get(feedback).get_data(as_text=True))
    assert "3 entries advanced, the lowest of them scoring 7.00. Yours did not advance." in english
    organiser = app.test_client()
    log_in(organiser, transport_organiser.email)
    expert = story["expert"]
    criterion = expert.criteria[0]
    round_page = _words(organiser.get(f"/console/rounds/{expert.id}/").get_data(as_text=True))
    assert f"{criterion.name}（{criterion.weight}%）" in round_page
    organiser.get("/lang/en")
    round_page = _words(organiser.get(f"/console/rounds/{expert.id}/").get_data(as_text=True))
    assert f"{criterion.name} ({criterion.weight}%)" in round_page
    public = app.test_client()
    results = _words(public.get(f"/calls/{call.id}/results").get_data(as_text=True))
    assert re.search(r"\b1（1–\d）", results), "a rank and its interval, with full-width brackets"
    public.get("/lang/en")
    results = _words(public.get(f"/calls/{call.id}/results").get_data(as_text=True))
    assert re.search(r"\b1 \(1–\d\)", results)


def test_exports_carry_every_part_of_each_score_for_organisers_only(app, client, story, transport_organiser):
    call = story["call"]
    log_in(client, transport_organiser.email)
    csv_text = client.get(f"/console/calls/{call.id}/results.csv").get_data(as_text=True)
    header, *lines = csv_text.lstrip("\ufeff").strip().splitlines()
    assert header.startswith("rank,entry_id,title") and "criterion:美观" in header and "public_score" in header
    assert len(lines) == 4 and lines[0].startswith(f"1,{story['entries'][0].id},")
    data = client.get(f"/console/calls/{call.id}/results.json").get_json(force=True)
    assert data["formula"]["expert_weight"] == 70 and data["ranking"][0]["expert_rank"] == 1
    citizen = app.test_client()
    make_user("nosy@example.org")
    log_in(citizen, "nosy@example.org")
    assert citizen.get(f"/console/calls/{call.id}/results.csv").status_code == 403
    assert citizen.get(f"/console/calls/{call.id}/results.json").status_code == 403


def big_call(department, organiser, n_entries, n_jurors, n_votes):
    """A finished call made with bulk inserts: n entries, a jury of n_jurors (k = 3), a votes round."""
    call = make_call(department, state="closed", title=f"大赛{n_entries}")
    call.expert_weight, call.public_weight = 70, 30
    db.session.commit()
    now = utcnow()
    authors = db.session.execute(insert(User).returning(User.id), [
        {"email": f"a{n_entries}-{i}@example.org", "display_name": f"作者{i}", "password_hash": "x",
         "group": list(ParticipantGroup)[i % 4], "locale": "zh", "created_at": now - timedelta(days=30),
         "email_confirmed_at": now, "session_token": f"t{n_entries}-{i}"} for i in range(n_entries)]).scalars().all()
    entry_ids = db.session.execute(insert(Entry).returning(Entry.id), [
        {"call_id": call.id, "author_id": a, "slot": 0, "channel": "web", "status": EntryStatus.APPROVED,
         "title": f"作品{i}", "created_at": now, "updated_at": now} for i, a in enumerate(authors)]).scalars().all()
    recount(db.session.connection(), [call.id])  # past the session: counted as its hook would
    expert = Round(call=call, position=1, kind=RoundKind.EXPERT, title="专家评审", opens_at=now - timedelta(days=9),
                   closes_at=now - timedelta(days=8), normalise=True)
    from contest.models import Criterion

    expert.criteria = [Criterion(position=0, name="美观", weight=60), Criterion(position=1, name="可行性", weight=40)]
    db.session.add(expert)
    db.session.flush()
    jurors = db.session.execute(insert(User).returning(User.id), [
        {"email": f"j{n_entries}-{i}@example.org", "display_name": f"评委{i}", "password_hash": "x",
         "group": "citizen", "locale": "zh", "created_at": now, "session_token": f"j{n_entries}-{i}"}
        for i in range(n_jurors)]).scalars().all()
    members = db.session.execute(insert(RoundMember).returning(RoundMember.id), [
        {"round_id": expert.id, "user_id": u, "email": f"j{n_entries}-{i}@example.org", "invited_at": now,
         "role": "juror", "name": ""} for i, u in enumerate(jurors)]).scalars().all()
    db.session.execute(insert(RoundEntry), [{"round_id": expert.id, "entry_id": e, "added_at": now,
                                             "advanced": i < n_entries // 2} for i, e in enumerate(entry_ids)])
    rows = [{"round_id": expert.id, "member_id": members[(i + j) % n_jurors], "entry_id": e, "position": i,
             "created_at": now, "recusal_reason": ""} for i, e in enumerate(entry_ids) for j in range(3)]
    assignments = db.session.execute(insert(Assignment).returning(Assignment.id, Assignment.entry_id),
                                     rows).all()
    c1, c2 = (c.id for c in expert.criteria)
    db.session.execute(insert(Score), [
        {"assignment_id": a, "marks": {str(c1): float(1 + (e * 7 + a) % 10), str(c2): float(1 + (e + a) % 10)},
         "submitted_at": now, "updated_at": now, "version": 1, "note_to_organisers": "", "note_to_entrant": ""}
        for a, e in assignments])
    expert.decided_at = now - timedelta(days=7)
    public = Round(call=call, position=2, kind=RoundKind.PUBLIC, title="公众投票", opens_at=now - timedelta(days=6),
                   closes_at=now - timedelta(days=1), public_mode=PublicMode.VOTES, votes_per_citizen=5)
    db.session.add(public)
    db.session.flush()
    finalists = entry_ids[:n_entries // 2]
    voters = db.session.execute(insert(User).returning(User.id), [
        {"email": f"v{n_entries}-{i}@example.org", "display_name": "v", "password_hash": "x", "group": "citizen",
         "locale": "zh", "created_at": now - timedelta(days=30), "email_confirmed_at": now,
         "session_token": f"v{n_entries}-{i}"} for i in range(n_votes // 5)]).scalars().all()
    db.session.execute(insert(Vote), [
        {"round_id": public.id, "user_id": v, "entry_id": finalists[(i * 5 + k) % len(finalists)],
         "created_at": now - timedelta(days=2), "address": "", "voided_reason": ""}
        for i, v in enumerate(voters) for k in range(5)])
    db.session.commit()
    return call


def test_the_results_page_runs_the_same_queries_for_twenty_or_two_thousand_entries(
        app, client, transport_commission, transport_organiser, count_queries):
    counts = []
    for n_entries, n_jurors, n_votes in ((20, 4, 50), (2000, 30, 20000)):
        call = big_call(transport_commission, transport_organiser, n_entries, n_jurors, n_votes)
        with app.test_request_context():
            results_service.publish(transport_organiser, call, 7, None)
            db.session.commit()
        assert call.results_snapshot["ranked"] == n_entries
        client.get(f"/calls/{call.id}/results")  # warm up
        with count_queries() as queries:
            response = client.get(f"/calls/{call.id}/results")
        assert response.status_code == 200
        counts.append(queries.n)
    print(f"results page: {counts[0]} queries with 20 entries, {counts[1]} with 2,000 entries and 20,000 votes")
    assert counts[0] == counts[1], counts


FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(1)"]


def _name_authors_with_formulas(story) -> None:
    """Three entrants whose display names and titles a spreadsheet would run as formulas."""
    for entry, formula_text in zip(story["entries"], FORMULAS, strict=False):
        entry.author.display_name = formula_text
        entry.title = formula_text
    db.session.commit()


def _formula_cells(text: str) -> list[str]:
    import csv
    import io

    assert text.startswith("\ufeff")
    return [value for row in csv.reader(io.StringIO(text[1:])) for value in row
            if value.startswith(("=", "+", "@", "\t", "\r")) or value.startswith("-") and not _number(value)]


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def test_the_results_export_escapes_formulas_and_is_never_cached(app, client, story, transport_organiser):
    _name_authors_with_formulas(story)
    call = story["call"]
    log_in(client, transport_organiser.email)
    response = client.get(f"/console/calls/{call.id}/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.get_data(as_text=True)
    for formula_text in FORMULAS:
        assert f"'{formula_text}".replace('"', '""') in text
    assert _formula_cells(text) == []


def test_every_sheet_of_a_calls_archive_escapes_formulas(app, client, story, transport_organiser, runner, tmp_path):
    import zipfile

    _name_authors_with_formulas(story)
    call = story["call"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    post_form(client, f"/console/calls/{call.id}/results/publish", {"notice_days": 5, "top_n": ""}, page=page)
    db.session.refresh(call)
    assert call.results_published_at is not None
    result = runner.invoke(args=["export-call", str(call.id), "--output", str(tmp_path / "call.zip")])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "call.zip") as archive:
        sheets = {name: archive.read(name).decode("utf-8") for name in archive.namelist()
                  if name.startswith("spreadsheets/")}
    assert {"spreadsheets/results.csv", "spreadsheets/entries.csv", "spreadsheets/scores.csv"} <= set(sheets)
    for name, text in sheets.items():
        assert _formula_cells(text) == [], name
    assert "'@SUM(1)" in sheets["spreadsheets/results.csv"] and "'+cmd" in sheets["spreadsheets/entries.csv"]


def test_a_notice_period_of_zero_days_makes_the_results_final_at_once_and_says_so(
        app, client, story, transport_organiser, outbox):
    call = story["call"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    for days, message in ((61, zh("The notice period must be between %(low)d and %(high)d days.", low=0, high=60)),
                          ("", zh("Give the length of the notice period."))):
        html = post_form(client, page + "/publish", {"notice_days": days, "top_n": ""}, page=page,
                         follow_redirects=True).get_data(as_text=True)
        assert message in html
        db.session.refresh(call)
        assert call.results_published_at is None

    response = post_form(client, page + "/publish", {"notice_days": 0, "top_n": ""}, page=page, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert zh("The results are published with no notice period: they are final.") in html
    assert zh("Give the length of the notice period.") not in html
    db.session.refresh(call)
    assert call.notice_days == 0
    assert call.results_published_at is not None and call.results_final_at == call.results_published_at
    final = db.session.scalar(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind == "results_final"))
    assert final.actor_id == transport_organiser.id and final.at == call.results_final_at
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "results.finalise"))
    assert audit.actor_id == transport_organiser.id and audit.detail == {"notice_days": 0}
    mail = last_mail(story["entries"][0].author.email)
    assert zh("The results are final: there was no notice period.") in mail.body

    public = app.test_client()
    assert zh("These results are final since %(date)s.", date="")[:4] in \
        public.get(f"/calls/{call.id}/results").get_data(as_text=True)
    timeline = public.get(f"/calls/{call.id}").get_data(as_text=True)
    assert zh("The results were published with no notice period: they were final at once.") in timeline
    assert zh("The results were published. Objections are open until %(end)s.", end="")[:6] not in timeline

    citizen = make_user("objector@example.org")
    log_in(public, citizen.email)
    results_page = f"/calls/{call.id}/results"
    html = post_form(public, results_page + "/objections", {"entry_id": "", "reason": "太快了"}, page=results_page,
                     follow_redirects=True).get_data(as_text=True)
    assert zh("Objections can be filed only during the notice period.") in html
    assert db.session.scalar(select(Objection.id)) is None


# The stored snapshot: computed once, dropped when what it came from changes ------------------------------------

def _same_as_fresh(call) -> None:
    """The stored snapshot equals one computed now from the tables (but for when it was computed)."""
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    stored = results_service.stored.whole(call)
    assert stored is not None
    with_time = replace(results_service.compute(call), computed_at=None)
    assert replace(stored, computed_at=None).to_json() == with_time.to_json()


def test_the_preview_is_stored_once_and_dropped_when_a_vote_is_voided(app, client, story, transport_organiser,
                                                                    count_queries):
    call, public, entries = story["call"], story["public"], story["entries"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    assert client.get(page).status_code == 200
    first = results_service.stored.summary(db.session.get(Call, call.id))
    assert first is not None and first.ranked == 4
    _same_as_fresh(call)
    assert client.get(page).status_code == 200  # read again, not computed again
    assert results_service.stored.summary(db.session.get(Call, call.id)).computed_at == first.computed_at
    public_votes = {place.entry: place for place in results_service.stored.rows(call)}
    assert public_votes[entries[1].id].public.score == 3
    # The organisers find a vote for B that should not count, and void it on the round's page.
    ballot = db.session.scalar(select(Vote.id).where(Vote.round_id == public.id, Vote.entry_id == entries[1].id,
                                                     Vote.voided_at.is_(None)).order_by(Vote.id))
    round_page = f"/console/rounds/{public.id}/"
    response = post_form(client, f"/console/rounds/{public.id}/void", {"ballot": [str(ballot)],
                                                                        "reason": "同一账号重复操作"}, page=round_page)
    assert response.status_code == 302
    assert results_service.stored.summary(db.session.get(Call, call.id)) is None  # the preview is dropped
    html = client.get(page).get_data(as_text=True)
    assert "同一账号重复操作" in html
    rows = {row.entry: row for row in results_service.stored.rows(db.session.get(Call, call.id))}
    assert rows[entries[1].id].public.score == 2
    _same_as_fresh(call)


def test_the_preview_is_computed_again_after_a_late_score(app, client, call_with_scored_round, transport_organiser):
    call, round_ = call_with_scored_round["call"], call_with_scored_round["round"]
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{call.id}/results"
    assert client.get(page).status_code == 200
    before = {row.entry: row for row in results_service.stored.rows(db.session.get(Call, call.id))}
    assert before
    # The organisers give the jury a day more; a juror sends a late sheet; the day passes.
    round_.closes_at = utcnow() + timedelta(days=1)
    db.session.commit()
    member, assignment = call_with_scored_round["late"]
    with app.test_request_context():
        round_service.save_score(member, assignment, {c.id: "1" for c in round_.criteria}, "", "", submit=True,
                                 version=assignment.score.version if assignment.score else None)
        db.session.commit()
    assert results_service.stored.summary(db.session.get(Call, call.id)) is None
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(page).status_code == 200
    after = {row.entry: row for row in results_service.stored.rows(db.session.get(Call, call.id))}
    assert after[assignment.entry_id].expert.score != before[assignment.entry_id].expert.score
    _same_as_fresh(call)


@pytest.fixture
def call_with_scored_round(app, transport_commission, transport_organiser):
    """A closed call with one jury round of four entries, over: every sheet sent but one, left unsent."""
    call = make_call(transport_commission)
    db.session.commit()
    entries = approved_entries(call, 4)
    call.closes_at = utcnow() - timedelta(days=4)
    db.session.commit()
    round_ = make_round(call, transport_organiser, k=2)
    jurors = [make_juror(round_, f"late{n}@example.org", name=f"评委乙{n}") for n in range(2)]
    late = None
    with app.test_request_context():
        round_service.assign(transport_organiser, round_)
        for _user, member in jurors:
            for assignment in round_service.juror_list(member):
                if late is None:
                    late = (member, assignment)
                    continue
                round_service.save_score(member, assignment, {c.id: "8" for c in round_.criteria}, "", "",
                                         submit=True, version=None)
        db.session.commit()
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return {"call": call, "round": round_, "entries": entries, "late": late}
