"""Form pieces shared by the blueprints."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectChoice, SelectField
from wtforms.validators import StopValidation

from contest.localtime import FORM_FORMATS
from contest.models import GROUP_LABELS, ParticipantGroup


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


def set_entry_choices(form, call) -> None:
    """The topic and place choices of an entry form for this call."""
    form.topic_id.choices = [SelectChoice(0, _("Choose a topic"))] + [SelectChoice(t.id, t.title) for t in call.topics]
    form.place_id.choices = department_choices(_("No particular place"))


class DescribesFile:
    """A picture's description, needed when the file field `file_field` holds a file: the message then stands
    beside the description's own field. (The services refuse a picture without one as well.)"""

    def __init__(self, file_field: str, message):
        self.file_field, self.message = file_field, message

    def __call__(self, form, field) -> None:
        upload = form[self.file_field].data
        if upload and getattr(upload, "filename", "") and not (field.data or "").strip():
            raise StopValidation(str(self.message))
