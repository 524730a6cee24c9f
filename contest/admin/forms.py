"""Forms of the administrator pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from contest.forms import Form
from contest.models import DepartmentKind
from contest.models.departments import KIND_LABELS


class DepartmentForm(Form):
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(message=_l("Give the department a name.")),
                                                         Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=160)])
    kind = SelectField(_l("Level"), choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in DepartmentKind])
    parent_id = SelectField(_l("Parent department"), coerce=int)
    submit = SubmitField(_l("Save department"))


class DeleteForm(Form):
    submit = SubmitField(_l("Delete"))


class AdminRoleForm(Form):
    role = SelectField(_l("Make this user an administrator?"),
                       choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))])
    submit = SubmitField(_l("Save role"))


class MembershipForm(Form):
    department_id = SelectField(_l("Department"), coerce=int)
    submit = SubmitField(_l("Add to department"))


class RemoveMembershipForm(Form):
    submit = SubmitField(_l("Remove"))


class DisableForm(Form):
    reason = TextAreaField(_l("Reason"), description=_l("Kept in the audit log."),
                           validators=[DataRequired(message=_l("Give a reason.")), Length(max=500)])
    submit = SubmitField(_l("Disable account"))


class EnableForm(Form):
    submit = SubmitField(_l("Enable account"))


class UserSearchForm(Form):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Search by e-mail or name"), validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Search"))
