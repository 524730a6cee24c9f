"""The account flows: register, confirm, log in and out, reset a password, change it, and end sessions."""
import time

import itsdangerous
import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import AuditEvent, ParticipantGroup, User
from contest.services.accounts import find_user_by_email
from tests.helpers import (
    PASSWORD,
    SITE,
    bearer,
    last_mail,
    link_in,
    log_in,
    log_out,
    make_token,
    make_user,
    post_form,
    zh,
)

NEW_PASSWORD = "a much better passphrase"


def register(client, email="new@example.org", password="long enough password", **extra):
    data = {"email": email, "display_name": "林小雨", "group": "student", "password": password,
            "confirm": password, **extra}
    return post_form(client, "/account/register", data)


def is_logged_in(client) -> bool:
    return client.get("/account/profile").status_code == 200


def test_registering_creates_an_unconfirmed_account_with_a_scrypt_hash(client, outbox):
    response = register(client, email="New@Example.org")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/check-mail")
    user = find_user_by_email("new@example.org")
    assert user.email == "new@example.org"
    assert user.group is ParticipantGroup.STUDENT
    assert user.display_name == "林小雨"
    assert user.password_hash.startswith("scrypt:")
    assert user.email_confirmed_at is None
    assert user.locale == "zh"
    mail = last_mail("new@example.org")
    assert "/account/confirm/" in mail.body


def test_registering_in_english_sends_the_mail_in_english(client, outbox):
    client.get("/lang/en")
    register(client)
    assert last_mail("new@example.org").subject == "Confirm your e-mail address"
    assert find_user_by_email("new@example.org").locale == "en"


def test_confirming_by_the_signed_link(client, outbox):
    register(client)
    response = client.get(link_in(last_mail("new@example.org")))
    assert response.status_code == 302
    assert find_user_by_email("new@example.org").email_confirmed_at is not None


def test_the_confirmation_mail_links_to_the_configured_site_not_to_the_host_asked(app, client, outbox):
    app.config["BASE_URL"] = SITE  # the request below comes to http://localhost: the mail must not follow it
    assert register(client).status_code == 302
    mail = last_mail("new@example.org")  # sent by the worker, outside any request
    link = link_in(mail, SITE)
    assert link.startswith("/account/confirm/")
    assert client.get(link).status_code == 302
    assert find_user_by_email("new@example.org").email_confirmed_at is not None


def test_a_tampered_confirmation_link_confirms_nothing(client, outbox):
    register(client)
    link = link_in(last_mail("new@example.org"))
    response = client.get(link[:-3] + "abc")
    assert response.status_code == 400
    assert find_user_by_email("new@example.org").email_confirmed_at is None


def test_registering_an_address_twice_tells_the_owner_not_the_stranger(client, citizen, outbox):
    response = register(client, email=citizen.email)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/check-mail")
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1
    assert last_mail(citizen.email).subject == zh("You already have an account")


def test_registration_refuses_a_short_password_with_a_clear_message(client):
    response = register(client, password="short")
    assert response.status_code == 200
    assert zh("The password must have at least %(n)d characters.", n=10) in response.get_data(as_text=True)
    assert find_user_by_email("new@example.org") is None


def test_registration_takes_as_long_for_a_known_address_as_for_a_new_one(client, app, citizen, outbox,
                                                                          production_password_cost):
    """Timing must not tell strangers who has an account: both paths hash the password and send one mail. The work
    each request makes is timed by this thread's CPU clock (the test client serves it in this thread), which other
    processes busy on the machine do not move, as they move the wall clock."""
    from statistics import median

    from tests.helpers import csrf_token

    app.config.update(REGISTER_LIMIT_PER_ADDRESS="1000/hour", REGISTER_LIMIT_PER_ACCOUNT="1000/hour")

    def timed(email: str) -> float:
        data = {"email": email, "display_name": "林小雨", "group": "student", "password": "long enough password",
                "confirm": "long enough password", "csrf_token": csrf_token(client, "/account/register")}
        started = time.thread_time()
        response = client.post("/account/register", data=data)
        elapsed = time.thread_time() - started
        assert response.status_code == 302 and response.headers["Location"].startswith("/account/check-mail")
        return elapsed

    timed("warm-up@example.org")
    known, new = [], []
    for n in range(15):  # interleaved, so that a busy moment of the machine falls on both alike
        known.append(timed(citizen.email))
        new.append(timed(f"new{n}@example.org"))
    assert abs(median(known) - median(new)) <= 0.2 * max(median(known), median(new)), (median(known), median(new))
    assert [m.subject for m in outbox if m.to == citizen.email] == [zh("You already have an account")] * 15


