"""A verified mobile number: a code sent through the SMS interface verifies it; five wrong codes lock the number;
codes expire; a number is on one account only; a round can require one, and refuses a vote or a comparison
without it (web and API) saying how to add one; no page, download or API answer shows the number."""
from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import AuditEvent, Comparison, PhoneCode, User, Vote
from contest.models.types import utcnow
from contest.sms import sms_outbox
from tests.helpers import (
    approved_entries,
    bearer,
    log_in,
    make_call,
    make_public_round,
    make_token,
    make_voter,
    post_form,
    rows_holding,
    zh,
)

NUMBER, TYPED = "+8613812345678", "138 1234 5678"


def ask_code(client, typed=TYPED):
    return post_form(client, "/account/phone", {"number": typed}, follow_redirects=True)


def last_code(app) -> str:
    with app.app_context():
        return re.search(r"(?<!\d)(\d{6})(?!\d)", sms_outbox()[-1].text).group(1)


def type_code(client, code):
    return post_form(client, "/account/phone/verify", {"code": code}, page="/account/phone", follow_redirects=True)


def test_a_code_sent_to_the_outbox_verifies_the_number_kept_only_as_its_hmac(app, client):
    user = make_voter("phone@example.org")
    log_in(client, user.email)
    assert zh("A code was sent to your phone. Type it below.") in ask_code(client).get_data(as_text=True)
    sms = sms_outbox()[-1]
    assert sms.to == NUMBER and len(sms_outbox()) == 1
    page = type_code(client, last_code(app)).get_data(as_text=True)
    assert zh("Your mobile number is verified.") in page
    assert zh("Verified: the number ending in %(digits)s.", digits="78") in page
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.phone_verified_at is not None and user.phone_last2 == "78"
    assert re.fullmatch(r"[0-9a-f]{64}", user.phone_key)
    code_row = db.session.scalar(select(PhoneCode).where(PhoneCode.user_id == user.id))
    assert code_row.used_at is not None and last_code(app) not in code_row.code_hash
    for needle in ("13812345678", "8613812345678", "1234567"):
        assert rows_holding(needle) == [], needle
    # The same code does not verify twice.
    assert zh("This code has expired or was never sent: ask for a new one.") in \
        type_code(client, last_code(app)).get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)).all()[-2:] == \
        ["user.phone_code_sent", "user.phone_verified"]


