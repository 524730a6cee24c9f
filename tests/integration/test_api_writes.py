"""The API's writes for a mobile client: tokens made on the account page (shown once, stored as a hash,
revocable), and entries and votes that obey every rule the web forms obey, without a CSRF token but never on
a session cookie."""
import hashlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from contest.extensions import db
from contest.models import ApiToken, Channel, Entry, EntryStatus, Image, Vote
from contest.models.types import utcnow
from tests.helpers import (
    approved_entries,
    bearer,
    io_bytes,
    log_in,
    make_call,
    make_public_round,
    make_token,
    make_user,
    make_voter,
    picture_bytes,
    post_form,
    zh,
)
from tests.openapi_contract import Contract, private_leaks


@pytest.fixture
def contract(client):
    return Contract(client.get("/api/v1/openapi.json").get_json())


def send(client, call, token, *, title="手机上画的栏杆", images=1, accept=True, alt="红色栏杆的效果图", **fields):
    data = {"title": title, "description": "用手机拍的草图", **fields}
    if accept:
        data["accept_terms"] = "true"
    for n in range(1, images + 1):
        data[f"image-{n}"] = (io_bytes(picture_bytes(60 + n)), f"sketch-{n}.jpg")
        data[f"image-{n}-alt"] = alt
    return client.post(f"/api/v1/calls/{call.id}/entries", data=data, content_type="multipart/form-data",
                       headers=bearer(token) if token else {})


def counts():
    return (db.session.scalar(select(func.count()).select_from(Entry)),
            db.session.scalar(select(func.count()).select_from(Image)))


# Tokens -----------------------------------------------------------------------------------------------

def test_a_token_is_shown_once_stored_as_its_hash_and_revocable(client, app, citizen):
    token = make_token(client, citizen.email)
    row = db.session.scalar(select(ApiToken))
    assert row.user_id == citizen.id and row.name == "我的手机"
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    log_in(client, citizen.email)
    page = client.get("/account/api-tokens")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert token not in page.get_data(as_text=True) and "我的手机" in page.get_data(as_text=True)
    response = post_form(client, f"/account/api-tokens/{row.id}/revoke", page="/account/api-tokens")
    assert response.status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None


