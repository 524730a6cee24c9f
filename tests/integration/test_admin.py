"""Administrators manage the department tree, users, roles and disabled accounts."""
from sqlalchemy import select

from contest.extensions import db
from contest.models import AuditEvent, Department, DepartmentKind, DepartmentMember
from contest.services.accounts import find_user_by_email
from tests.helpers import log_in, make_user, post_form


def test_adding_a_district_under_the_city(client, admin, city):
    log_in(client, admin.email)
    response = post_form(client, "/admin/departments",
                         {"name": "徐汇区", "name_en": "Xuhui District", "kind": "district", "parent_id": city.id})
    assert response.status_code == 302
    district = db.session.scalar(select(Department).where(Department.name == "徐汇区"))
    assert district.parent_id == city.id and district.kind is DepartmentKind.DISTRICT
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "department.create"))
    assert event.actor_id == admin.id and event.target_id == district.id


def test_a_community_cannot_sit_directly_under_the_city(client, admin, city):
    log_in(client, admin.email)
    response = post_form(client, "/admin/departments",
                         {"name": "某社区", "name_en": "", "kind": "community", "parent_id": city.id})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Department).where(Department.name == "某社区")) is None


def test_renaming_and_moving_a_department(client, admin, city, transport_commission):
    log_in(client, admin.email)
    district = Department(name="徐汇区", kind=DepartmentKind.DISTRICT, parent=city)
    db.session.add(district)
    db.session.commit()
    response = post_form(client, f"/admin/departments/{transport_commission.id}",
                         {"name": "交通委", "name_en": "Transport", "parent_id": district.id})
    assert response.status_code == 302
    db.session.refresh(transport_commission)
    assert (transport_commission.name, transport_commission.parent_id) == ("交通委", district.id)


def test_a_department_cannot_move_under_its_own_child(client, admin, city):
    log_in(client, admin.email)
    district = Department(name="徐汇区", kind=DepartmentKind.DISTRICT, parent=city)
    db.session.add(district)
    db.session.commit()
    response = post_form(client, f"/admin/departments/{city.id}",
                         {"name": "上海市", "name_en": "", "parent_id": district.id})
    assert response.status_code == 200
    db.session.refresh(city)
    assert city.parent_id is None


def exists(department_id: int) -> bool:
    return db.session.scalar(select(Department.id).where(Department.id == department_id)) is not None


def test_deleting_a_department_only_when_empty(client, admin, city, transport_commission):
    log_in(client, admin.email)
    post_form(client, f"/admin/departments/{city.id}/delete", page=f"/admin/departments/{city.id}")
    assert exists(city.id)  # it has a child
    commission_id = transport_commission.id
    post_form(client, f"/admin/departments/{commission_id}/delete", page=f"/admin/departments/{commission_id}")
    assert not exists(commission_id)


def test_making_an_organiser_and_removing_them(client, admin, citizen, transport_commission):
    log_in(client, admin.email)
    page = f"/admin/users/{citizen.id}"
    response = post_form(client, f"/admin/users/{citizen.id}/memberships",
                         {"department_id": transport_commission.id}, page=page)
    assert response.status_code == 302
    assert db.session.get(DepartmentMember, (transport_commission.id, citizen.id)) is not None
    citizen_client = client.application.test_client()
    log_in(citizen_client, citizen.email)
    assert citizen_client.get(f"/console/{transport_commission.id}/").status_code == 200
    post_form(client, f"/admin/users/{citizen.id}/memberships/{transport_commission.id}/remove", page=page)
    db.session.expire_all()
    assert db.session.get(DepartmentMember, (transport_commission.id, citizen.id)) is None
    assert citizen_client.get(f"/console/{transport_commission.id}/").status_code == 403


def test_granting_the_administrator_role(client, admin, citizen):
    log_in(client, admin.email)
    post_form(client, f"/admin/users/{citizen.id}/role", {"role": "yes"}, page=f"/admin/users/{citizen.id}")
    assert find_user_by_email(citizen.email).is_admin


def test_an_administrator_cannot_demote_or_disable_themselves(client, admin):
    log_in(client, admin.email)
    page = f"/admin/users/{admin.id}"
    assert post_form(client, f"/admin/users/{admin.id}/role", {"role": "no"}, page=page).status_code == 400
    assert post_form(client, f"/admin/users/{admin.id}/disable", {"reason": "oops"}, page=page).status_code == 400
    user = find_user_by_email(admin.email)
    assert user.is_admin and user.disabled_at is None


def test_disabling_a_user_ends_their_sessions_and_needs_a_reason(client, another_client, admin, citizen):
    log_in(another_client, citizen.email)
    log_in(client, admin.email)
    page = f"/admin/users/{citizen.id}"
    response = post_form(client, f"/admin/users/{citizen.id}/disable", {"reason": ""}, page=page)
    assert response.status_code == 400
    assert another_client.get("/account/profile").status_code == 200
    response = post_form(client, f"/admin/users/{citizen.id}/disable", {"reason": "spam entries"}, page=page)
    assert response.status_code == 302
    assert another_client.get("/account/profile").status_code == 302
    assert log_in(another_client, citizen.email).status_code == 200  # refused, with a message
    post_form(client, f"/admin/users/{citizen.id}/enable", page=page)
    assert log_in(another_client, citizen.email).status_code == 302


def test_searching_users(client, admin):
    make_user("zhou@example.org", name="设计师 周一")
    make_user("lin@example.org", name="学生 林小雨")
    log_in(client, admin.email)
    html = client.get("/admin/users?q=周一").get_data(as_text=True)
    assert "zhou@example.org" in html and "lin@example.org" not in html


def test_the_users_page_runs_a_fixed_number_of_queries(client, admin, count_queries):
    log_in(client, admin.email)
    for n in range(5):
        make_user(f"u{n}@example.org")
    with count_queries() as few:
        client.get("/admin/users")
    for n in range(5, 30):
        make_user(f"u{n}@example.org")
    with count_queries() as many:
        client.get("/admin/users")
    assert many.n == few.n
