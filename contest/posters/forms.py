"""The form of a new poster: where it hangs."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from contest.forms import Form


class PosterForm(Form):
    label = StringField(_l("Where the poster hangs"),
                        description=_l("For example: Tianlin Street, red mailbox no. 3. Shown in small print on "
                                       "the poster."),
                        validators=[InputRequired(message=_l("Say where the poster will hang.")),
                                    Length(max=200, message=_l("Say where the poster hangs in at most 200 "
                                                               "characters."))])
    place_id = SelectField(_l("Place (optional)"), coerce=int)
    submit = SubmitField(_l("Make poster"))
