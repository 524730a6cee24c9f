"""Nobody loses their way at the door: an invitation holds through registration, confirmation and login, and every
"log in" link leads back to the page it was on (only ever to a page of this site)."""
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import RoundMember
from contest.models.types import utcnow
from contest.services import results as results_service
from tests.helpers import (
    approved_entries,
    last_mail,
    link_in,
    log_in,
    make_call,
    make_public_round,
    make_round,
    make_user,
    post_form,
    zh,
)

HREF = 'href="([^"]*)"'


@pytest.fixture
def railing_call(transport_commission):
    return make_call(transport_commission)


@pytest.fixture
def expert_round(railing_call, transport_organiser):
    approved_entries(railing_call, 2)
    return make_round(railing_call, transport_organiser, k=1)


def invite(app, round_, organiser, email="expert@example.org"):
    console = app.test_client()
    log_in(console, organiser.email)
    response = post_form(console, f"/console/rounds/{round_.id}/invite", {"email": email, "name": "周教授"},
                         page=f"/console/rounds/{round_.id}/")
    assert response.status_code == 302
    return link_in(last_mail(email))


def link_named(html: str, text: str) -> str:
    """The address of the link whose text is `text` (unescaped, as a browser follows it)."""
    import re

    for match in re.finditer(r'<a [^>]*href="([^"]*)"[^>]*>([^<]*)</a>', html):
        if match.group(2).strip() == text:
            return unescape(match.group(1))
    raise AssertionError(f"no link “{text}” on the page")


def next_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("next", [None])[0]


