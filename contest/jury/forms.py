"""Forms of the jurors' pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from contest.forms import Form


class ScoreForm(Form):
    version = HiddenField()
    note_to_organisers = TextAreaField(_l("Note for the organisers"), validators=[Length(max=5000)])
    note_to_entrant = TextAreaField(_l("Note for the entrant"), description=_l("The entrant sees it, without "
                                                                               "your name."),
                                    validators=[Length(max=5000)])
    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit score"))


class RecuseForm(Form):
    reason = StringField(_l("Why"), validators=[DataRequired(message=_l("Say briefly why.")), Length(max=500)])
    conflict = BooleanField(_l("I have a conflict of interest with this entry"))
    submit = SubmitField(_l("Step back from this entry"))
