"""What administrators do to accounts: roles, department memberships, disabling and enabling."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from contest import text
from contest.extensions import db
from contest.models import Department, DepartmentMember, ParticipantGroup, User
from contest.models.types import utcnow
from contest.services import ServiceError
from contest.services.accounts import check_password_rules, end_all_sessions, find_user_by_email, hash_password
from contest.services.audit import record


def create_admin(email: str, password: str, display_name: str) -> User:
    """Make the account for this e-mail an administrator, creating it (confirmed) when there is none."""
    user = find_user_by_email(email)
    if user is None:
        check_password_rules(password, email)
        user = User(
            email=email.strip().lower(),
            password_hash=hash_password(password),
            display_name=text.display_name(display_name, staff=True),
            group=ParticipantGroup.CITIZEN,
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
    user.is_admin = True
    record(None, "user.make_admin", "user", user.id, via="command line")
    return user


def set_admin(actor: User, user: User, is_admin: bool) -> None:
    if user.id == actor.id and not is_admin:
        raise ServiceError(_("You cannot take away your own administrator role."))
    if user.is_admin != is_admin:
        user.is_admin = is_admin
        record(actor, "user.set_admin", "user", user.id, is_admin=is_admin)


def disable_user(actor: User, user: User, reason: str) -> None:
    if user.id == actor.id:
        raise ServiceError(_("You cannot disable your own account."))
    if not reason.strip():
        raise ServiceError(_("Give a reason for disabling the account."))
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        user.disabled_reason = reason.strip()
        end_all_sessions(user, actor, reason="disable")
        record(actor, "user.disable", "user", user.id, reason=reason.strip())


def enable_user(actor: User, user: User) -> None:
    if user.disabled_at is not None:
        user.disabled_at = None
        user.disabled_reason = None
        record(actor, "user.enable", "user", user.id)


def add_membership(actor: User, user: User, department: Department) -> None:
    exists = db.session.get(DepartmentMember, (department.id, user.id))
    if exists is not None:
        raise ServiceError(_("%(name)s is already an organiser of this department.", name=user.display_name))
    db.session.add(DepartmentMember(department=department, user=user))
    db.session.flush()
    record(actor, "department.add_member", "department", department.id, user_id=user.id)


def remove_membership(actor: User, user: User, department: Department) -> None:
    membership = db.session.get(DepartmentMember, (department.id, user.id))
    if membership is None:
        raise ServiceError(_("%(name)s is not an organiser of this department.", name=user.display_name))
    db.session.delete(membership)
    db.session.flush()
    record(actor, "department.remove_member", "department", department.id, user_id=user.id)


def search_users(query: str, page: int, per_page: int):
    stmt = select(User).options(selectinload(User.memberships)).order_by(User.id)
    query = query.strip()
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(db.or_(db.func.lower(User.email).like(like), db.func.lower(User.display_name).like(like)))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def site_figures() -> dict[str, int]:
    """The administrator's front page: how many accounts, disabled ones, departments."""
    return {
        "users": db.session.scalar(select(func.count()).select_from(User)),
        "disabled": db.session.scalar(select(func.count()).select_from(User).where(User.disabled_at.is_not(None))),
        "departments": db.session.scalar(select(func.count()).select_from(Department)),
    }