def register_on(client, page: str, email: str, password: str = "long enough password"):
    """Fill in the registration form of `page` as a browser does (the fields it shows, as it shows them)."""
    html = client.get(page).get_data(as_text=True)
    import re

    hidden = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    hidden.update(re.findall(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', html))
    data = {name: unescape(value) for name, value in hidden.items()}
    data.update({"email": email, "display_name": "周教授", "group": "professional", "password": password,
                 "confirm": password})
    return client.post(page, data=data)


# Invitations that hold ----------------------------------------------------------------------------

def test_a_juror_invited_by_mail_registers_confirms_logs_in_and_lands_on_the_invitation(
        app, client, transport_organiser, expert_round, outbox):
    invitation = invite(app, expert_round, transport_organiser)
    page = client.get(invitation).get_data(as_text=True)
    assert zh("Log in, or create an account, to accept it.") in page
    register_page = link_named(page, zh("Create an account"))
    assert next_of(register_page) == invitation

    form = client.get(register_page).get_data(as_text=True)
    assert 'value="expert@example.org"' in form  # the invited address, filled in
    assert zh("Once you have confirmed your address and logged in, you come back to where you were.") in form
    response = register_on(client, register_page, "expert@example.org")
    assert response.status_code == 302, response.get_data(as_text=True)
    check_mail = client.get(response.location).get_data(as_text=True)
    assert next_of(link_named(check_mail, zh("Log in"))) == invitation

    confirmation = link_in(last_mail("expert@example.org"))
    response = client.get(confirmation)
    assert response.status_code == 302
    assert response.location.startswith("/account/login") and next_of(response.location) == invitation
    login_page = client.get(response.location).get_data(as_text=True)
    assert zh("Thank you: your e-mail address is confirmed.") in login_page
    response = log_in(client, "expert@example.org", "long enough password", next_url=next_of(response.location))
    assert response.status_code == 302 and response.location == invitation

    assert zh("Accept the invitation") in client.get(invitation).get_data(as_text=True)
    response = post_form(client, invitation)
    assert response.status_code == 302 and response.location == f"/jury/rounds/{expert_round.id}/"
    member = db.session.scalar(select(RoundMember))
    assert member.user.email == "expert@example.org" and member.accepted_at is not None


def test_a_juror_who_logged_in_before_confirming_goes_straight_back_to_the_invitation(
        app, client, transport_organiser, expert_round, outbox):
    invitation = invite(app, expert_round, transport_organiser)
    register_page = link_named(client.get(invitation).get_data(as_text=True), zh("Create an account"))
    register_on(client, register_page, "expert@example.org")
    log_in(client, "expert@example.org", "long enough password")  # unconfirmed accounts may log in
    response = client.get(link_in(last_mail("expert@example.org")))
    assert response.status_code == 302 and response.location == invitation


def test_the_invited_address_can_be_changed_and_the_way_back_still_holds(
        app, client, transport_organiser, expert_round, outbox):
    invitation = invite(app, expert_round, transport_organiser)
    register_page = link_named(client.get(invitation).get_data(as_text=True), zh("Create an account"))
    register_on(client, register_page, "my.own@example.org")
    response = client.get(link_in(last_mail("my.own@example.org")))
    assert next_of(response.location) == invitation


def test_someone_with_an_account_who_registers_from_the_invitation_is_mailed_a_login_link_back_to_it(
        app, client, transport_organiser, expert_round, outbox):
    make_user("expert@example.org", name="周教授")
    invitation = invite(app, expert_round, transport_organiser)
    register_page = link_named(client.get(invitation).get_data(as_text=True), zh("Create an account"))
    response = register_on(client, register_page, "expert@example.org")
    assert response.status_code == 302  # the same page as for a new address: nothing told to strangers
    mail = last_mail("expert@example.org")
    assert mail.subject == zh("You already have an account")
    assert next_of(link_in(mail)) == invitation


def test_the_login_and_register_pages_pass_the_way_back_to_each_other(client):
    login_page = client.get("/account/login?next=/calls/7").get_data(as_text=True)
    assert next_of(link_named(login_page, zh("Create an account"))) == "/calls/7"
    register_page = client.get("/account/register?next=/calls/7").get_data(as_text=True)
    assert next_of(link_named(register_page, zh("Log in"))) == "/calls/7"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_a_way_back_off_the_site_is_dropped_at_every_step(client, outbox, target):
    register_page = client.get("/account/register", query_string={"next": target}).get_data(as_text=True)
    assert zh("Create an account") in register_page
    assert 'name="next"' not in register_page
    assert next_of(link_named(register_page, zh("Log in"))) is None
    response = register_on(client, "/account/register?" + f"next={target}", "new@example.org")
    assert response.status_code == 302 and "evil.example" not in response.location
    mail = last_mail("new@example.org")
    assert "evil.example" not in mail.body
    confirmation = link_in(mail)
    response = client.get(confirmation, query_string={"next": target})  # a link tampered with on the way
    assert response.status_code == 302 and response.location == "/account/login"


def test_a_confirmation_link_leads_back_only_to_a_page_of_the_site(client, outbox):
    response = register_on(client, "/account/register?next=/calls/3", "new@example.org")
    assert response.status_code == 302
    confirmation = link_in(last_mail("new@example.org"))
    assert next_of(confirmation) == "/calls/3"
    tampered = confirmation.replace("next=/calls/3", "next=//evil.example")
    assert tampered != confirmation
    response = client.get(tampered)
    assert response.status_code == 302 and response.location == "/account/login"


# Log in and come back -----------------------------------------------------------------------------

def test_log_in_to_vote_is_a_link_back_to_the_round(app, client, railing_call, transport_organiser):
    approved_entries(railing_call, 2)
    votes = make_public_round(railing_call, transport_organiser, mode="votes")
    html = client.get(f"/rounds/{votes.id}").get_data(as_text=True)
    login = link_named(html, zh("Log in to vote."))
    assert next_of(login) == f"/rounds/{votes.id}"
    voter = make_user("voter@example.org", name="投票人")
    voter.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    response = log_in(client, voter.email, next_url=next_of(login))
    assert response.status_code == 302 and response.location == f"/rounds/{votes.id}"


def test_a_round_that_is_not_open_says_so_without_a_login_link(client, railing_call, transport_organiser):
    approved_entries(railing_call, 2)
    upcoming = make_public_round(railing_call, transport_organiser, state="upcoming")
    html = client.get(f"/rounds/{upcoming.id}").get_data(as_text=True)
    assert zh("Voting has not opened yet.") in html
    assert zh("Log in to vote.") not in html


def test_log_in_to_object_is_a_link_back_to_the_results(app, client, railing_call, transport_organiser):
    approved_entries(railing_call, 2)
    votes = make_public_round(railing_call, transport_organiser, mode="votes")
    railing_call.closes_at = utcnow() - timedelta(days=3)
    votes.opens_at, votes.closes_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    db.session.commit()
    with app.test_request_context():
        results_service.publish(transport_organiser, railing_call, 7, None)
        db.session.commit()
    results = f"/calls/{railing_call.id}/results"
    html = client.get(results).get_data(as_text=True)
    assert next_of(link_named(html, zh("Log in to file an objection."))) == results


def test_the_menus_login_link_comes_back_to_the_page(client, railing_call):
    page = f"/calls/{railing_call.id}?tab=entries"
    html = client.get(page).get_data(as_text=True)
    assert next_of(link_named(html, zh("Log in"))) == page
    assert next_of(link_named(html, zh("Register"))) == page
    make_user("reader@example.org")
    response = log_in(client, "reader@example.org", next_url=f"/calls/{railing_call.id}")
    assert response.location == f"/calls/{railing_call.id}"


def test_the_menu_on_the_account_pages_keeps_their_way_back_and_never_points_at_itself(client):
    html = client.get("/account/login").get_data(as_text=True)
    assert next_of(link_named(html, zh("Register"))) is None
    html = client.get("/account/register?next=/calls/5").get_data(as_text=True)
    assert next_of(link_named(html, zh("Log in"))) == "/calls/5"
    html = client.get("/account/login?next=//evil.example").get_data(as_text=True)
    assert 'name="next"' not in html
    assert next_of(link_named(html, zh("Register"))) is None
    assert next_of(link_named(html, zh("Create an account"))) is None
