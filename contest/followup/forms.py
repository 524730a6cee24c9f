"""Forms of the follow-up: adopting an entry, and a dated update with an optional photo."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from contest.forms import DescribesFile, Form, LocationForm
from contest.models import STAGE_LABELS, FollowUpStage
from contest.text import PICTURE_DESCRIPTION


class AdoptForm(Form):
    """The entry by its number (on its page and in the ranking): a call of 160,000 entries is no list to choose
    from. The awarded entries not adopted yet are proposed on the page, each with its own button."""

    entry_id = IntegerField(_l("Number of the entry to adopt"),
                            description=_l("The number shown on the entry's page and in the ranking, e.g. 1024."),
                            validators=[InputRequired(message=_l("Give the number of the entry to adopt."))])
    submit = SubmitField(_l("Adopt entry"))


class UpdateForm(Form):
    stage = SelectField(_l("Stage"), choices=[SelectChoice(s.value, STAGE_LABELS[s]) for s in FollowUpStage])
    progress = IntegerField(_l("Progress (per cent)"), description=_l("From 0 to 100. An implemented entry is at 100."),
                            validators=[InputRequired(message=_l("Give the progress as a whole number from 0 to 100.")),
                                        NumberRange(0, 100, message=_l("Give the progress as a whole number from 0 "
                                                                       "to 100."))])
    happened_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Give the date of the update."))])
    text = TextAreaField(_l("What happened, in Chinese"), description=_l("Shown to the public. It may stay empty "
                                                                        "if you add a photo."),
                         validators=[Length(max=5000)])
    text_en = TextAreaField(_l("What happened, in English (optional)"), validators=[Length(max=10000)])
    photo = FileField(_l("Photo (optional)"), description=_l("JPEG, PNG or WebP, up to 20 MB."))
    photo_alt = StringField(_l("Describe the photo in a sentence"),
                            description=_l("For people who cannot see it. Needed with a photo."),
                            validators=[DescribesFile("photo", _l("Describe the photo in a sentence for people who "
                                                                   "cannot see it.")),
                                        Length(max=PICTURE_DESCRIPTION.max)])
    submit = SubmitField(_l("Add update"))

    @property
    def stage_value(self) -> FollowUpStage:
        return FollowUpStage(self.stage.data)


class PlaceForm(LocationForm):
    """Where the built object stands: tap the map or type the address (the entry form's widget)."""

    submit = SubmitField(_l("Save the place"))
