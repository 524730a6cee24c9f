"""Deleting one's own account: the account and its personal data go (searched for in every text column of every
table and in the storage), votes and comparisons stay counted without a person, entries in a finished call stay
as the record by a "withdrawn participant", entries in an open call are withdrawn with their pictures, each step
is in the audit log without personal data, and the login no longer works."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from contest.extensions import db
from contest.models import (
    ApiToken,
    AuditEvent,
    Entry,
    EntryStatus,
    ImageFile,
    RoundMember,
    User,
    Vote,
)
from contest.models.types import utcnow
from contest.services import results as results_service
from contest.services.api_tokens import create_token
from tests.helpers import (
    PASSWORD,
    log_in,
    make_call,
    make_organiser,
    make_round,
    post_form,
    rows_holding,
    submit_design,
    zh,
)


def files_holding(folder: Path, needles: list[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            found += [f"{path}: {n}" for n in needles if n.encode() in body or n in str(path)]
    return found


def test_deleting_an_account_leaves_nothing_of_the_person_and_the_results_unchanged(
        app, client, story, transport_organiser, transport_commission):
    call, (a, b, *_rest), public = story["call"], story["entries"], story["public"]
    person = a.author  # entered A (first in the published ranking), also voted and judged elsewhere
    email, name, phone = person.email, "删号的作者", "13812345678"
    person.display_name = name
    person.phone_last2 = phone[-2:]
    db.session.add(Vote(round_id=public.id, user_id=person.id, entry_id=b.id, address="203.0.113.7"))
    other_round = make_round(make_call(transport_commission, title="另一个征集"), transport_organiser)
    db.session.add(RoundMember(round=other_round, email=email, name=name, user=person, accepted_at=utcnow()))
    create_token(person, "我的手机")
    db.session.commit()
    with app.test_request_context():
        results_service.publish(transport_organiser, call, 0, None)  # final at once
    db.session.commit()
    open_call = make_call(transport_commission, title="口袋公园")
    log_in(client, email)
    assert submit_design(client, open_call, title="我的口袋公园").status_code == 302
    open_entry = db.session.scalar(select(Entry).where(Entry.title == "我的口袋公园"))
    open_files = [Path(app.config["UPLOAD_DIR"]) / f.key for picture in open_entry.pictures
                  for f in picture.image.files]
    assert open_files and all(p.exists() for p in open_files)
    results_page = f"/calls/{call.id}/results"
    anonymous = app.test_client()
    before = anonymous.get(results_page).get_data(as_text=True)
    assert a.title in before
    assert name in anonymous.get(f"/entries/{a.id}").get_data(as_text=True)
    snapshot_before = json.dumps(call.results_snapshot, sort_keys=True)
    with app.test_request_context():
        computed_before = results_service.compute(call).to_json() | {"computed_at": None}
    votes_before = db.session.scalar(select(func.count()).select_from(Vote).where(Vote.round_id == public.id))

    # The confirm page says what goes and what stays; a wrong password changes nothing.
    page = client.get("/account/delete").get_data(as_text=True)
    assert zh("Your votes and comparisons stay counted, but no longer say who made them.") in page
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 400  # no CSRF token
    wrong = post_form(client, "/account/delete", {"password": "not my password"})
    assert wrong.status_code == 200 and zh("The password is not correct.") in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).email == email

    response = post_form(client, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert client.get("/account/profile").status_code == 302  # logged out
    refused = log_in(client, email)  # the login no longer works
    assert refused.status_code == 200
    assert zh("The e-mail address or the password is not correct.") in refused.get_data(as_text=True)
    assert client.get("/account/profile").status_code == 302

    # Nothing of the person is left in any table or file.
    for needle in (email, name, phone, phone[-4:] + "@", "203.0.113.7"):
        assert rows_holding(needle) == [], needle
    assert files_holding(Path(app.config["UPLOAD_DIR"]), [email, name, phone]) == []
    assert not any(p.exists() for p in open_files)  # the open call's entry was withdrawn with its pictures
    db.session.refresh(open_entry)
    assert open_entry.status is EntryStatus.WITHDRAWN and open_entry.pictures == []
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == person.id)) == 0

    # The finished call's results are what they were: the stored snapshot, a fresh computation over the votes
    # and marks left, and the page, where only the name became "withdrawn participant".
    db.session.refresh(call)
    assert json.dumps(call.results_snapshot, sort_keys=True) == snapshot_before
    with app.test_request_context():
        assert results_service.compute(call).to_json() | {"computed_at": None} == computed_before
    assert db.session.scalar(select(func.count()).select_from(Vote).where(Vote.round_id == public.id)) == votes_before
    after = anonymous.get(results_page).get_data(as_text=True)
    assert after == before
    entry_page = anonymous.get(f"/entries/{a.id}").get_data(as_text=True)
    assert zh("Withdrawn participant") in entry_page and name not in entry_page
    db.session.refresh(a)
    assert a.status is EntryStatus.APPROVED and a.author_id == person.id
    assert db.session.scalar(select(func.count()).select_from(ImageFile)
                             .where(ImageFile.image_id.in_([p.image_id for p in a.pictures]))) > 0

    # The audit log records each step, with nothing of the person.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == person.id)
                                .order_by(AuditEvent.id)).all()
    actions = [e.action for e in events]
    assert actions[-1] == "user.delete" and "entry.withdraw" in actions and "entry.author_deleted" in actions
    deletion = events[-1]
    assert deletion.detail["entries_withdrawn"] == 1 and deletion.detail["entries_kept"] == 1
    assert deletion.detail["votes_kept"] == 1
    assert email not in json.dumps([e.detail for e in events], ensure_ascii=False)


def test_the_same_address_can_register_again_and_staff_are_refused(app, client, citizen, transport_commission):
    organiser = make_organiser(transport_commission, "organiser2@example.org")
    log_in(client, organiser.email)
    page = client.get("/account/delete").get_data(as_text=True)
    assert zh("An account with a department's role holds that department's record: ask an administrator to "
              "remove your roles first, then delete your account.") in page
    assert 'name="password"' not in page
    client.get("/account/delete")
    assert post_form(client, "/account/delete", {"password": PASSWORD}, page="/account/profile").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, organiser.id).deleted_at is None

    other = app.test_client()
    log_in(other, citizen.email)
    assert post_form(other, "/account/delete", {"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "citizen@example.org")) is None
    assert 'href="/account/delete"' in client.get("/account/profile").get_data(as_text=True)
