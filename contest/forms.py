"""Form pieces shared by the blueprints."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    FloatField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation, ValidationError

from contest import text
from contest.localtime import FORM_FORMATS
from contest.models import GROUP_LABELS, ParticipantGroup
from contest.services import ServiceError
from contest.services.entries import Upload


def _clean_text(form, field) -> None:
    if isinstance(field.data, str) and text.has_control_characters(
            field.data, multiline=isinstance(field, TextAreaField)):
        raise StopValidation(str(text.CONTROL_MESSAGE))


class Form(FlaskForm):
    """The base of every form of the site: each text field is checked for control characters (the rule of
    contest.text) before any route reads it, so that no query ever gets one; a field error says what to do.
    Tab and line breaks are kept in multi-line fields (TextAreaField), their line ends made LF (text.line_ends)
    before they are checked and read."""

    def validate(self, extra_validators=None):
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, TextAreaField) and isinstance(field.data, str):
                field.data = text.line_ends(field.data)
            if isinstance(field, StringField):
                extra[name] = [_clean_text, *extra.get(name, [])]
        return super().validate(extra_validators=extra)


class DisplayName:
    """A display name as contest.text.display_name takes it (the services check it again, whoever calls them);
    the field's data becomes the normalised name. Staff may keep a title in their own name; the names staff
    give to entrants (`on_behalf`) never, and may be empty."""

    def __init__(self, on_behalf: bool = False):
        self.on_behalf = on_behalf

    def __call__(self, form, field) -> None:
        staff = not self.on_behalf and current_user.is_authenticated and (
            current_user.is_admin or current_user.is_organiser)
        try:
            field.data = text.display_name(field.data or "", staff=staff, optional=self.on_behalf)
        except ServiceError as error:
            raise ValidationError(str(error)) from error


class LocationForm(Form):
    """An entry's point and address: the map fills in the point (tapped, or "use my location"); without script
    the address and the place's select say where. The services check the point again and derive its district."""

    address = StringField(_l("Address"), description=_l("A street and number, a corner or a landmark (optional)."),
                          validators=[Length(max=text.ADDRESS.max)])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lng = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])

    def location(self) -> dict:
        """The keyword arguments of EntryData that say where."""
        return {"address": self.address.data or "", "lat": self.lat.data, "lng": self.lng.data}

    def fill_location(self, entry) -> None:
        self.address.data, self.lat.data, self.lng.data = entry.address, entry.lat, entry.lng


class MinuteField(DateTimeLocalField):
    """A date and time in the site's zone, shown and read to the minute (seconds are accepted and dropped by
    localtime.to_utc)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", FORM_FORMATS)
        super().__init__(label, validators, **kwargs)


class GroupField(SelectField):
    """The participant group, as the enum."""

    def __init__(self, label=None, **kwargs):
        super().__init__(
            label or _l("Which group do you belong to?"),
            choices=[SelectChoice(g.value, GROUP_LABELS[g]) for g in ParticipantGroup],
            coerce=str,
            default=kwargs.pop("default", ParticipantGroup.CITIZEN.value),
            **kwargs,
        )

    @property
    def group(self) -> ParticipantGroup:
        return ParticipantGroup(self.data)


def department_choices(top_label=None, rows=None) -> list[SelectChoice]:
    """The department tree as indented choices (optionally headed by a "none" choice of value 0)."""
    from contest.services.departments import tree

    choices = [SelectChoice(0, top_label)] if top_label else []
    choices += [SelectChoice(r.department.id, "\u2003" * r.depth + r.department.display_name)
                for r in (rows if rows is not None else tree())]
    return choices


def place_choices(top_label) -> list[SelectChoice]:
    """The parts of the city an entry, a meeting or a poster may be about: the tree without its agencies."""
    from contest.services.departments import is_place, tree

    return department_choices(top_label, [r for r in tree() if is_place(r.department)])


def set_entry_choices(form, call) -> None:
    """The topic, place and theme choices of an entry form for this call."""
    form.topic_id.choices = [SelectChoice(0, _("Choose a topic"))] + [SelectChoice(t.id, t.title) for t in call.topics]
    form.place_id.choices = place_choices(_("No particular place"))
    if getattr(form, "theme_id", None) is not None:
        form.theme_id.choices = [SelectChoice(0, _("No particular theme"))] + [
            SelectChoice(t.id, t.name) for t in call.themes]


class DescribesFile:
    """A picture's description, needed when the file field `file_field` holds a file: the message then stands
    beside the description's own field. (The services refuse a picture without one as well.)"""

    def __init__(self, file_field: str, message):
        self.file_field, self.message = file_field, message

    def __call__(self, form, field) -> None:
        upload = form[self.file_field].data
        if upload and getattr(upload, "filename", "") and not (field.data or "").strip():
            raise StopValidation(str(self.message))


class ActionForm(Form):
    submit = SubmitField(_l("Go"))


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


class CommentForm(Form):
    """A comment, or a reply when parent_id is given; on the call's and the entries' pages."""

    parent_id = HiddenField()
    body = TextAreaField(_l("Your comment"), description=_l("Links and lists are allowed (Markdown), images are not."),
                         validators=[DataRequired(message=_l("Write your comment.")), Length(max=5000)])
    submit = SubmitField(_l("Post the comment"))


class FollowForm(Form):
    """Follow a call: on its page."""

    submit = SubmitField(_l("Follow this call"))


class UnfollowForm(Form):
    """Stop following a call: on its page, the account page and the page a mail's link opens."""

    submit = SubmitField(_l("Stop following this call"))
