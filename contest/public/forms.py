"""Forms of the public pages: an objection to the published results."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from contest.forms import Form


class ObjectionForm(Form):
    entry_id = SelectField(_l("What you object to"), validate_choice=False)
    reason = TextAreaField(_l("Your reason"), description=_l("Published with the organisers' answer, without your "
                                                             "name."),
                           validators=[DataRequired(message=_l("Write the reason for your objection.")),
                                       Length(max=5000)])
    submit = SubmitField(_l("File the objection"))

