"""Forms of the jurors' pages and of the organisers' round pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from contest.forms import Form, MinuteField
from contest.models import AdvanceMode


class RoundForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the round a title.")),
                                                  Length(max=200)])
    criteria = TextAreaField(_l("Criteria"), description=_l("One a line: name | weight | description. The "
                                                            "weights add up to 100."),
                             validators=[DataRequired(message=_l("Give the round at least one criterion.")),
                                         Length(max=5000)])
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

    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the round a title.")),
                                                  Length(max=200)])
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


class ActionForm(Form):
    submit = SubmitField(_l("Go"))


class DecideForm(Form):
    mode = SelectField(_l("Who advances"), choices=[
        SelectChoice(AdvanceMode.TOP_N.value, _l("The best N entries")),
        SelectChoice(AdvanceMode.TOP_SHARE.value, _l("The best share of entries (per cent)")),
        SelectChoice(AdvanceMode.HAND.value, _l("The entries I pick below")),
    ])
    value = DecimalField(_l("N or per cent"), places=None, validators=[Optional()])
    submit = SubmitField(_l("Confirm who advances"))


class ScoreForm(Form):
    version = HiddenField()
    note_to_organisers = TextAreaField(_l("Note for the organisers"), validators=[Length(max=5000)])
    note_to_entrant = TextAreaField(_l("Note for the entrant"), description=_l("The entrant sees it, without "
                                                                               "your name."),
                                    validators=[Length(max=5000)])
    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit score"))


class RecuseForm(Form):
    reason = StringField(_l("Why"), validators=[DataRequired(message=_l("Say briefly why.")), Length(max=500)])
    conflict = BooleanField(_l("I have a conflict of interest with this entry"))
    submit = SubmitField(_l("Step back from this entry"))
