"""Forms of the public pages: an objection to the published results."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from contest.forms import Form


class ObjectionForm(Form):
    """The entry by the number shown beside its title (a call of 160,000 entries is no list to choose from), or none:
    the results as a whole. The service says whether the number is an entry of the call."""

    entry_id = StringField(_l("Number of the entry you object to"),
                           description=_l("The number shown beside the entry's title in the ranking and on its "
                                          "page, e.g. 1024. Leave it empty to object to the results as a whole."),
                           render_kw={"inputmode": "numeric", "autocomplete": "off"},
                           validators=[Optional(), Regexp(r"^\s*\d{1,10}\s*$", message=_l(
                               "Give the entry's number in digits, e.g. 1024, or leave it empty to object to the "
                               "results as a whole."))])
    reason = TextAreaField(_l("Your reason"), description=_l("Published with the organisers' answer, without your "
                                                             "name."),
                           validators=[DataRequired(message=_l("Write the reason for your objection.")),
                                       Length(max=5000)])
    submit = SubmitField(_l("File the objection"))