def test_the_token_page_needs_a_login_and_its_forms_need_their_csrf_token(client, app, citizen):
    assert client.get("/account/api-tokens").status_code == 302
    log_in(client, citizen.email)
    assert client.post("/account/api-tokens", data={"name": "偷偷做的"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert post_form(client, "/account/api-tokens", {"name": ""}).status_code == 400


def test_nobody_revokes_someone_elses_token(client, another_client, app, citizen):
    make_token(client, citizen.email)
    row = db.session.scalar(select(ApiToken))
    make_user("other@example.org", name="王五")
    log_in(another_client, "other@example.org")
    response = post_form(another_client, f"/account/api-tokens/{row.id}/revoke", page="/account/api-tokens")
    assert response.status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None


# Entries ----------------------------------------------------------------------------------------------

def test_an_entry_sent_through_the_api_is_a_mobile_entry_waiting_for_moderation(client, app, contract, citizen,
                                                                               transport_commission, outbox):
    call = make_call(transport_commission)
    token = make_token(client, citizen.email)
    response = send(client, call, token)
    body = contract.check(response, "post")
    assert response.status_code == 201 and private_leaks(response.get_data(as_text=True)) == []
    entry = db.session.get(Entry, body["id"])
    assert (entry.author_id, entry.channel, entry.status) == (citizen.id, Channel.MOBILE, EntryStatus.SUBMITTED)
    assert entry.images[0].alt_text == "红色栏杆的效果图" and entry.licence_accepted_at is not None
    assert body["message"] == zh("Thank you: your entry “%(title)s” has been received. We will write to you once "
                                 "it has been checked.", title="手机上画的栏杆").replace("&#34;", '"')
    assert any(m.to == citizen.email for m in outbox)
    # Not public until it is approved.
    assert client.get(f"/api/v1/entries/{entry.id}").status_code == 404
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


@pytest.mark.parametrize("case", ["after the deadline", "over the quota", "unconfirmed e-mail", "no licence",
                                  "no image", "no alt text", "not an image", "too many images", "draft call"])
def test_an_api_entry_obeys_every_rule_of_the_web_form_and_stores_nothing_when_refused(
        client, app, contract, citizen, transport_commission, case):
    call = make_call(transport_commission, entries_per_person=1, state="draft" if case == "draft call" else "open")
    user = citizen
    if case == "unconfirmed e-mail":
        user = make_user("new@example.org", confirmed=False)
    token = make_token(client, user.email)
    if case == "over the quota":
        assert send(client, call, token).status_code == 201
    if case == "after the deadline":
        call.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    before = counts()
    kwargs = {"no licence": {"accept": False}, "no image": {"images": 0}, "no alt text": {"alt": ""},
              "too many images": {"images": 4}}.get(case, {})
    if case == "not an image":
        response = client.post(f"/api/v1/calls/{call.id}/entries", headers=bearer(token),
                               content_type="multipart/form-data",
                               data={"title": "假图", "accept_terms": "1", "image-1": (io_bytes(b"GIF89a no"), "x.jpg"),
                                     "image-1-alt": "说明"})
    else:
        response = send(client, call, token, **kwargs)
    expected = 404 if case == "draft call" else 422
    assert response.status_code == expected, response.get_data(as_text=True)
    contract.check(response, "post")
    assert counts() == before, "nothing is stored"


def test_a_refusal_speaks_the_language_of_the_account(client, app, transport_commission):
    call = make_call(transport_commission, state="closed")
    english = make_user("en@example.org", locale="en")
    token = make_token(client, english.email)
    message = send(client, call, token).get_json()["error"]["message"]
    assert message.startswith("This call closed on")


@pytest.mark.parametrize("kind", ["idea", "design"])
@pytest.mark.parametrize("field,value,status", [("topic_id", "abc", 400), ("place_id", "-1", 400),
                                                ("place_id", "999999", 422), ("topic_id", "999999", 422)])
def test_bad_fields_are_refused_with_a_4xx_never_a_5xx(client, app, contract, citizen, transport_commission,
                                                       kind, field, value, status):
    from contest.models import CallKind

    call = make_call(transport_commission, kind=CallKind(kind), title="社区点子", images_min=0)
    token = make_token(client, citizen.email)
    response = send(client, call, token, images=0 if kind == "idea" else 1, **{field: value})
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 422:  # the rule that refused it, not a quota it never reached
        assert response.get_json()["error"]["message"] in (zh("Unknown place."), zh("Choose the topic of your idea."))
    contract.check(response, "post")
    assert counts() == (0, 0)


def test_without_a_valid_token_nothing_is_written(client, app, contract, citizen, transport_commission):
    call = make_call(transport_commission)
    token = make_token(client, citizen.email)
    for headers in ({}, bearer("pcd_not-a-token"), {"Authorization": f"Basic {token}"}):
        response = client.post(f"/api/v1/calls/{call.id}/entries", headers=headers, data={"title": "x"},
                               content_type="multipart/form-data")
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        contract.check(response, "post")
    row = db.session.scalar(select(ApiToken))
    row.revoked_at = utcnow()
    db.session.commit()
    assert contract.check(send(client, call, token), "post")["error"]["code"] == "unauthorized"
    row.revoked_at = None
    citizen.disabled_at = utcnow()
    db.session.commit()
    assert send(client, call, token).status_code == 401
    assert counts() == (0, 0)


def test_a_session_cookie_does_not_authenticate_the_api_and_the_web_forms_still_need_csrf(
        client, app, citizen, transport_commission):
    call = make_call(transport_commission)
    log_in(client, citizen.email)
    data = {"title": "靠 cookie 发来的", "accept_terms": "true",
            "image-1": (io_bytes(picture_bytes(5)), "a.jpg"), "image-1-alt": "图"}
    response = client.post(f"/api/v1/calls/{call.id}/entries", data=data, content_type="multipart/form-data")
    assert response.status_code == 401  # a cross-site form cannot ride on the visitor's cookie
    web = client.post(f"/calls/{call.id}/enter", content_type="multipart/form-data", data={
        "title": "没有令牌", "accept": "y", "topic_id": "0", "place_id": "0",
        "image-1": (io_bytes(picture_bytes(6)), "b.jpg"), "image-1-alt": "图"})
    assert web.status_code == 400  # the web form still needs its CSRF token
    assert counts() == (0, 0)


# Votes ------------------------------------------------------------------------------------------------

@pytest.fixture
def ballot(app, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    entries = approved_entries(call, 3)
    round_ = make_public_round(call, transport_organiser, votes=2)
    voter = make_voter("voter@example.org", name="投票人")
    return {"round": round_, "entries": entries, "voter": voter, "organiser": transport_organiser}


def vote(client, token, round_, entry, method="post"):
    return getattr(client, method)(f"/api/v1/rounds/{round_.id}/votes/{entry.id}", headers=bearer(token))


def ballots() -> int:
    return db.session.scalar(select(func.count()).select_from(Vote))


def test_a_vote_twice_is_stored_once_and_the_second_says_already(client, app, contract, ballot):
    token = make_token(client, ballot["voter"].email)
    round_, entry = ballot["round"], ballot["entries"][0]
    first = vote(client, token, round_, entry)
    assert first.status_code == 201 and contract.check(first, "post")["outcome"] == "counted"
    second = vote(client, token, round_, entry)
    assert second.status_code == 200 and contract.check(second, "post")["outcome"] == "already"
    assert second.get_json()["message"] == zh("You have already voted for this entry.")
    assert ballots() == 1
    back = vote(client, token, round_, entry, "delete")
    assert back.status_code == 200 and contract.check(back, "delete")["outcome"] == "taken_back"
    assert ballots() == 0
    again = vote(client, token, round_, entry, "delete")
    assert again.status_code == 422 and contract.check(again, "delete")["error"]["code"] == "refused"


def test_votes_keep_the_quota_and_the_eligibility_rules(client, app, contract, ballot):
    token = make_token(client, ballot["voter"].email)
    round_, (a, b, c) = ballot["round"], ballot["entries"]
    assert vote(client, token, round_, a).status_code == 201
    assert vote(client, token, round_, b).status_code == 201
    over = vote(client, token, round_, c)
    assert over.status_code == 422 and contract.check(over, "post")["error"]["code"] == "refused"
    assert ballots() == 2
    organiser_token = make_token(client, ballot["organiser"].email)
    refused = vote(client, organiser_token, round_, a)
    assert refused.status_code == 403 and contract.check(refused, "post")["error"]["code"] == "not_eligible"
    young = make_user("young@example.org")  # one person, one voice: a new account waits
    assert vote(client, make_token(client, young.email), round_, a).status_code == 403
    assert contract.check(vote(client, token, SimpleNamespace(id=987654), a), "post")["error"]["code"] == "not_found"
    assert ballots() == 2


def test_the_vote_rate_limit_holds_per_account_across_its_tokens(client, app, contract, ballot):
    app.config["VOTE_LIMIT_PER_ACCOUNT"] = "2/minute"
    ballot["round"].votes_per_citizen = 3
    phone, tablet = make_token(client, ballot["voter"].email), make_token(client, ballot["voter"].email, "平板")
    round_, entries = ballot["round"], ballot["entries"]
    assert vote(client, phone, round_, entries[0]).status_code == 201
    assert vote(client, tablet, round_, entries[1]).status_code == 201
    limited = vote(client, phone, round_, entries[2])
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert contract.check(limited, "post")["error"]["code"] == "rate_limited"
    assert ballots() == 2
