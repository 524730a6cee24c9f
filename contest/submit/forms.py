"""Forms of the entrants' pages. Image slots (a file and its description each) are read by `image_slots`."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from contest.forms import Form, LocationForm
from contest.text import DESCRIPTION, TITLE


class EntryForm(LocationForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give your entry a title.")),
                                                  Length(max=TITLE.max)])
    description = TextAreaField(_l("Description"), validators=[Length(max=DESCRIPTION.max)])
    topic_id = SelectField(_l("Topic"), coerce=int, validate_choice=False)
    theme_id = SelectField(_l("Theme"), coerce=int, validate_choice=False,
                           description=_l("Which of the call's themes your design answers."))
    place_id = SelectField(_l("Place"), coerce=int, validate_choice=False,
                           description=_l("The place your idea is about (optional)."))
    accept = BooleanField(_l("I accept the licence terms and declare that this is my own original work."),
                          validators=[DataRequired(message=_l("Accept the licence terms and the originality "
                                                              "declaration to send your entry."))])
    submit = SubmitField(_l("Send entry"))


def speak_for(form: EntryForm, call) -> None:
    """An idea call's form speaks of a suggestion, not of a work or an original design."""
    from contest.models import CallKind

    if call.kind is not CallKind.IDEA:
        return
    form.title.validators = [DataRequired(message=_("Give your suggestion a title.")), Length(max=200)]
    if form.accept is not None:
        form.accept.label.text = _("I accept the licence terms and declare that this suggestion is my own.")
        form.accept.validators = [DataRequired(message=_("Accept the licence terms and the declaration to send "
                                                         "your suggestion."))]
        form.submit.label.text = _("Send suggestion")


class EditEntryForm(EntryForm):
    accept = None  # accepted when the entry was sent
    submit = SubmitField(_l("Save changes"))


class WithdrawForm(Form):
    submit = SubmitField(_l("Withdraw entry"))
