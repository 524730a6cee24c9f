"""Told when something happens: a citizen whose objection is answered, a juror given entries to score; and one
mail per person per event, however many of their entries it concerns."""
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from contest.extensions import db
from contest.models import Assignment, MailKind, Objection, OutboxMail, RoundEntry, RoundMember
from contest.models.types import utcnow
from contest.services import results as results_service
from contest.services import rounds as round_service
from contest.services.entries import EntryData, Upload, submit_entry
from contest.services.notifications import send_digests
from tests.helpers import (
    approved_entries,
    link_in,
    log_in,
    make_call,
    make_juror,
    make_public_round,
    make_round,
    make_user,
    picture_bytes,
    post_form,
    zh,
)


def mails_to(outbox, email: str) -> list:
    return [m for m in outbox if m.to == email]


def said(locale: str, message: str, **variables) -> str:
    with force_locale(locale):
        return gettext(message, **variables)


@pytest.fixture
def railing_call(transport_commission):
    return make_call(transport_commission)


def entries_by(app, author, call, titles, approve=True):
    """One author's entries to the call (approved, unless told otherwise)."""
    from contest.models import EntryStatus

    made = []
    for n, title in enumerate(titles):
        with app.test_request_context():
            entry = submit_entry(author, call, EntryData(title=title), [Upload(picture_bytes(300 + n), "图")],
                                 accepted_terms=True)
        if approve:
            entry.status = EntryStatus.APPROVED
        db.session.commit()
        made.append(entry)
    return made


# An objection answered ----------------------------------------------------------------------------

@pytest.fixture
def published(app, railing_call, transport_organiser):
    """The call's results, published: its only round (a votes round) is over."""
    approved_entries(railing_call, 2)
    votes = make_public_round(railing_call, transport_organiser)
    votes.opens_at, votes.closes_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    db.session.commit()
    with app.test_request_context():
        results_service.publish(transport_organiser, railing_call, 7, None)
        db.session.commit()
    return railing_call


def object_and_answer(app, client, call, organiser, objector, answer="经核查，图案为作者原创，异议不成立。"):
    log_in(client, objector.email)
    results = f"/calls/{call.id}/results"
    response = post_form(client, f"/calls/{call.id}/results/objections", {"entry_id": "", "reason": "评分不透明。"},
                         page=results)
    assert response.status_code == 302
    objection = db.session.scalar(select(Objection).where(Objection.author_id == objector.id))
    console = app.test_client()
    log_in(console, organiser.email)
    response = post_form(console, f"/console/calls/{call.id}/results/objections/{objection.id}/answer",
                         {"answer": answer}, page=f"/console/calls/{call.id}/results")
    assert response.status_code == 302
    return objection, console


def test_the_citizen_whose_objection_is_answered_is_mailed_once_with_the_answer(
        app, client, published, transport_organiser, outbox):
    objector = make_user("objector@example.org", name="较真的市民")
    objection, console = object_and_answer(app, client, published, transport_organiser, objector)
    [mail] = mails_to(outbox, objector.email)
    assert mail.subject == said("zh", "Your objection to the results of “%(call)s” is answered", call=published.title)
    assert "评分不透明。" in mail.body and "经核查，图案为作者原创，异议不成立。" in mail.body
    assert link_in(mail) == f"/calls/{published.id}/results"
    [row] = db.session.scalars(select(OutboxMail).where(OutboxMail.to == objector.email)).all()
    assert row.kind is MailKind.OBJECTION

    # A corrected answer is published, not mailed again.
    post_form(console, f"/console/calls/{published.id}/results/objections/{objection.id}/answer",
              {"answer": "更正：异议不成立。"}, page=f"/console/calls/{published.id}/results")
    assert db.session.get(Objection, objection.id).answer == "更正：异议不成立。"
    assert len(mails_to(outbox, objector.email)) == 1


def test_the_answer_is_mailed_in_the_objectors_language(app, client, published, transport_organiser, outbox):
    objector = make_user("reader@example.org", name="Ann", locale="en")
    object_and_answer(app, client, published, transport_organiser, objector, answer="It is original.")
    [mail] = mails_to(outbox, objector.email)
    assert mail.subject == f"Your objection to the results of “{published.title}” is answered"
    assert "It is original." in mail.body


