"""Department walls and judging rights, object by object: the holes as they were found, then the matrix of every
route that takes an id, each tried by a user of another department, a juror of another round and another citizen."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import Assignment, DuplicateFlag, Entry, EntryStatus, RoundMember
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.rounds import add_juror_to, assign
from tests.helpers import (
    approved_entries,
    log_in,
    make_call,
    make_juror,
    make_organiser,
    make_round,
    make_user,
    picture_bytes,
    post_form,
    submit_design,
    zh,
)

# The holes, the way they were found -------------------------------------------------------------


def _self_made_juror(organiser, round_):
    """The organiser invites themselves to their own round and accepts."""
    member = RoundMember(round=round_, email=organiser.email, user=organiser, accepted_at=utcnow(),
                         invited_by_id=organiser.id)
    db.session.add(member)
    db.session.commit()
    return member


def test_an_organiser_cannot_assign_themselves_another_departments_entry(client, transport_commission,
                                                                         planning_bureau):
    """Hole 1: a draft call and a round of one's own, oneself as juror, and "one more juror" on another call's
    entry, unmoderated too."""
    theirs = make_call(transport_commission)
    hidden = approved_entries(theirs, 2)
    hidden[1].status = EntryStatus.SUBMITTED  # not moderated yet: nobody outside the call's staff may see it
    db.session.commit()
    planner = make_organiser(planning_bureau, "planner@example.org")
    own_call = make_call(planning_bureau, state="draft", title="口袋公园")
    own_round = make_round(own_call, planner, k=1)
    _self_made_juror(planner, own_round)
    log_in(client, planner.email)
    assert client.get(f"/console/rounds/{own_round.id}/").status_code == 200
    for entry in hidden:
        response = post_form(client, f"/console/rounds/{own_round.id}/entries/{entry.id}/one-more",
                             page=f"/console/rounds/{own_round.id}/")
        assert response.status_code == 404
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
        with client.application.test_request_context(), pytest.raises(ServiceError, match="该作品不在本轮评选之列"):
            add_juror_to(planner, own_round, entry.id)  # the service holds the rule, whoever calls it
        db.session.rollback()
        for picture in entry.images:  # the public may see an approved entry of a published call, not the other
            assert client.get(f"/media/{picture.image_id}/zoom").status_code == (
                200 if entry.status is EntryStatus.APPROVED else 404)


def test_an_assignment_outside_the_entrys_call_gives_no_right_to_it(client, transport_commission,
                                                                   planning_bureau):
    """Hole 1, the second half: an assignment row that names another call's entry (one made before the fix)
    shows neither the entry nor its images."""
    theirs = make_call(transport_commission)
    entry = approved_entries(theirs, 1)[0]
    entry.status = EntryStatus.SUBMITTED
    planner = make_organiser(planning_bureau, "planner@example.org")
    own_round = make_round(make_call(planning_bureau, state="draft", title="口袋公园"), planner, k=1)
    member = _self_made_juror(planner, own_round)
    stray = Assignment(round_id=own_round.id, member_id=member.id, entry_id=entry.id, position=1)
    db.session.add(stray)
    db.session.commit()
    log_in(client, planner.email)
    assert client.get(f"/jury/rounds/{own_round.id}/").status_code == 200
    assert client.get(f"/jury/assignments/{stray.id}").status_code in (403, 404)
    for picture in entry.images:
        assert client.get(f"/media/{picture.image_id}/zoom").status_code == 404
    assert entry.title not in client.get(f"/jury/rounds/{own_round.id}/").get_data(as_text=True)


def test_a_juror_stops_seeing_an_entry_once_it_is_withdrawn(client, another_client, transport_commission,
                                                           transport_organiser):
    """Hole 12 (last item): the author withdraws an entry under review; its juror no longer sees its images."""
    call = make_call(transport_commission)
    author = make_user("author@example.org", name="作者")
    log_in(another_client, author.email)
    assert submit_design(another_client, call, title="海派栏杆", images=[picture_bytes(61)]).status_code == 302
    entry = db.session.scalar(select(Entry).where(Entry.call_id == call.id))
    entry.status = EntryStatus.APPROVED
    db.session.commit()
    round_ = make_round(call, transport_organiser, k=1)
    juror, _member = make_juror(round_, "juror@example.org")
    assign(transport_organiser, round_)
    db.session.commit()
    assignment = db.session.scalar(select(Assignment))
    log_in(client, juror.email)
    image_id = entry.images[0].image_id
    assert client.get(f"/media/{image_id}/zoom").status_code == 200
    assert client.get(f"/jury/assignments/{assignment.id}").status_code == 200
    response = post_form(another_client, f"/entries/{entry.id}/withdraw", page="/my/entries")
    assert response.status_code == 302
    assert entry.status is EntryStatus.WITHDRAWN
    assert client.get(f"/media/{image_id}/zoom").status_code == 404
    assert client.get(f"/media/{image_id}/page").status_code == 404
    assert client.get(f"/jury/assignments/{assignment.id}").status_code in (403, 404)
    page = client.get(f"/jury/rounds/{round_.id}/")
    assert page.status_code == 200 and round_.title in page.get_data(as_text=True)
    assert "海派栏杆" not in page.get_data(as_text=True)


def test_the_duplicates_page_shows_only_entries_the_viewer_may_see(client, another_client, transport_commission,
                                                                  planning_bureau):
    """Hole 11: a design sent to a transport call is copied into a planning call; the planning bureau's flag
    shows that it matches something, but not the title, call or state of the transport entry (not public)."""
    theirs = make_call(transport_commission, title="道路栏杆请您绘")
    ours = make_call(planning_bureau, title="口袋公园设计")
    first, second = make_user("first@example.org", name="甲"), make_user("second@example.org", name="乙")
    log_in(another_client, first.email)
    assert submit_design(another_client, theirs, title="秘密栏杆", images=[picture_bytes(71)]).status_code == 302
    log_in(client, second.email)
    assert submit_design(client, ours, title="公园花坛", images=[picture_bytes(71, quality=60)]).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(DuplicateFlag)) == 1
    planner = make_organiser(planning_bureau, "planner@example.org")
    organiser = client.application.test_client()
    log_in(organiser, planner.email)
    page = organiser.get(f"/console/calls/{ours.id}/duplicates")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "公园花坛" in html
    assert "秘密栏杆" not in html and "道路栏杆请您绘" not in html
    assert zh("An entry you may not see") in html
    hidden = db.session.scalar(select(Entry).where(Entry.call_id == theirs.id))
    assert f"/entries/{hidden.id}\"" not in html
    assert all(f"/media/{p.image_id}/" not in html for p in hidden.images)
    # An administrator, who may see both entries, sees both sides of the flag.
    boss = make_user("boss@example.org", name="管理员", admin=True)
    administrator = client.application.test_client()
    log_in(administrator, boss.email)
    both = administrator.get(f"/console/calls/{ours.id}/duplicates").get_data(as_text=True)
    assert "公园花坛" in both and "秘密栏杆" in both and "道路栏杆请您绘" in both


# The matrix: every route that takes an id, tried by three outsiders -----------------------------
#
# The world: the transport commission runs an open call (an entry waiting for moderation, an approved one with
# its juror, a poster, an objection), a draft call (a public round, a meeting) and its department; its author
# has an API token. The planning bureau runs a call of its own with an expert round and its juror. The outsiders:
# the planning bureau's organiser, the juror of the planning round, and another citizen. Each id below is the
# transport commission's, except the `own_*` ones: the outsider's own call, round and assignment, through which
# a foreign id is reached (`/console/rounds/<own round>/entries/<their entry>/...`).

def _world(transport_commission, planning_bureau, transport_organiser):
    from datetime import timedelta

    from flask import current_app

    from contest.models import ApiToken, MeetingKind, Objection, Round
    from contest.services.api_tokens import create_token
    from contest.services.meetings import MeetingData, create_meeting
    from contest.services.posters import create_poster
    from tests.helpers import make_public_round

    call = make_call(transport_commission, title="道路栏杆请您绘")
    draft = make_call(transport_commission, state="draft", title="草稿征集")
    approved, pending = approved_entries(call, 2, start_seed=300)
    approved.title, pending.title = "红色栏杆甲", "待审栏杆乙"
    pending.status = EntryStatus.SUBMITTED
    db.session.commit()
    round_ = make_round(call, transport_organiser, k=1)
    juror, _member = make_juror(round_, "juror-a@example.org")
    assign(transport_organiser, round_)
    public_round = make_public_round(draft, transport_organiser)
    objection = Objection(call_id=call.id, entry_id=approved.id, author_id=pending.author_id, reason="不公平")
    db.session.add(objection)
    with current_app.test_request_context():
        meeting = create_meeting(transport_organiser, draft, MeetingData(
            title="田林长桌会", kind=MeetingKind.LONG_TABLE, held_at=utcnow() - timedelta(days=1)))
        poster = create_poster(transport_organiser, call, label="红色信箱 3号")
    token, _raw = create_token(pending.author, "作者的手机")
    db.session.commit()

    planner = make_organiser(planning_bureau, "planner@example.org")
    own_call = make_call(planning_bureau, title="口袋公园")
    own_entry = approved_entries(own_call, 1, start_seed=320)[0]
    own_round = make_round(own_call, planner, k=1)
    other_juror, _other_member = make_juror(own_round, "juror-b@example.org")
    assign(planner, own_round)
    citizen = make_user("someone@example.org", name="路人")
    db.session.commit()
    own_assignment = db.session.scalar(select(Assignment).where(Assignment.round_id == own_round.id))
    # A design of the planning call looks like the transport call's unmoderated one: a flag on the planner's page.
    db.session.add(DuplicateFlag(image_id=own_entry.images[0].image_id, other_image_id=pending.images[0].image_id,
                                 distance=3))
    from contest.models import Comment

    # A comment on the draft call (written before it was unpublished, say): nobody outside its staff sees it.
    draft_comment = Comment(call_id=draft.id, author_id=pending.author_id, body="草稿里的评论")
    db.session.add(draft_comment)
    raw_tokens = {}
    for outsider in (planner, other_juror, citizen):
        _row, raw_tokens[outsider.email] = create_token(outsider, "手机")
    db.session.commit()
    ids = dict(
        department=transport_commission.id, call=call.id, draft_call=draft.id, entry=pending.id,
        approved=approved.id, image=pending.images[0].image_id, approved_image=approved.images[0].image_id,
        round=round_.id, public_round=public_round.id,
        assignment=db.session.scalar(select(Assignment.id).where(Assignment.round_id == round_.id)),
        meeting=meeting.id, poster=poster.id, objection=objection.id, token=token.id, user=pending.author_id,
        own_call=own_call.id, own_round=own_round.id, own_assignment=own_assignment.id, own_entry=own_entry.id,
        own_department=planning_bureau.id, comment=draft_comment.id)
    assert db.session.get(Round, ids["public_round"]) is not None and db.session.get(ApiToken, ids["token"])
    owners = {"staff": transport_organiser, "juror": juror, "author": pending.author}
    return ids, owners, [planner, other_juror, citizen], raw_tokens


# endpoint -> the requests that reach another department's objects: (method, url, owner). `owner` names who may
# have the page (checked first, GETs only, so that a wrong id cannot pass for a refusal); None for an action;
# "shows-nothing:<e-mail>" for that outsider's own page reaching a foreign object (an id in its query, a duplicate
# flag), which must work and show nothing of the other department's entries; the other outsiders are refused it.
CASES: dict[str, list[tuple[str, str, str | None]]] = {
    "public.call": [("GET", "/calls/{draft_call}", "staff")],
    "public.gallery": [("GET", "/calls/{draft_call}/entries", None)],
    "public.call_map": [("GET", "/calls/{draft_call}/map", None)],
    "public.entry": [("GET", "/entries/{entry}", "staff")],
    "public.results": [("GET", "/calls/{draft_call}/results", None)],
    "feeds.call_calendar": [("GET", "/calls/{draft_call}/calendar.ics", None)],
    "public.file_objection": [("POST", "/calls/{draft_call}/results/objections", None)],
    "public.follow": [("POST", "/calls/{draft_call}/follow", None)],
    "public.unfollow": [("POST", "/calls/{draft_call}/unfollow", None)],
    "media.image": [("GET", "/media/{image}/zoom", "staff"), ("GET", "/media/{image}/page", "author"),
                    ("GET", "/media/{approved_image}/original", "staff")],
    "submit.enter": [("GET", "/calls/{draft_call}/enter", None), ("POST", "/calls/{draft_call}/enter", None)],
    "submit.feedback": [("GET", "/my/entries/{entry}/feedback", None)],
    "submit.certificate": [("GET", "/my/entries/{entry}/certificate.pdf", None)],
    "submit.edit": [("GET", "/entries/{entry}/edit", "author"), ("POST", "/entries/{entry}/edit", None)],
    "submit.withdraw": [("POST", "/entries/{entry}/withdraw", None)],
    "vote.round": [("GET", "/rounds/{public_round}", None), ("GET", "/rounds/{round}", None)],
    "vote.cast": [("POST", "/rounds/{public_round}/votes/{entry}", None),
                  ("POST", "/rounds/{round}/votes/{approved}", None)],
    "vote.take_back": [("POST", "/rounds/{public_round}/votes/{entry}/take-back", None)],
    "vote.compare": [("GET", "/rounds/{public_round}/compare", None), ("POST", "/rounds/{public_round}/compare", None)],
    "console.department": [("GET", "/console/{department}/", "staff")],
    "console.new_call": [("GET", "/console/{department}/calls/new", "staff"),
                         ("POST", "/console/{department}/calls/new", None)],
    "console.edit_call": [("GET", "/console/calls/{call}/edit", "staff"), ("POST", "/console/calls/{call}/edit", None)],
    "console.call": [("GET", "/console/calls/{call}/", "staff")],
    "console.publish": [("POST", "/console/calls/{draft_call}/publish", None)],
    "console.moderation": [("GET", "/console/calls/{call}/moderation", "staff"),
                           ("POST", "/console/calls/{call}/moderation", None)],
    "console.duplicates": [("GET", "/console/calls/{call}/duplicates", "staff"),
                           ("GET", "/console/calls/{own_call}/duplicates", "shows-nothing:planner@example.org")],
    "console.staff_entry": [("GET", "/console/calls/{call}/enter", "staff"),
                            ("POST", "/console/calls/{call}/enter", None)],
    "console.entries_csv": [("GET", "/console/calls/{call}/entries.csv", "staff")],
    "console.figures_csv": [("GET", "/console/calls/{call}/figures.csv", "staff")],
    "console.entries_xlsx": [("GET", "/console/calls/{call}/entries.xlsx", "staff")],
    "console.figures_xlsx": [("GET", "/console/calls/{call}/figures.xlsx", "staff")],
    "console.ballots_csv": [("GET", "/console/calls/{call}/ballots.csv", "staff")],
    "console.ballots_xlsx": [("GET", "/console/calls/{call}/ballots.xlsx", "staff")],
    "console.meetings_csv": [("GET", "/console/calls/{call}/meetings.csv", "staff")],
    "console.meetings_xlsx": [("GET", "/console/calls/{call}/meetings.xlsx", "staff")],
    "console.follow_up_csv": [("GET", "/console/calls/{call}/follow-up.csv", "staff")],
    "console.follow_up_xlsx": [("GET", "/console/calls/{call}/follow-up.xlsx", "staff")],
    "console.results": [("GET", "/console/calls/{call}/results", "staff")],
    "console.save_awards": [("POST", "/console/calls/{call}/results/awards", None)],
    "console.publish_results": [("POST", "/console/calls/{call}/results/publish", None)],
    "console.retry_results": [("POST", "/console/calls/{call}/results/retry", None)],
    "console.answer_objection": [("POST", "/console/calls/{call}/results/objections/{objection}/answer", None),
                                 ("POST", "/console/calls/{own_call}/results/objections/{objection}/answer", None)],
    "console.finalise_results": [("GET", "/console/calls/{call}/results/finalise", "staff"),
                                 ("POST", "/console/calls/{call}/results/finalise", None)],
    "console.results_csv": [("GET", "/console/calls/{call}/results.csv", "staff")],
    "console.results_xlsx": [("GET", "/console/calls/{call}/results.xlsx", "staff")],
    "console.results_notice": [("GET", "/console/calls/{call}/results/notice.pdf", "staff")],
    "console.results_json": [("GET", "/console/calls/{call}/results.json", "staff")],
    "console.new_round": [("GET", "/console/calls/{call}/rounds/new", "staff"),
                          ("POST", "/console/calls/{call}/rounds/new", None)],
    "console.edit_round": [("GET", "/console/rounds/{round}/edit", "staff"),
                           ("POST", "/console/rounds/{round}/edit", None)],
    "console.new_public_round": [("GET", "/console/calls/{call}/public-rounds/new", "staff"),
                                 ("POST", "/console/calls/{call}/public-rounds/new", None)],
    "console.void": [("POST", "/console/rounds/{public_round}/void", None)],
    "console.round": [("GET", "/console/rounds/{round}/", "staff"),
                      ("GET", "/console/rounds/{public_round}/", "staff")],
    "console.invite": [("POST", "/console/rounds/{round}/invite", None)],
    "console.assign": [("POST", "/console/rounds/{round}/assign", None)],
    "console.close_round": [("GET", "/console/rounds/{round}/close", "staff"),
                            ("POST", "/console/rounds/{round}/close", None)],
    "console.close_public_round": [("GET", "/console/rounds/{public_round}/close-voting", "staff"),
                                   ("POST", "/console/rounds/{public_round}/close-voting", None)],
    "console.remove_round": [("GET", "/console/rounds/{public_round}/remove", "staff"),
                             ("POST", "/console/rounds/{public_round}/remove", None)],
    "console.remind": [("POST", "/console/rounds/{round}/remind", None)],
    "console.one_more_juror": [("POST", "/console/rounds/{round}/entries/{approved}/one-more", None),
                               ("POST", "/console/rounds/{own_round}/entries/{approved}/one-more", None),
                               ("POST", "/console/rounds/{own_round}/entries/{entry}/one-more", None)],
    "console.assignments": [("GET", "/console/rounds/{round}/assignments", "staff")],
    "console.remove_assignment": [("POST", "/console/rounds/{round}/assignments/{assignment}/remove", None),
                                  ("POST", "/console/rounds/{own_round}/assignments/{assignment}/remove", None)],
    "console.decide": [("POST", "/console/rounds/{round}/decide", None)],
    "jury.round": [("GET", "/jury/rounds/{round}/", "juror")],
    "jury.score": [("GET", "/jury/assignments/{assignment}", "juror"), ("POST", "/jury/assignments/{assignment}", None),
                   ("GET", "/jury/assignments/{own_assignment}?with={assignment}",
                    "shows-nothing:juror-b@example.org")],
    "jury.recuse": [("POST", "/jury/assignments/{assignment}/recuse", None)],
    "admin.department": [("GET", "/admin/departments/{department}", None),
                         ("POST", "/admin/departments/{department}", None)],
    "admin.delete_department": [("POST", "/admin/departments/{department}/delete", None)],
    "admin.user": [("GET", "/admin/users/{user}", None)],
    "admin.set_role": [("POST", "/admin/users/{user}/role", None)],
    "admin.add_membership": [("POST", "/admin/users/{user}/memberships", None)],
    "admin.remove_membership": [("POST", "/admin/users/{user}/memberships/{department}/remove", None)],
    "admin.disable": [("POST", "/admin/users/{user}/disable", None)],
    "admin.enable": [("POST", "/admin/users/{user}/enable", None)],
    "followup.call": [("GET", "/calls/{draft_call}/follow-up", None)],
    "followup.manage": [("GET", "/console/calls/{call}/follow-up", "staff"),
                        ("POST", "/console/calls/{call}/follow-up", None)],
    "meetings.console_list": [("GET", "/console/calls/{call}/meetings", "staff"),
                              ("POST", "/console/calls/{call}/meetings", None)],
    "meetings.console_meeting": [("GET", "/console/meetings/{meeting}", "staff"),
                                 ("POST", "/console/meetings/{meeting}", None)],
    "meetings.add_suggestion": [("POST", "/console/meetings/{meeting}/suggestions", None)],
    "meetings.meeting": [("GET", "/meetings/{meeting}", "staff")],
    "feeds.meeting_calendar": [("GET", "/meetings/{meeting}/calendar.ics", None)],
    "meetings.issues": [("GET", "/console/calls/{call}/issues", "staff"),
                        ("POST", "/console/calls/{call}/issues", None)],
    "meetings.merge": [("POST", "/console/calls/{call}/issues/merge", None)],
    "meetings.unmerge": [("POST", "/console/entries/{approved}/unmerge", None)],
    "posters.manage": [("GET", "/console/calls/{call}/posters", "staff"),
                       ("POST", "/console/calls/{call}/posters", None)],
    "posters.poster": [("GET", "/console/posters/{poster}", "staff")],
    "posters.png": [("GET", "/console/posters/{poster}/poster.png", None)],
    "posters.pdf": [("GET", "/console/posters/{poster}/poster.pdf", None)],
    "api.call": [("GET", "/api/v1/calls/{draft_call}", None)],
    "api.call_entries": [("GET", "/api/v1/calls/{draft_call}/entries", None),
                         ("POST", "/api/v1/calls/{draft_call}/entries", None)],
    "api.entry": [("GET", "/api/v1/entries/{entry}", None)],
    "api.call_entries_geojson": [("GET", "/api/v1/calls/{draft_call}/entries.geojson", None)],
    "api.call_clusters": [("GET", "/api/v1/calls/{draft_call}/clusters.geojson?bbox=30.6,120.8,31.9,122.2", None)],
    "api.call_built_geojson": [("GET", "/api/v1/calls/{draft_call}/built.geojson", None)],
    "api.call_rounds": [("GET", "/api/v1/calls/{draft_call}/rounds", None)],
    "api.call_results": [("GET", "/api/v1/calls/{draft_call}/results", None)],
    "api.call_follow_ups": [("GET", "/api/v1/calls/{draft_call}/follow-ups", None)],
    "api.submit_entry": [("POST", "/api/v1/calls/{draft_call}/entries", None)],
    "api.cast_vote": [("POST", "/api/v1/rounds/{public_round}/votes/{entry}", None),
                      ("POST", "/api/v1/rounds/{round}/votes/{approved}", None)],
    "api.take_back_vote": [("DELETE", "/api/v1/rounds/{public_round}/votes/{entry}", None)],
    "api_tokens.revoke": [("POST", "/account/api-tokens/{token}/revoke", None)],
    "comments.comment_on_call": [("POST", "/calls/{draft_call}/comments", None)],
    "comments.comment_on_entry": [("POST", "/entries/{entry}/comments", None)],
    "comments.endorse": [("POST", "/comments/{comment}/endorse", None)],
    "comments.report": [("GET", "/comments/{comment}/report", "staff"), ("POST", "/comments/{comment}/report", None)],
    "comments.queue": [("GET", "/console/calls/{call}/comments", "staff"),
                       ("POST", "/console/calls/{call}/comments", None)],
    "comments.moderate": [("POST", "/console/comments/{comment}/moderate", None)],
}

# Routes whose id names something public by design, or a secret that is itself the right to the page.
NOT_OBJECTS = {
    "statistics.department": "a department's figures are public statistics of published calls",
    "public.set_language": "the language code is no object",
    "public.set_text_size": "the text size is no object",
    "auth.confirm_email": "the signed token is the right; another's token confirms that person's address only",
    "auth.reset_password": "the signed token is the right, mailed to the address's owner",
    "public.unfollow_by_link": "the signed token is the right, mailed to the follower; it stops only their own "
                               "following of that one call (test_following)",
    "jury.invitation": "the signed invitation is the right; an accepted one is refused to other accounts "
                       "(test_rounds)",
}


def _rules_with_ids(app):
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.arguments - {"filename"}}


def test_every_route_with_an_id_has_its_case(app):
    missing = _rules_with_ids(app) - CASES.keys() - NOT_OBJECTS.keys()
    assert not missing, f"routes that take an id without a case in the matrix: {sorted(missing)}"
    stale = (CASES.keys() | NOT_OBJECTS.keys()) - _rules_with_ids(app)
    assert not stale, f"cases for routes that no longer exist: {sorted(stale)}"


def test_outsiders_reach_no_object_of_another_department(app, transport_commission, planning_bureau,
                                                        transport_organiser):
    from tests.helpers import csrf_token

    ids, owners, outsiders, raw_tokens = _world(transport_commission, planning_bureau, transport_organiser)
    # The page works for whoever may have it, so that a refusal below is the rule's and not a wrong id.
    for endpoint, requests in CASES.items():
        for method, url, owner in requests:
            if method == "GET" and owner in owners:
                client = app.test_client()
                log_in(client, owners[owner].email)
                response = client.get(url.format(**ids))
                assert response.status_code in (200, 302), (endpoint, url, owner, response.status_code)
    refused_everywhere = []
    for outsider in outsiders:
        client = app.test_client()
        log_in(client, outsider.email)
        token = csrf_token(client, "/account/profile")
        headers = {"Authorization": f"Bearer {raw_tokens[outsider.email]}"}
        for requests in CASES.values():
            for method, url, _owner in requests:
                address = url.format(**ids)
                kwargs = {"headers": headers} if address.startswith("/api/") else {}
                if method == "GET":
                    response = client.get(address, **kwargs)
                elif address.startswith("/api/"):
                    response = client.open(address, method=method, json={}, **kwargs)
                else:
                    response = client.open(address, method=method, data={"csrf_token": token}, **kwargs)
                if _owner and _owner.startswith("shows-nothing:"):
                    if outsider.email == _owner.partition(":")[2]:  # the one whose own page it is
                        html = response.get_data(as_text=True)
                        assert response.status_code == 200 and "<h1>" in html, address
                        for foreign in ("红色栏杆甲", "待审栏杆乙", f"/media/{ids['approved_image']}/",
                                        f"/media/{ids['image']}/", f"/entries/{ids['entry']}\""):
                            assert foreign not in html, (address, foreign)
                    elif response.status_code not in (403, 404):
                        refused_everywhere.append((outsider.email, method, address, response.status_code))
                elif response.status_code not in (403, 404):
                    refused_everywhere.append((outsider.email, method, address, response.status_code))
    assert not refused_everywhere, "reached: " + "\n".join(map(str, refused_everywhere))
    # Nothing of theirs changed hands.
    assert db.session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.entry_id.in_([ids["entry"], ids["approved"]]))) == 1


def test_ids_in_forms_reach_no_entry_of_another_department(app, transport_commission, planning_bureau,
                                                           transport_organiser):
    """The ids a form carries (ticked entries, an entry to merge or adopt, the entries picked to advance), posted
    by the planner through pages of their own call and round, change nothing of the transport call's entries."""
    from contest.models import EntryTag, FollowUp, Round, RoundEntry
    from contest.models.types import utcnow as now

    ids, _owners, (planner, _juror, _citizen), _tokens = _world(transport_commission, planning_bureau,
                                                                transport_organiser)
    own_round = db.session.get(Round, ids["own_round"])
    own_round.closes_at = now()  # scoring over, so that the round can be decided
    own_round.call.results_published_at = now()  # and entries adopted
    db.session.commit()
    client = app.test_client()
    log_in(client, planner.email)
    foreign = [str(ids["entry"]), str(ids["approved"])]
    call_page, round_page = f"/console/calls/{ids['own_call']}", f"/console/rounds/{ids['own_round']}/"
    posts = [  # (the form's address, the page it sits on, what it sends)
        (f"{call_page}/moderation", f"{call_page}/moderation", {"entry": foreign, "approve": "y"}),
        (f"{call_page}/issues", f"{call_page}/issues", {"entry": foreign, "name": "停车与快递", "add": "y"}),
        (f"{call_page}/issues/merge", f"{call_page}/issues", {
            "merge-entry_id": ids["approved"], "merge-into_id": ids["own_entry"], "merge-reason": "同一设计",
            "merge-submit": "y"}),
        (f"{call_page}/follow-up", f"{call_page}/follow-up", {"adopt-entry_id": ids["approved"], "adopt-submit": "y"}),
        (f"{round_page}decide", round_page, {"mode": "hand", "entry": foreign, "submit": "y"}),
    ]
    for url, page, data in posts:
        assert client.get(page).status_code == 200, page
        response = post_form(client, url, data, page=page)
        assert response.status_code in (200, 302, 400), (url, response.status_code)
    pending, approved = db.session.get(Entry, ids["entry"]), db.session.get(Entry, ids["approved"])
    assert pending.status is EntryStatus.SUBMITTED and approved.status is EntryStatus.APPROVED
    assert approved.merged_into_id is None
    assert db.session.scalar(select(func.count()).select_from(EntryTag).where(EntryTag.entry_id.in_(
        [pending.id, approved.id]))) == 0
    assert db.session.scalar(select(FollowUp.id).where(FollowUp.entry_id == approved.id)) is None
    assert db.session.scalar(select(func.count()).select_from(RoundEntry).where(
        RoundEntry.round_id == own_round.id, RoundEntry.entry_id.in_([pending.id, approved.id]))) == 0
    assert own_round.decided_at is None
