"""Who may see what: anonymous visitors log in first; citizens and other departments' organisers get 403."""
import pytest

from tests.helpers import log_in, make_user

CONSOLE_AND_ADMIN = ["/console/", "/admin/", "/admin/departments", "/admin/users"]


@pytest.mark.parametrize("url", CONSOLE_AND_ADMIN + ["/account/profile", "/account/password"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


def test_a_citizen_reaching_any_console_gets_403(client, citizen, transport_commission, planning_bureau):
    log_in(client, citizen.email)
    for url in CONSOLE_AND_ADMIN + [f"/console/{transport_commission.id}/", f"/console/{planning_bureau.id}/",
                                    f"/admin/users/{citizen.id}"]:
        assert client.get(url).status_code == 403, url


def test_an_organiser_sees_their_own_department_console(client, transport_organiser, transport_commission):
    log_in(client, transport_organiser.email)
    assert client.get("/console/").status_code == 200
    page = client.get(f"/console/{transport_commission.id}/")
    assert page.status_code == 200
    assert "上海市交通委员会" in page.get_data(as_text=True)


def test_an_organiser_reaching_another_department_console_gets_403(client, transport_organiser, planning_bureau,
                                                                    city):
    log_in(client, transport_organiser.email)
    assert client.get(f"/console/{planning_bureau.id}/").status_code == 403
    assert client.get(f"/console/{city.id}/").status_code == 403  # not even the parent's
    assert client.get("/admin/").status_code == 403


def test_an_administrator_may_open_any_console(client, admin, planning_bureau):
    log_in(client, admin.email)
    assert client.get(f"/console/{planning_bureau.id}/").status_code == 200


def test_a_disabled_administrator_is_anonymous(client, app):
    from contest.extensions import db
    from contest.models.types import utcnow

    boss = make_user("boss@example.org", admin=True)
    log_in(client, boss.email)
    boss.disabled_at = utcnow()
    db.session.commit()
    assert client.get("/admin/").status_code == 302