def test_five_wrong_codes_lock_the_number_and_a_code_expires(app, client, another_client):
    user = make_voter("phone@example.org")
    log_in(client, user.email)
    ask_code(client)
    right = last_code(app)
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    for _n in range(4):
        assert zh("The code is not correct.") in type_code(client, wrong).get_data(as_text=True)
    fifth = type_code(client, wrong).get_data(as_text=True)
    assert zh("Too many wrong codes were typed for this number: try again after %(when)s.", when="")[:8] in fifth
    assert zh("Too many wrong codes were typed for this number: try again after %(when)s.", when="")[:8] in \
        type_code(client, right).get_data(as_text=True)
    # Locked for every account, and a new code is not sent while it lasts.
    other = make_voter("other@example.org")
    log_in(another_client, other.email)
    sent = len(sms_outbox())
    assert zh("Too many wrong codes were typed for this number: try again after %(when)s.", when="")[:8] in \
        ask_code(another_client).get_data(as_text=True)
    assert len(sms_outbox()) == sent
    db.session.expire_all()
    assert db.session.get(User, user.id).phone_verified_at is None

    # After the lock a new code can be sent; once it has expired it no longer verifies.
    db.session.execute(PhoneCode.__table__.update().values(locked_until=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    ask_code(client)
    db.session.execute(PhoneCode.__table__.update().where(PhoneCode.used_at.is_(None))
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert zh("This code has expired or was never sent: ask for a new one.") in \
        type_code(client, last_code(app)).get_data(as_text=True)


def test_a_number_belongs_to_one_account(app, client, another_client):
    first, second = make_voter("first@example.org"), make_voter("second@example.org")
    log_in(client, first.email)
    ask_code(client)
    type_code(client, last_code(app))
    log_in(another_client, second.email)
    page = ask_code(another_client, "+86 138-1234-5678").get_data(as_text=True)
    assert zh("This number is already on another account. One number belongs to one account.") in page
    assert zh("Enter a mainland China mobile number: eleven digits starting with 1.") in \
        ask_code(another_client, "12345").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, second.id).phone_key is None


def test_codes_are_rate_limited_per_number(app, client, another_client):
    first, second = make_voter("first@example.org"), make_voter("second@example.org")
    log_in(client, first.email)
    log_in(another_client, second.email)
    for who in (client, another_client, client):
        assert ask_code(who).status_code == 200
    assert ask_code(another_client).status_code == 429  # a fourth code to this number within the hour
    assert len(sms_outbox()) == 3


@pytest.fixture
def phone_round(transport_commission, transport_organiser):
    call = make_call(transport_commission)
    entries = approved_entries(call, 3)
    call.closes_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    votes = make_public_round(call, transport_organiser, votes=3)
    votes.requires_phone = True
    db.session.commit()
    return votes, entries


def test_a_round_that_requires_a_phone_refuses_a_vote_without_one_and_says_how_to_add_one(
        app, client, phone_round):
    round_, entries = phone_round
    user = make_voter("voter@example.org")
    log_in(client, user.email)
    page = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert zh("This round asks each voter for a verified mobile number, so that each person has one voice.") in page
    assert 'href="/account/phone"' in page
    refusal = zh("This round asks each voter for a verified mobile number: add one under “My account”, "
                 "“Mobile number”, then vote.")
    assert refusal in page
    voted = post_form(client, f"/rounds/{round_.id}/votes/{entries[0].id}", page=f"/rounds/{round_.id}",
                      follow_redirects=True)
    assert refusal in voted.get_data(as_text=True)
    token = make_token(app.test_client(), user.email)
    api = client.post(f"/api/v1/rounds/{round_.id}/votes/{entries[0].id}", headers=bearer(token))
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "not_eligible"
    assert api.get_json()["error"]["message"] == refusal.replace("&#34;", '"')
    assert db.session.scalars(select(Vote)).all() == []

    ask_code(client)
    type_code(client, last_code(app))
    post_form(client, f"/rounds/{round_.id}/votes/{entries[0].id}", page=f"/rounds/{round_.id}")
    assert client.post(f"/api/v1/rounds/{round_.id}/votes/{entries[1].id}", headers=bearer(token)).status_code in \
        (200, 201)
    db.session.commit()
    assert len(db.session.scalars(select(Vote)).all()) == 2


def test_a_pairwise_round_that_requires_a_phone_refuses_a_comparison_without_one(
        app, client, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    approved_entries(call, 3)
    call.closes_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    pairs = make_public_round(call, transport_organiser, mode="pairwise")
    pairs.requires_phone = True
    db.session.commit()
    user = make_voter("voter@example.org")
    log_in(client, user.email)
    page = client.get(f"/rounds/{pairs.id}/compare", follow_redirects=True).get_data(as_text=True)
    assert zh("This round asks each voter for a verified mobile number: add one under “My account”, "
              "“Mobile number”, then vote.") in page
    assert db.session.scalars(select(Comparison)).all() == []


def test_the_organisers_round_form_has_the_setting(organiser_client, railing_call):
    page = organiser_client.get(f"/console/calls/{railing_call.id}/public-rounds/new").get_data(as_text=True)
    assert zh("Voters need a verified mobile number") in page and 'name="requires_phone"' in page


def test_no_page_download_or_api_answer_shows_the_number(app, client, phone_round, transport_organiser):
    round_, entries = phone_round
    user = make_voter("voter@example.org")
    log_in(client, user.email)
    ask_code(client)
    type_code(client, last_code(app))
    post_form(client, f"/rounds/{round_.id}/votes/{entries[0].id}", page=f"/rounds/{round_.id}")
    token = make_token(app.test_client(), user.email)
    seen = [client.get(p).get_data(as_text=True) for p in ("/account/profile", "/account/phone",
                                                             f"/rounds/{round_.id}")]
    seen.append(json.dumps(client.get("/api/v1/me", headers=bearer(token)).get_json()))
    archive = zipfile.ZipFile(io.BytesIO(post_form(client, "/account/my-data").data))
    data = archive.read("data.json").decode()
    assert json.loads(data)["account"]["phone_last2"] == "78" and "phone_key" not in data
    seen.append(data)
    staff = app.test_client()
    log_in(staff, transport_organiser.email)
    for page in (f"/console/calls/{round_.call_id}/entries.csv", f"/console/rounds/{round_.id}/integrity",
                 f"/console/calls/{round_.call_id}/results"):
        seen.append(staff.get(page).get_data(as_text=True))
    for text in seen:
        for needle in ("13812345678", "138 1234 5678", "1234 5678", "+86"):
            assert needle not in text


class Provider(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Provider.received.append((self.headers["Authorization"], json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


def test_the_http_backend_posts_to_the_provider(app_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = app_factory(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{server.server_port}/send",
                          SMS_HTTP_TOKEN="provider-key")
        with app.app_context():
            user = make_voter("phone@example.org")
            client = app.test_client()
            log_in(client, user.email)
            assert zh("A code was sent to your phone. Type it below.") in ask_code(client).get_data(as_text=True)
            authorization, body = Provider.received[-1]
            assert authorization == "Bearer provider-key" and body["to"] == NUMBER
            code = re.search(r"(?<!\d)(\d{6})(?!\d)", body["text"]).group(1)
            assert sms_outbox() == []
            assert zh("Your mobile number is verified.") in type_code(client, code).get_data(as_text=True)
        server.shutdown()
        # A provider that does not answer (its port still open, nobody serving it) within the time allowed: the page
        # says so and nothing is stored as sent.
        app = app_factory(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{server.server_port}/send",
                          SMS_HTTP_TIMEOUT=0.5)
        with app.app_context():
            other = make_voter("other@example.org")
            client = app.test_client()
            log_in(client, other.email)
            page = ask_code(client, "13900001111").get_data(as_text=True)
            assert zh("The text message could not be sent just now. Please try again in a few minutes.") in page
            assert db.session.scalars(select(PhoneCode).where(PhoneCode.user_id == other.id)).all() == []
    finally:
        server.server_close()