COMMON = ("This password is one of the most common ones, which are tried first: choose another, such as a few "
          "words of your own.")
REPETITIVE = ("This password only repeats a few characters or counts up or down (such as aaaa or 1234): choose "
              "another, such as a few words of your own.")
# aaaaaaaaaa is on the list of common passwords as well; the repetitive ones below are not.
WEAK = [("password123", COMMON), ("Password123", COMMON), ("woaini1314", COMMON), ("mmmmmmmmmmmm", REPETITIVE),
        ("aaaaaaaaaa", COMMON), ("abcabcabcabc", REPETITIVE), ("klmnopqrstuv", REPETITIVE), ("0987654321", COMMON)]


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_registration_refuses_a_common_or_repetitive_password(client, password, message):
    response = register(client, password=password)
    assert response.status_code == 200
    assert zh(message) in response.get_data(as_text=True)
    assert find_user_by_email("new@example.org") is None


def test_the_weak_password_message_speaks_english_too(client):
    client.get("/lang/en")
    response = register(client, password="password123")
    assert response.status_code == 200 and COMMON in response.get_data(as_text=True)


@pytest.mark.parametrize(("password", "message"), WEAK[:1] + WEAK[3:4])
def test_changing_the_password_refuses_a_common_or_repetitive_one(client, citizen, password, message):
    log_in(client, citizen.email)
    response = post_form(client, "/account/password",
                         {"current_password": PASSWORD, "password": password, "confirm": password})
    assert response.status_code == 200 and zh(message) in response.get_data(as_text=True)
    assert log_in(client.application.test_client(), citizen.email, PASSWORD).status_code == 302


@pytest.mark.parametrize(("password", "message"), WEAK[:1] + WEAK[3:4])
def test_a_reset_refuses_a_common_or_repetitive_password(client, citizen, outbox, password, message):
    post_form(client, "/account/forgot-password", {"email": citizen.email})
    link = link_in(last_mail(citizen.email))
    response = post_form(client, link, {"password": password, "confirm": password})
    assert response.status_code == 200 and zh(message) in response.get_data(as_text=True)
    assert log_in(client.application.test_client(), citizen.email, PASSWORD).status_code == 302


def test_registration_refuses_a_bad_email_and_changes_nothing(client):
    response = register(client, email="not an address")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 0


def test_logging_in_and_out(client, citizen):
    response = log_in(client, citizen.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert is_logged_in(client)
    assert find_user_by_email(citizen.email).last_login_at is not None
    log_out(client)
    assert not is_logged_in(client)


def test_the_email_is_matched_whatever_its_case(client, citizen):
    log_in(client, "Citizen@EXAMPLE.org")
    assert is_logged_in(client)


def test_a_wrong_password_and_an_unknown_email_get_the_same_message(client, citizen):
    wrong = log_in(client, citizen.email, "not the password").get_data(as_text=True)
    unknown = log_in(client, "nobody@example.org", "not the password").get_data(as_text=True)
    message = zh("The e-mail address or the password is not correct.")
    assert message in wrong and message in unknown
    assert not is_logged_in(client)


def test_a_disabled_account_cannot_log_in(client, app):
    user = make_user("gone@example.org")
    user.disabled_at = user.created_at
    db.session.commit()
    response = log_in(client, "gone@example.org")
    assert response.status_code == 200
    assert not is_logged_in(client)


def test_the_session_rotates_on_login(client, citizen):
    client.get("/account/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        token_before = session["csrf_token"]
    assert log_in(client, citizen.email).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != token_before


def test_the_chosen_language_survives_login(client, citizen):
    client.get("/lang/en")
    log_in(client, citizen.email)
    assert "My account" in client.get("/account/profile").get_data(as_text=True)


def test_logging_out_ends_every_session_of_the_user(client, another_client, citizen):
    log_in(client, citizen.email)
    log_in(another_client, citizen.email)
    saved_cookie = client.get_cookie("session").value
    log_out(client)
    assert not is_logged_in(another_client)
    replay = client.application.test_client()
    replay.set_cookie("session", saved_cookie)
    assert replay.get("/account/profile").status_code == 302


def test_resetting_a_forgotten_password(client, another_client, citizen, outbox):
    log_in(another_client, citizen.email)
    response = post_form(client, "/account/forgot-password", {"email": citizen.email})
    assert response.headers["Location"].startswith("/account/check-mail")
    link = link_in(last_mail(citizen.email))
    assert client.get(link).status_code == 200
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    # Every session that existed before the reset is over, and only the new password works.
    assert not is_logged_in(another_client)
    assert log_in(client, citizen.email, PASSWORD).status_code == 200
    assert log_in(client, citizen.email, NEW_PASSWORD).status_code == 302


def test_a_reset_link_works_only_once(client, citizen, outbox):
    post_form(client, "/account/forgot-password", {"email": citizen.email})
    link = link_in(last_mail(citizen.email))
    post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get(link).status_code == 400


def test_a_reset_link_expires(client, citizen, outbox, monkeypatch):
    two_hours_ago = int(time.time()) - 7200
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: two_hours_ago)
    post_form(client, "/account/forgot-password", {"email": citizen.email})
    monkeypatch.undo()
    response = client.get(link_in(last_mail(citizen.email)))
    assert response.status_code == 400
    assert zh("This password reset link has expired. Please ask for a new one.") in response.get_data(as_text=True)


def test_asking_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, outbox):
    response = post_form(client, "/account/forgot-password", {"email": "nobody@example.org"})
    assert response.headers["Location"].startswith("/account/check-mail")
    assert outbox == []