def test_an_objector_who_turned_the_kind_off_gets_nothing_and_a_digest_reader_gets_it_in_the_digest(
        app, client, another_client, published, transport_organiser, outbox):
    quiet = make_user("quiet@example.org", name="安静")
    log_in(client, quiet.email)
    kinds = [kind.value for kind in MailKind if kind is not MailKind.OBJECTION]
    response = post_form(client, "/account/notifications", {"kinds": kinds, "delivery": "single"})
    assert response.status_code == 302
    object_and_answer(app, another_client, published, transport_organiser, quiet)
    assert mails_to(outbox, quiet.email) == []

    patient = make_user("patient@example.org", name="耐心")
    patient.mail_digest = True
    db.session.commit()
    object_and_answer(app, app.test_client(), published, transport_organiser, patient)
    assert mails_to(outbox, patient.email) == []
    assert send_digests() == 1
    [digest] = mails_to(outbox, patient.email)
    assert said("zh", "Your objection to the results of “%(call)s” is answered", call=published.title) in digest.body


def test_the_choices_page_offers_the_objection_mail(client, citizen):
    log_in(client, citizen.email)
    html = client.get("/account/notifications").get_data(as_text=True)
    assert zh("My objection to the results was answered") in html
    assert 'value="objection"' in html


# Entries assigned to a juror ---------------------------------------------------------------------

@pytest.fixture
def jury_round(railing_call, transport_organiser):
    approved_entries(railing_call, 4)
    round_ = make_round(railing_call, transport_organiser, k=1)
    jurors = [make_juror(round_, f"juror{n}@example.org", name=f"评委{n}")[0] for n in range(2)]
    return round_, jurors


def test_a_juror_is_mailed_once_when_entries_are_assigned_not_once_per_entry(
        app, client, jury_round, transport_organiser, outbox):
    round_, jurors = jury_round
    jurors[1].locale = "en"
    db.session.commit()
    log_in(client, transport_organiser.email)
    page = f"/console/rounds/{round_.id}/"
    assert post_form(client, f"/console/rounds/{round_.id}/assign", page=page).status_code == 302
    for juror in jurors:
        [mail] = mails_to(outbox, juror.email)
        mine = db.session.scalar(select(db.func.count()).select_from(Assignment).join(
            RoundMember, RoundMember.id == Assignment.member_id).where(RoundMember.user_id == juror.id))
        assert mine == 2
        with force_locale(juror.locale):
            assert mail.subject == gettext("Entries to score in “%(round)s”", round=round_.title)
            assert ngettext("%(num)d entry of “%(round)s” is assigned to you.",
                            "%(num)d entries of “%(round)s” are assigned to you.", 2, round=round_.title) in mail.body
        assert link_in(mail) == f"/jury/rounds/{round_.id}/"

    # Assigning again gives nobody anything new, and tells nobody anything.
    post_form(client, f"/console/rounds/{round_.id}/assign", page=page)
    assert all(len(mails_to(outbox, juror.email)) == 1 for juror in jurors)


def test_a_juror_given_one_more_entry_is_told_of_that_one(app, client, jury_round, transport_organiser, outbox):
    round_, jurors = jury_round
    with app.test_request_context():
        round_service.assign(transport_organiser, round_)
        db.session.commit()
    outbox.clear()
    entry_id = db.session.scalar(select(RoundEntry.entry_id).where(RoundEntry.round_id == round_.id)
                                 .order_by(RoundEntry.entry_id))
    log_in(client, transport_organiser.email)
    response = post_form(client, f"/console/rounds/{round_.id}/entries/{entry_id}/one-more",
                         page=f"/console/rounds/{round_.id}/")
    assert response.status_code == 302
    [mail] = list(outbox)
    assert mail.to in {juror.email for juror in jurors}
    assert zh("%(num)d entry of “%(round)s” is assigned to you.", num=1, round=round_.title) in mail.body


# One mail per person per event ---------------------------------------------------------------------

