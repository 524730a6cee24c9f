"""A person's own data: the privacy page, and "download my data" holding everything the account made (entries
with their pictures, votes, comparisons, objections, jury work, tokens, mails), nobody else's, and no secret."""
from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from contest.extensions import db
from contest.models import AuditEvent, Entry, RoundMember
from contest.models.types import utcnow
from contest.services import public as public_service
from contest.services.api_tokens import create_token
from contest.services.personal_data import owned_tables
from tests.helpers import (
    approved_entries,
    log_in,
    make_call,
    make_public_round,
    make_round,
    make_voter,
    post_form,
    submit_design,
    zh,
)


def test_the_privacy_page_speaks_both_languages_and_is_linked_from_every_page(client):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/privacy"' in home
    page = client.get("/privacy").get_data(as_text=True)
    assert "个人信息保护法" in page and "<h1>隐私说明</h1>" in page
    client.get("/lang/en")
    page = client.get("/privacy").get_data(as_text=True)
    assert "Personal Information Protection Law" in page and "<h1>Privacy</h1>" in page


def test_my_data_needs_a_login_and_a_posted_form(client, citizen):
    response = client.get("/account/my-data")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    log_in(client, citizen.email)
    assert client.get("/account/my-data").status_code == 200
    assert client.post("/account/my-data", data={}).status_code == 400  # no CSRF token: nothing is made


def test_the_download_holds_everything_the_account_made_and_nothing_else(
        client, app, transport_commission, transport_organiser):
    call = make_call(transport_commission)
    others = approved_entries(call, 2)
    voter = make_voter("voter@example.org", name="投票人")
    log_in(client, voter.email)
    assert submit_design(client, call, title="我的栏杆").status_code == 302
    own = db.session.scalar(select(Entry).where(Entry.title == "我的栏杆"))
    public = make_public_round(call, transport_organiser, votes=3)
    with app.test_request_context():
        public_service.cast_vote(voter, public, others[0])
    expert = make_round(make_call(transport_commission, title="另一个征集"), transport_organiser)
    db.session.add(RoundMember(round=expert, email=voter.email, user=voter, accepted_at=utcnow()))
    create_token(voter, "我的手机")
    db.session.commit()

    response = post_form(client, "/account/my-data", page="/account/my-data")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == "voter@example.org"
    assert [e["title"] for e in data["entry"]] == ["我的栏杆"]
    assert [v["entry_id"] for v in data["vote"]] == [others[0].id]
    assert [m["round_id"] for m in data["round_member"]] == [expert.id]
    assert [t["name"] for t in data["api_token"]] == ["我的手机"]
    pictures = [n for n in archive.namelist() if n.startswith("pictures/")]
    assert pictures == [f"pictures/entry-{own.id}-1.jpg"]
    assert archive.read(pictures[0])[:2] == b"\xff\xd8"  # the picture itself
    text = archive.read("data.json").decode()
    for secret in ("password_hash", "session_token", "token_hash", voter.password_hash):
        assert secret not in text
    for stranger in others:
        assert stranger.author.email not in text and stranger.title not in text
    # Taking one's data is recorded, without the data.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.data_downloaded"))
    assert event.actor_id == voter.id and "voter@example.org" not in json.dumps(event.detail or {})


def test_every_table_that_names_a_person_is_in_the_download(app):
    """The rule is read off the schema: a table with an owner column is included without a list to keep."""
    names = {table.name for table, _column in owned_tables()}
    assert {"entry", "vote", "comparison", "objection", "round_member", "api_token", "outbox_mail",
            "department_member", "vote_allowance", "shown_pair"} <= names


def test_the_page_says_what_is_in_it(client, citizen):
    log_in(client, citizen.email)
    page = client.get("/account/my-data").get_data(as_text=True)
    assert zh("Download my data") in page
    assert zh("Your password is never in it. Read how your data is used on the privacy page.") in page
