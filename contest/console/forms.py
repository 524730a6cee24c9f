"""Forms of the organisers' console: a call, moderation, entries made on someone's behalf."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from contest.forms import DescribesFile, DisplayName, Form, LocationForm, MinuteField
from contest.models import CHANNEL_LABELS, STAFF_CHANNELS, CallKind, CombineOn
from contest.services.calls import IMAGE_FORMATS
from contest.services.results import NOTICE_DAYS
from contest.text import DESCRIPTION, PERSON_NAME, TITLE


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CallForm(Form):
    kind = SelectField(_l("Kind of call"), choices=[
        SelectChoice(CallKind.DESIGN.value, _l("Design call")), SelectChoice(CallKind.IDEA.value, _l("Idea call"))])
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the call a title.")),
                                                  Length(max=200)])
    summary = TextAreaField(_l("Summary"), description=_l("One or two sentences for the list of calls."),
                            validators=[Length(max=500)])
    brief = TextAreaField(_l("Brief"), description=_l("What you ask for and why. Markdown: **bold**, lists, "
                                                      "## headings, links."), validators=[Length(max=50000)])
    themes = StringField(_l("Themes"), description=_l("Separated by commas, e.g. red culture, Haipai culture."),
                         validators=[Length(max=500)])
    topics = TextAreaField(_l("Topics"), description=_l("For an idea call: one topic a line."),
                           validators=[Length(max=5000)])
    prizes = TextAreaField(_l("Prizes"), description=_l("One prize a line: name | how many | reward, e.g. "
                                                        "First prize | 1 | 20,000 yuan."),
                           validators=[Length(max=5000)])
    co_department_ids = SelectMultipleField(_l("Co-organising departments"), coerce=int,
                                            description=_l("Their organisers can see and edit this call too."))
    image_formats = CheckboxesField(_l("Accepted image types"),
                                    choices=[SelectChoice(f, f) for f in IMAGE_FORMATS])
    images_min = IntegerField(_l("Images per entry: at least"), default=1, validators=[NumberRange(0, 12)])
    images_max = IntegerField(_l("Images per entry: at most"), default=4, validators=[NumberRange(1, 12)])
    image_max_mb = IntegerField(_l("Megabytes per image"), default=10, validators=[NumberRange(1, 50)])
    entries_per_person = IntegerField(_l("Entries per person"), default=3, validators=[NumberRange(1, 50)])
    licence_text = TextAreaField(_l("Licence terms the entrant accepts"), validators=[Length(max=10000)])
    originality_text = TextAreaField(_l("Originality declaration"), validators=[Length(max=5000)])
    opens_at = MinuteField(_l("Opens (Shanghai time)"), validators=[Optional()])
    closes_at = MinuteField(_l("Closes (Shanghai time)"), validators=[Optional()])
    cover = FileField(_l("Cover image"), description=_l("JPEG or PNG, shown at the top of the call's page."))
    cover_alt = StringField(_l("Description of the cover image"), validators=[
        DescribesFile("cover", _l("Describe the cover image for people who cannot see it.")), Length(max=300)])
    originals_public = BooleanField(_l("Publish the full-size originals of approved entries"))
    expert_weight = IntegerField(_l("Weight of the jury's ranking (%)"), default=100,
                                 validators=[NumberRange(0, 100)])
    public_weight = IntegerField(_l("Weight of the public's ranking (%)"), default=0,
                                 validators=[NumberRange(0, 100)])
    combine_on = SelectField(_l("Combine the parts"), choices=[
        SelectChoice(CombineOn.PERCENTILES.value, _l("on percentiles")),
        SelectChoice(CombineOn.RANKS.value, _l("on ranks"))],
                             default=CombineOn.PERCENTILES.value)
    formula_reason = TextAreaField(_l("Why the final formula changes"),
                                   description=_l("The call is open: a change of the formula is shown on its "
                                                  "timeline with this reason."), validators=[Length(max=1000)])
    submit = SubmitField(_l("Save call"))


class PublishForm(Form):
    submit = SubmitField(_l("Publish call"))


class ModerationForm(Form):
    reason = TextAreaField(_l("Reason for rejection"), description=_l("The entrant sees it."),
                           validators=[Length(max=2000)])
    approve = SubmitField(_l("Approve selected"))
    reject = SubmitField(_l("Reject selected"))


class StaffEntryForm(LocationForm):
    channel = SelectField(_l("How the entry reached you"),
                          choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in STAFF_CHANNELS])
    author_email = EmailField(_l("Entrant's e-mail, if they have an account"),
                              validators=[Optional(), Email(), Length(max=254)])
    author_name = StringField(_l("Entrant's name"), description=_l("Leave empty for an anonymous entry."),
                              validators=[Length(max=PERSON_NAME.max), DisplayName(on_behalf=True)])
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the entry a title.")),
                                                  Length(max=TITLE.max)])
    description = TextAreaField(_l("Description"), validators=[Length(max=DESCRIPTION.max)])
    topic_id = SelectField(_l("Topic"), coerce=int, validate_choice=False)
    place_id = SelectField(_l("Place"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save entry"))


class AwardsForm(Form):
    """The prize of each entry comes as `prize-<entry id>` fields beside this form's own."""

    statement = TextAreaField(_l("Why the awards depart from the computed order"),
                              description=_l("Needed when the prizes do not follow the computed order, and for any "
                                             "change after publication. Published with the results."),
                              validators=[Length(max=5000)])
    submit = SubmitField(_l("Save the awards"))


class PublishResultsForm(Form):
    # InputRequired, not DataRequired: 0 is a length (no notice period). The service says the limits.
    notice_days = IntegerField(_l("Notice period (days)"), default=7, description=_l(
        "From %(low)d to %(high)d days. 0: no notice period, the results are final at once and nobody can object.",
        low=NOTICE_DAYS[0], high=NOTICE_DAYS[1]), validators=[
        InputRequired(message=_l("Give the length of the notice period."))],
        render_kw={"min": NOTICE_DAYS[0], "max": NOTICE_DAYS[1]})
    top_n = IntegerField(_l("Show the first N places"), description=_l("Leave empty to show every entry."),
                         validators=[Optional(), NumberRange(1, 100000)])
    submit = SubmitField(_l("Publish the results"))


class AnswerForm(Form):
    answer = TextAreaField(_l("Answer"), description=_l("Published under the objection."),
                           validators=[DataRequired(message=_l("Write the answer.")), Length(max=5000)])
    submit = SubmitField(_l("Publish the answer"))


class FinaliseForm(Form):
    submit = SubmitField(_l("Make the results final"))
