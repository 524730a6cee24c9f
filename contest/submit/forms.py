"""Forms of the entrants' pages. Image slots (a file and its description each) are read by `image_slots`."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from contest.forms import Form, LocationForm
from contest.services.entries import Upload
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


MAX_SLOTS = 24  # more files than any call accepts are refused as too many, not silently dropped


def image_slots(prefix: str = "image", held: bool = False) -> list[Upload]:
    """The files chosen in the form's image slots, in order, with the description typed beside each. With
    `held`, a slot without a new file may send the token of a picture held since the form was refused
    (`{prefix}-{n}-held`), unless its "remove" box (`{prefix}-{n}-drop`) is ticked."""
    uploads = []
    for n in range(1, MAX_SLOTS + 1):
        alt_text = request.form.get(f"{prefix}-{n}-alt", "")
        storage = request.files.get(f"{prefix}-{n}")
        if storage is not None and storage.filename:
            with storage.stream:
                uploads.append(Upload(data=storage.read(), alt_text=alt_text, slot=n))
        elif held and request.form.get(f"{prefix}-{n}-held") and not request.form.get(f"{prefix}-{n}-drop"):
            uploads.append(Upload(token=request.form[f"{prefix}-{n}-held"], alt_text=alt_text, slot=n))
    return uploads


def undescribed_slots(prefix: str = "image", first: int = 1, held: bool = False) -> dict[str, str]:
    """The description field of each slot that holds a file but no description -> the message shown beside it.

    Asked before the services (which refuse such a picture too, whoever sends it) so that the message stands
    beside the field it is about. Without `held`, the browser forgets the chosen files when the form comes back,
    hence the "choose it again"; with it, the pictures are kept (`image_slots`). `first` is the number the page
    shows for the slot `prefix`-1."""
    missing = {}
    for n in range(1, MAX_SLOTS + 1):
        storage = request.files.get(f"{prefix}-{n}")
        chosen = storage is not None and bool(storage.filename)
        kept = held and not chosen and bool(request.form.get(f"{prefix}-{n}-held")) and not request.form.get(
            f"{prefix}-{n}-drop")
        if not (chosen or kept) or request.form.get(f"{prefix}-{n}-alt", "").strip():
            continue
        number = first + n - 1
        if held:
            missing[f"{prefix}-{n}-alt"] = _("Image %(n)d: describe it in a sentence for people who cannot see it.",
                                             n=number)
        else:
            missing[f"{prefix}-{n}-alt"] = (
                _("Scan %(n)d: describe it in a sentence for people who cannot see it, and choose the file again.",
                  n=number) if prefix == "scan" else
                _("Image %(n)d: describe it in a sentence for people who cannot see it, and choose the file again.",
                  n=number))
    return missing
