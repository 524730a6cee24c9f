"""Administrator pages: thin skins over contest.services.departments and contest.services.users."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.admin import bp
from contest.admin.forms import (
    AdminRoleForm,
    DeleteForm,
    DepartmentForm,
    DisableForm,
    EnableForm,
    MembershipForm,
    RemoveMembershipForm,
    UserSearchForm,
)
from contest.extensions import db
from contest.forms import department_choices
from contest.models import Department, DepartmentKind, User
from contest.permissions import admin_required
from contest.services import ServiceError
from contest.services import departments as department_service
from contest.services import users as user_service
from contest.services.audit import events_of_user
from contest.views import saving


@bp.route("/")
@admin_required
def index():
    return render_template("admin/index.html", figures=user_service.site_figures())


@bp.route("/departments", methods=["GET", "POST"])
@admin_required
def departments():
    rows = department_service.tree()
    form = DepartmentForm()
    form.parent_id.choices = department_choices(_("None (top of the tree)"), rows)
    if form.validate_on_submit():
        parent = db.session.get(Department, form.parent_id.data) if form.parent_id.data else None
        try:
            department = department_service.create_department(
                current_user, DepartmentKind(form.kind.data), form.name.data, form.name_en.data, parent
            )
        except ServiceError as error:
            form.parent_id.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Department %(name)s added.", name=department.display_name), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/departments.html", rows=rows, form=form)


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@admin_required
def department(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department)
    del form.kind  # a department's kind is fixed once it has a place in the tree
    form.parent_id.choices = department_choices(_("None (top of the tree)"))
    if request.method == "GET":
        form.parent_id.data = department.parent_id or 0
    if form.validate_on_submit():
        parent = db.session.get(Department, form.parent_id.data) if form.parent_id.data else None
        with saving(form.parent_id.errors) as saved:
            department_service.update_department(current_user, department, form.name.data, form.name_en.data, parent)
        if saved:
            flash(_("Department saved."), "success")
            return redirect(url_for("admin.department", department_id=department.id))
    return render_template("admin/department.html", department=department, form=form, delete_form=DeleteForm(),
                           path=department_service.ancestors(department))


@bp.route("/departments/<int:department_id>/delete", methods=["POST"])
@admin_required
def delete_department(department_id: int):
    department = db.get_or_404(Department, department_id)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            department_service.delete_department(current_user, department)
        if not saved:
            return redirect(url_for("admin.department", department_id=department_id))
        flash(_("Department deleted."), "success")
    return redirect(url_for("admin.departments"))


@bp.route("/users")
@admin_required
def users():
    form = UserSearchForm(request.args)
    query = form.q.data or "" if form.validate() else ""
    page = request.args.get("page", 1, type=int)
    pagination = user_service.search_users(query, page, current_app.config["USERS_PER_PAGE"])
    return render_template("admin/users.html", form=form, pagination=pagination, query=query)


def _user_page(user: User, **forms):
    membership_form = forms.get("membership_form") or MembershipForm()
    membership_form.department_id.choices = department_choices()
    role_form = forms.get("role_form") or AdminRoleForm(role="yes" if user.is_admin else "no")
    events = events_of_user(user)
    return render_template(
        "admin/user.html", user=user, role_form=role_form, membership_form=membership_form,
        disable_form=forms.get("disable_form") or DisableForm(), enable_form=EnableForm(),
        remove_form=RemoveMembershipForm(), events=events,
    )


@bp.route("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    return _user_page(db.get_or_404(User, user_id))


def _apply(user: User, action, form_name: str, form, success: str):
    """Run one administrator action from a form on the user page; show the page again on an error."""
    if form.validate_on_submit():
        with saving() as saved:
            action()
        if saved:
            flash(success, "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return _user_page(user, **{form_name: form}), 400


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_required
def set_role(user_id: int):
    user = db.get_or_404(User, user_id)
    form = AdminRoleForm()
    return _apply(user, lambda: user_service.set_admin(current_user, user, form.role.data == "yes"),
                  "role_form", form, _("Role saved."))


@bp.route("/users/<int:user_id>/memberships", methods=["POST"])
@admin_required
def add_membership(user_id: int):
    user = db.get_or_404(User, user_id)
    form = MembershipForm()
    form.department_id.choices = department_choices()

    def action():
        user_service.add_membership(current_user, user, db.get_or_404(Department, form.department_id.data))

    return _apply(user, action, "membership_form", form, _("Added to the department."))


@bp.route("/users/<int:user_id>/memberships/<int:department_id>/remove", methods=["POST"])
@admin_required
def remove_membership(user_id: int, department_id: int):
    user = db.get_or_404(User, user_id)
    department = db.get_or_404(Department, department_id)
    return _apply(user, lambda: user_service.remove_membership(current_user, user, department),
                  "remove_form", RemoveMembershipForm(), _("Removed from the department."))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@admin_required
def disable(user_id: int):
    user = db.get_or_404(User, user_id)
    form = DisableForm()
    return _apply(user, lambda: user_service.disable_user(current_user, user, form.reason.data),
                  "disable_form", form, _("The account is disabled and all its sessions have ended."))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@admin_required
def enable(user_id: int):
    user = db.get_or_404(User, user_id)
    return _apply(user, lambda: user_service.enable_user(current_user, user),
                  "enable_form", EnableForm(), _("The account is enabled."))
