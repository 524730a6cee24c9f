"""CSRF, rate limits, redirects and headers."""
import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import User
from contest.services.accounts import find_user_by_email
from tests.helpers import PASSWORD, csrf_token, log_in, make_user, post_form, zh


def test_a_form_without_its_csrf_token_gets_400_and_changes_nothing(client):
    data = {"email": "new@example.org", "display_name": "x", "group": "citizen",
            "password": "long enough password", "confirm": "long enough password"}
    response = client.post("/account/register", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 0


def test_a_wrong_csrf_token_gets_400_and_changes_nothing(client, admin, citizen):
    log_in(client, admin.email)
    response = client.post(f"/admin/users/{citizen.id}/disable",
                           data={"reason": "spam", "csrf_token": "not-the-token"})
    assert response.status_code == 400
    assert find_user_by_email(citizen.email).disabled_at is None


def test_a_csrf_token_from_another_session_is_refused(client, another_client, admin, citizen):
    log_in(client, admin.email)
    stolen = csrf_token(another_client)
    response = client.post(f"/admin/users/{citizen.id}/role", data={"role": "yes", "csrf_token": stolen})
    assert response.status_code == 400
    assert not find_user_by_email(citizen.email).is_admin


def test_logout_without_a_token_logs_nobody_out(client, citizen):
    log_in(client, citizen.email)
    assert client.post("/account/logout").status_code == 400
    assert client.get("/account/profile").status_code == 200


def wrong_login(client, email, address, password="wrong password"):
    return post_form(client, "/account/login", {"email": email, "password": password},
                     environ_base={"REMOTE_ADDR": address})


def test_the_eleventh_failed_login_in_a_minute_from_one_address_gets_429(client, citizen):
    for attempt in range(10):
        assert log_in(client, citizen.email, "wrong password").status_code == 200, attempt
    response = log_in(client, citizen.email, "wrong password")
    assert response.status_code == 429
    # The right password from the same address waits too: the limit is on the account at this address.
    assert log_in(client, citizen.email, PASSWORD).status_code == 429


def test_a_stranger_typing_wrong_passwords_does_not_lock_the_owner_out(client, another_client, citizen, outbox):
    attacker, owner = "203.0.113.7", "198.51.100.20"
    for attempt in range(40):  # far past the limit, as someone who wants the owner locked out goes on
        assert wrong_login(client, citizen.email, attacker).status_code == (200 if attempt < 10 else 429), attempt
    response = post_form(another_client, "/account/login", {"email": citizen.email, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": owner})
    assert response.status_code == 302
    assert another_client.get("/account/profile", environ_base={"REMOTE_ADDR": owner}).status_code == 200
    # One address refused again and again is not an attack on the account as a whole: no mail.
    assert [m for m in outbox if m.to == citizen.email] == []


def test_failed_logins_are_limited_per_account_from_many_addresses_and_the_owner_is_told_once(
        client, app, citizen, outbox):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "25/minute"
    for attempt in range(25):
        assert wrong_login(client, citizen.email, f"10.0.{attempt}.1").status_code == 200, attempt
    for attempt in range(5):  # more addresses, still refused; the owner hears of it once, not per attempt
        assert wrong_login(client, citizen.email, f"10.1.{attempt}.1").status_code == 429, attempt
    mails = [m for m in outbox if m.to == citizen.email]
    assert [m.subject for m in mails] == [zh("Many failed logins on your account")]
    assert zh("Forgotten your password? Set a new one here:") in mails[0].body


def test_an_unknown_account_flooded_from_many_addresses_mails_nobody(client, app, outbox):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "5/minute"
    for attempt in range(8):
        wrong_login(client, "nobody@example.org", f"10.2.{attempt}.1")
    assert wrong_login(client, "nobody@example.org", "10.3.0.1").status_code == 429
    assert outbox == []


def test_failed_logins_are_limited_per_address_across_accounts(client, app):
    for n in range(30):
        assert log_in(client, f"user{n}@example.org", "wrong").status_code == 200, n
    assert log_in(client, "one-more@example.org", "wrong").status_code == 429


def test_successful_logins_do_not_count_against_the_limit(client, citizen):
    for _ in range(12):
        assert log_in(client, citizen.email).status_code == 302
        with client.session_transaction() as session:
            session.clear()


def test_registration_is_rate_limited_per_address(client, app):
    app.config["REGISTER_LIMIT_PER_ADDRESS"] = "3/hour"
    for n in range(3):
        response = post_form(client, "/account/register", {
            "email": f"n{n}@example.org", "display_name": "x", "group": "citizen",
            "password": "long enough password", "confirm": "long enough password"})
        assert response.status_code == 302
    response = post_form(client, "/account/register", {
        "email": "n9@example.org", "display_name": "x", "group": "citizen",
        "password": "long enough password", "confirm": "long enough password"})
    assert response.status_code == 429
    assert find_user_by_email("n9@example.org") is None


def test_the_429_page_speaks_the_visitors_language(client, citizen):
    client.get("/lang/en")
    for _ in range(11):
        response = log_in(client, citizen.email, "wrong password")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


@pytest.mark.parametrize("evil", ["//evil.example", "https://evil.example/", "/\\evil.example", "//evil.example/%2F.."])
def test_a_next_that_leaves_the_site_is_ignored(client, citizen, evil):
    response = log_in(client, citizen.email, next_url=evil)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_local_next_is_followed(client, citizen):
    response = log_in(client, citizen.email, next_url="/account/profile")
    assert response.headers["Location"] == "/account/profile"


def test_the_language_switch_keeps_only_local_next(client):
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"
    assert client.get("/lang/en?next=/account/login").headers["Location"] == "/account/login"


def test_every_page_carries_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_page_has_inline_script_or_style(client, admin):
    log_in(client, admin.email)
    for url in ["/", "/account/profile", "/admin/", "/admin/departments", "/admin/users"]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "<script>" not in html and "<script " not in html, url
        assert " style=" not in html and "<style" not in html, url


def test_the_session_cookie_is_http_only_and_same_site(client, citizen):
    log_in(client, citizen.email)
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_a_user_who_is_removed_is_anonymous(client, app):
    user = make_user("leaving@example.org")
    log_in(client, user.email)
    db.session.delete(user)
    db.session.commit()
    assert client.get("/account/profile").status_code == 302


def test_production_sends_hsts_on_https_answers_even_without_nginx(app_factory):
    production = app_factory(CONTEST_ENV="production")
    client = production.test_client()
    response = client.get("/", base_url="https://contest.example.org")
    assert response.status_code == 200 and "Content-Security-Policy" in response.headers
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Over plain HTTP the header means nothing (RFC 6797 8.1) and is not sent; outside production neither.
    plain = client.get("/", base_url="http://contest.example.org")
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
    development = app_factory().test_client().get("/", base_url="https://contest.example.org")
    assert development.status_code == 200 and "Strict-Transport-Security" not in development.headers
