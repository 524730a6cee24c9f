"""Form pieces shared by the blueprints."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField

from contest.models import GROUP_LABELS, ParticipantGroup


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
