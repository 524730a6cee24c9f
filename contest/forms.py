"""Form pieces shared by the blueprints."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, FloatField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, StopValidation, ValidationError

from contest import text
from contest.localtime import FORM_FORMATS
from contest.models import GROUP_LABELS, ParticipantGroup
from contest.services import ServiceError


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