def test_changing_the_password_keeps_this_session_and_ends_the_others(client, another_client, citizen):
    log_in(client, citizen.email)
    log_in(another_client, citizen.email)
    response = post_form(client, "/account/password",
                         {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert is_logged_in(client)
    assert not is_logged_in(another_client)


def test_changing_the_password_needs_the_current_one(client, citizen):
    log_in(client, citizen.email)
    response = post_form(client, "/account/password",
                         {"current_password": "wrong one!", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 200
    assert log_in(client.application.test_client(), citizen.email, PASSWORD).status_code == 302


def test_editing_the_profile(client, citizen):
    log_in(client, citizen.email)
    response = post_form(client, "/account/profile",
                         {"display_name": "张三丰", "group": "professional", "locale": "en"})
    assert response.status_code == 302
    user = find_user_by_email(citizen.email)
    assert (user.display_name, user.group, user.locale) == ("张三丰", ParticipantGroup.PROFESSIONAL, "en")


def test_resending_the_confirmation_link(client, outbox):
    make_user("late@example.org", confirmed=False)
    log_in(client, "late@example.org")
    post_form(client, "/account/confirm/resend", page="/account/profile")
    client.get(link_in(last_mail("late@example.org")))
    assert find_user_by_email("late@example.org").is_confirmed


# API tokens end with the sessions: whoever took over the account must not keep a way in -------------------

def api_status(client, token) -> int:
    """What the API answers a write sent with this token: 401 when the token is no longer good."""
    return client.post("/api/v1/calls/999999/entries", headers=bearer(token), data={"title": "x"},
                       content_type="multipart/form-data").status_code


def revocations(user) -> list[str]:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoke",
                                                         AuditEvent.actor_id == user.id))
    return [event.detail.get("reason") for event in events]


def test_changing_the_password_revokes_every_api_token(client, citizen):
    tokens = [make_token(client, citizen.email, name) for name in ("手机", "平板")]
    assert [api_status(client, token) for token in tokens] == [404, 404]  # good tokens: only the call is unknown
    log_in(client, citizen.email)
    response = post_form(client, "/account/password",
                         {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                         follow_redirects=True)
    assert response.status_code == 200
    assert [api_status(client, token) for token in tokens] == [401, 401]
    assert zh("Your API tokens have been revoked too: make a new one for each phone or app that still needs "
              "one.") in response.get_data(as_text=True)
    assert revocations(citizen) == ["change_password", "change_password"]


def test_resetting_the_password_revokes_every_api_token(client, citizen, outbox):
    token = make_token(client, citizen.email)
    assert api_status(client, token) == 404
    post_form(client, "/account/forgot-password", {"email": citizen.email})
    link = link_in(last_mail(citizen.email))
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True)
    assert response.status_code == 200
    assert api_status(client, token) == 401
    assert zh("Your API tokens have been revoked too: make a new one for each phone or app that still needs "
              "one.") in response.get_data(as_text=True)
    assert revocations(citizen) == ["reset_password"]


def test_logging_out_everywhere_revokes_every_api_token(client, citizen):
    token = make_token(client, citizen.email)
    assert api_status(client, token) == 404
    log_in(client, citizen.email)
    response = post_form(client, "/account/logout", page="/account/profile", follow_redirects=True)
    assert response.status_code == 200
    assert zh("You are logged out on every device.") in response.get_data(as_text=True)
    assert api_status(client, token) == 401
    assert zh("Your API tokens have been revoked too: make a new one for each phone or app that still needs "
              "one.") in response.get_data(as_text=True)
    assert revocations(citizen) == ["log_out_everywhere"]