def test_an_author_of_two_entries_gets_one_mail_when_both_are_moderated(
        app, client, railing_call, transport_organiser, outbox):
    author = make_user("prolific@example.org", name="多产的作者")
    first, second = entries_by(app, author, railing_call, ["海派栏杆", "江南栏杆"], approve=False)
    outbox.clear()
    log_in(client, transport_organiser.email)
    response = post_form(client, f"/console/calls/{railing_call.id}/moderation",
                         {"entry": [first.id, second.id], "approve": "y"})
    assert response.status_code == 302
    [mail] = mails_to(outbox, author.email)
    assert mail.subject == zh("Your entries are public")
    assert "海派栏杆" in mail.body and "江南栏杆" in mail.body


def test_an_author_of_two_entries_gets_one_mail_when_a_round_decides(
        app, client, railing_call, transport_organiser, outbox):
    author = make_user("prolific@example.org", name="多产的作者")
    going, staying = entries_by(app, author, railing_call, ["海派栏杆", "江南栏杆"])
    approved_entries(railing_call, 1)
    round_ = make_round(railing_call, transport_organiser, k=1)
    make_juror(round_, "juror@example.org")
    with app.test_request_context():
        round_service.assign(transport_organiser, round_)
        db.session.commit()
    round_.closes_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    outbox.clear()
    log_in(client, transport_organiser.email)
    response = post_form(client, f"/console/rounds/{round_.id}/decide", {"mode": "hand", "entry": [going.id]},
                         page=f"/console/rounds/{round_.id}/")
    assert response.status_code == 302
    assert db.session.scalar(select(RoundEntry.advanced).where(RoundEntry.entry_id == going.id)) is True
    [mail] = mails_to(outbox, author.email)
    assert mail.subject == zh("The jury's decision on your entries")
    body = mail.body
    assert zh("“%(title)s” has advanced.", title="海派栏杆") in body
    assert zh("“%(title)s” has not advanced.", title="江南栏杆") in body
    others = [m for m in outbox if m.to != author.email]
    assert [m.subject for m in others if m.to.startswith("entrant")] == [zh("The jury's decision on your entry")]


def test_an_author_of_two_entries_gets_one_results_mail_with_a_link_to_each_feedback(
        app, client, railing_call, transport_organiser, outbox):
    author = make_user("prolific@example.org", name="多产的作者")
    first, second = entries_by(app, author, railing_call, ["海派栏杆", "江南栏杆"])
    [alone] = approved_entries(railing_call, 1)
    votes = make_public_round(railing_call, transport_organiser)
    votes.opens_at, votes.closes_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    db.session.commit()
    outbox.clear()
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{railing_call.id}/results"
    response = post_form(client, page + "/publish", {"notice_days": 5, "top_n": ""}, page=page)
    assert response.status_code == 302
    [mail] = mails_to(outbox, author.email)
    assert mail.subject == zh("The results of “%(call)s” are published", call=railing_call.title)
    assert f"/my/entries/{first.id}/feedback" in mail.body and f"/my/entries/{second.id}/feedback" in mail.body
    [single] = mails_to(outbox, alone.author.email)
    assert link_in(single) == f"/my/entries/{alone.id}/feedback"


def test_one_mail_per_person_per_event_is_one_rule_for_every_sender(app, citizen, outbox):
    """The function every entry mail goes through: grouped by person, in the order given, each person's choices
    honoured."""
    from types import SimpleNamespace

    from contest.mail import send_once_each

    other = make_user("other@example.org", name="李四")
    other.mail_off = [MailKind.ADVANCED.value]
    db.session.commit()
    from contest.models import Call, Round

    call = Call(title="道路栏杆请您绘")  # never stored: the mail reads the titles only
    round_ = Round(title="专家评审")
    round_.call = call
    a, b, c = (SimpleNamespace(title=t, call=call) for t in ("甲", "乙", "丙"))
    news = [(citizen, SimpleNamespace(entry=a, advanced=True)), (other, SimpleNamespace(entry=b, advanced=True)),
            (citizen, SimpleNamespace(entry=c, advanced=False))]
    with app.test_request_context():
        sent = send_once_each(news, "round_decided", kind=MailKind.ADVANCED, round=round_, url="https://x/my")
        db.session.commit()
    assert len(sent) == 1
    [mail] = list(outbox)
    assert mail.to == citizen.email and mail.body.index("甲") < mail.body.index("丙")
