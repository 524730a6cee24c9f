"""Forms of the organisers' console: a call, moderation, entries made on someone's behalf, rounds."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
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
from contest.models import CHANNEL_LABELS, STAFF_CHANNELS, AdvanceMode, CallKind, CombineOn
from contest.services.calls import IMAGE_FORMATS
from contest.services.results import NOTICE_DAYS
from contest.text import DESCRIPTION, PERSON_NAME, TITLE


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CallForm(Form):
    kind = SelectField(_l("Kind of call"), choices=[
        SelectChoice(CallKind.DESIGN.value, _l("Design call")), SelectChoice(CallKind.IDEA.value, _l("Idea call"))])
    # Each text in Chinese (the text of record, required where the call needs it) and in English beside it
    # (optional: an English page shows the Chinese text, marked, where it is missing).
    title = StringField(_l("Title in Chinese"), validators=[DataRequired(message=_l("Give the call a title.")),
                                                            Length(max=200)])
    title_en = StringField(_l("Title in English (optional)"), validators=[Length(max=300)])
    summary = TextAreaField(_l("Summary in Chinese"), description=_l("One or two sentences for the list of calls."),
                            validators=[Length(max=500)])
    summary_en = TextAreaField(_l("Summary in English (optional)"), validators=[Length(max=1000)])
    brief = TextAreaField(_l("Brief in Chinese"), description=_l("What you ask for and why. Markdown: **bold**, "
                                                                 "lists, ## headings, links."),
                          validators=[Length(max=50000)])
    brief_en = TextAreaField(_l("Brief in English (optional)"), validators=[Length(max=50000)])
    themes = StringField(_l("Themes in Chinese"), description=_l("Separated by commas, e.g. red culture, Haipai "
                                                                 "culture."), validators=[Length(max=500)])
    themes_en = StringField(_l("Themes in English (optional)"), description=_l(
        "In the same order as the Chinese ones."), validators=[Length(max=1000)])
    topics = TextAreaField(_l("Topics in Chinese"), description=_l("For an idea call: one topic a line."),
                           validators=[Length(max=5000)])
    topics_en = TextAreaField(_l("Topics in English (optional)"), description=_l(
        "One a line, in the same order as the Chinese ones."), validators=[Length(max=10000)])
    prizes = TextAreaField(_l("Prizes in Chinese"), description=_l("One prize a line: name | how many | reward, "
                                                                   "e.g. First prize | 1 | 20,000 yuan."),
                           validators=[Length(max=5000)])
    prizes_en = TextAreaField(_l("Prizes in English (optional)"), description=_l(
        "One a line, in the same order as the Chinese ones: name | reward."), validators=[Length(max=10000)])
    co_department_ids = SelectMultipleField(_l("Co-organising departments"), coerce=int,
                                            description=_l("Their organisers can see and edit this call too."))
    image_formats = CheckboxesField(_l("Accepted image types"),
                                    choices=[SelectChoice(f, f) for f in IMAGE_FORMATS])
    images_min = IntegerField(_l("Images per entry: at least"), default=1, validators=[NumberRange(0, 12)])
    images_max = IntegerField(_l("Images per entry: at most"), default=4, validators=[NumberRange(1, 12)])
    image_max_mb = IntegerField(_l("Megabytes per image"), default=10, validators=[NumberRange(1, 50)])
    entries_per_person = IntegerField(_l("Entries per person"), default=3, validators=[NumberRange(1, 50)])
    licence_text = TextAreaField(_l("Licence terms the entrant accepts, in Chinese"),
                                 validators=[Length(max=10000)])
    licence_text_en = TextAreaField(_l("Licence terms in English (optional)"), validators=[Length(max=20000)])
    originality_text = TextAreaField(_l("Originality declaration in Chinese"), validators=[Length(max=5000)])
    originality_text_en = TextAreaField(_l("Originality declaration in English (optional)"),
                                        validators=[Length(max=10000)])
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
    statement_en = TextAreaField(_l("The statement in English (optional)"), validators=[Length(max=10000)])
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
    answer_en = TextAreaField(_l("Answer in English (optional)"), validators=[Length(max=10000)])
    submit = SubmitField(_l("Publish the answer"))


class FinaliseForm(Form):
    submit = SubmitField(_l("Make the results final"))


class RetryResultsForm(Form):
    submit = SubmitField(_l("Try again"))


class RoundForm(Form):
    title = StringField(_l("Title in Chinese"), validators=[DataRequired(message=_l("Give the round a title.")),
                                                            Length(max=200)])
    title_en = StringField(_l("Title in English (optional)"), validators=[Length(max=300)])
    criteria = TextAreaField(_l("Criteria in Chinese"), description=_l("One a line: name | weight | description. "
                                                                       "The weights add up to 100."),
                             validators=[DataRequired(message=_l("Give the round at least one criterion.")),
                                         Length(max=5000)])
    criteria_en = TextAreaField(_l("Criteria in English (optional)"), description=_l(
        "One a line, in the same order as the Chinese ones: name | description."), validators=[Length(max=10000)])
    scale_low = DecimalField(_l("Lowest mark"), default=1, places=None, validators=[DataRequired()])
    scale_high = DecimalField(_l("Highest mark"), default=10, places=None, validators=[DataRequired()])
    scale_step = DecimalField(_l("Step"), default=0.5, places=None, validators=[DataRequired()])
    jurors_per_entry = IntegerField(_l("Jurors per entry"), default=3, validators=[NumberRange(1, 20)])
    blind = BooleanField(_l("Blind: jurors do not see who made an entry"), default=True)
    normalise = BooleanField(_l("Normalise each juror's marks, so harsh and lenient jurors count alike"),
                             default=True)
    trim = DecimalField(_l("Trimmed share"), default=0, places=None,
                        description=_l("0 for the plain mean; 0.2 drops the highest and lowest fifth of the "
                                       "jurors' scores of each entry."),
                        validators=[NumberRange(0, 0.49)])
    opens_at = MinuteField(_l("Scoring opens (Shanghai time)"),
                                  validators=[DataRequired(message=_l("Give the opening date."))])
    closes_at = MinuteField(_l("Scoring closes (Shanghai time)"),
                                   validators=[DataRequired(message=_l("Give the closing date."))])
    submit = SubmitField(_l("Save round"))


class PublicRoundSettingsForm(Form):
    """What an organiser may change in a public round (its own form: not the expert round's)."""

    title = StringField(_l("Title in Chinese"), validators=[DataRequired(message=_l("Give the round a title.")),
                                                            Length(max=200)])
    title_en = StringField(_l("Title in English (optional)"), validators=[Length(max=300)])
    votes_per_citizen = IntegerField(_l("Votes per citizen"), default=3, validators=[NumberRange(1, 50)])
    min_account_age_hours = IntegerField(_l("Hours an account must exist before it can vote"), default=24,
                                         validators=[NumberRange(0, 1440)])
    hide_counts = BooleanField(_l("Hide the counts until voting closes"), default=True)
    requires_phone = BooleanField(_l("Voters need a verified mobile number"), default=False)
    opens_at = MinuteField(_l("Voting opens (Shanghai time)"),
                           validators=[DataRequired(message=_l("Give the opening date."))])
    closes_at = MinuteField(_l("Voting closes (Shanghai time)"),
                            validators=[DataRequired(message=_l("Give the closing date."))])
    submit = SubmitField(_l("Save round"))


class PublicRoundForm(PublicRoundSettingsForm):
    mode = SelectField(_l("How citizens take part"), choices=[
        SelectChoice("votes", _l("Votes: each citizen has a number of votes, one per entry")),
        SelectChoice("pairwise", _l("Pairs: citizens say which of two entries they prefer")),
    ])
    # Choices made by the page: "all", or the id of an earlier round that decided who advances.
    source = SelectField(_l("Which entries the round holds"), validate_choice=True)


class ConfirmForm(Form):
    """A page of its own that asks before an action that cannot be undone (no script needed)."""

    submit = SubmitField(_l("Confirm"))


class VoidForm(Form):
    reason = StringField(_l("Reason for voiding"), description=_l("Published with the results."),
                         validators=[DataRequired(message=_l("Write the reason.")), Length(max=500)])
    submit = SubmitField(_l("Void the selected ballots"))


class InviteForm(Form):
    email = EmailField(_l("Juror's e-mail address"), validators=[DataRequired(message=_l("Enter the e-mail address.")),
                                                                 Email(), Length(max=254)])
    name = StringField(_l("Juror's name"), validators=[Length(max=80)])
    submit = SubmitField(_l("Send invitation"))


class DecideForm(Form):
    mode = SelectField(_l("Who advances"), choices=[
        SelectChoice(AdvanceMode.TOP_N.value, _l("The best N entries")),
        SelectChoice(AdvanceMode.TOP_SHARE.value, _l("The best share of entries (per cent)")),
        SelectChoice(AdvanceMode.HAND.value, _l("The entries I pick below")),
    ])
    value = DecimalField(_l("N or per cent"), places=None, validators=[Optional()])
    submit = SubmitField(_l("Confirm who advances"))
