"""Who may do what: the rules in one place, and decorators that make them readable at each route.

Anonymous visitors are sent to log in; a logged-in user without the right gets 403.
Per-round roles (jurors) will be added here beside the department rules.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import CompoundSelect, Exists, Select, exists, select, union

from contest.extensions import db
from contest.models import Call, CallDepartment, Department, DepartmentMember, User


def can_administer(user: User) -> bool:
    return user.is_authenticated and user.is_admin


def can_manage_department(user: User, department: Department) -> bool:
    """Organisers run their own departments; administrators may look into any."""
    if not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    return db.session.get(DepartmentMember, (department.id, user.id)) is not None


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not can_administer(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def staff_required(view):
    """Any organiser (member of at least one department) or administrator."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not (current_user.is_admin or current_user.is_organiser):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def department_staff_required(view):
    """The route takes `department_id`; it receives the Department as `department` instead."""

    @wraps(view)
    @login_required
    def wrapper(*args, department_id: int, **kwargs):
        department = db.get_or_404(Department, department_id)
        if not can_manage_department(current_user, department):
            abort(403)
        return view(*args, department=department, **kwargs)

    return wrapper


def running_departments(call_id) -> CompoundSelect:
    """The ids of the departments that run a call: its lead department and every co-organising one. `call_id` is
    a value, a column of an enclosing query or a bind parameter."""
    return union(select(Call.department_id).where(Call.id == call_id),
                 select(CallDepartment.department_id).where(CallDepartment.call_id == call_id))


def calls_run_by(department_ids) -> CompoundSelect:
    """The ids of the calls that any of these departments (a list, or a select of ids) runs, as lead or co-organiser:
    the same rule as `running_departments`, read the other way."""
    return union(select(Call.id).where(Call.department_id.in_(department_ids)),
                 select(CallDepartment.call_id).where(CallDepartment.department_id.in_(department_ids)))


def call_staff(call_id) -> Select:
    """The ids of the users who run a call (its staff): the members of the departments that run it. The one rule,
    used by every page, the API, the mails and the vote's SQL fast path; `call_id` as for `running_departments`."""
    return select(DepartmentMember.user_id).where(DepartmentMember.department_id.in_(running_departments(call_id)))


def runs_call(user_id, call_id) -> Exists:
    """Whether the user is on the call's staff (administrators aside), as an SQL condition."""
    return exists(call_staff(call_id).where(DepartmentMember.user_id == user_id))


def can_manage_call(user: User, call) -> bool:
    """Organisers of the lead department or of any co-organising department, and administrators."""
    if not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    # One query, whatever is loaded: this runs on every vote and every media request.
    return bool(db.session.scalar(select(runs_call(user.id, call.id))))


def organisers_of(call) -> list[User]:
    """The active organisers of the call's lead and co-organising departments: whom its duties are mailed to."""
    return list(db.session.scalars(select(User).where(User.disabled_at.is_(None), User.id.in_(call_staff(call.id)))
                                   .order_by(User.id)))


def call_staff_required(view):
    """The route takes `call_id`; it receives the Call as `call` instead."""

    @wraps(view)
    @login_required
    def wrapper(*args, call_id: int, **kwargs):
        call = db.get_or_404(Call, call_id)
        if not can_manage_call(current_user, call):
            abort(403)
        return view(*args, call=call, **kwargs)

    return wrapper
