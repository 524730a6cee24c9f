"""Forms of the comments: a report, the organisers' review, and the call's comment settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from contest.forms import Form
from contest.models import REPORT_LABELS, ReportCategory


class EndorseForm(Form):
    submit = SubmitField(_l("Useful"))


class ReportForm(Form):
    category = RadioField(_l("What is wrong with it"),
                          choices=[SelectChoice(c.value, REPORT_LABELS[c]) for c in ReportCategory],
                          validators=[DataRequired(message=_l("Choose why you report this comment."))])
    reason = TextAreaField(_l("Your reason"), description=_l("The organisers read it; the author does not see who "
                                                             "reported."),
                           validators=[DataRequired(message=_l("Write the reason for your report.")),
                                       Length(max=1000)])
    submit = SubmitField(_l("Report the comment"))


class CommentModerationForm(Form):
    reason = TextAreaField(_l("Reason"), description=_l("The author sees it, and readers see it in place of a "
                                                        "hidden comment."),
                           validators=[DataRequired(message=_l("Write the reason: the author sees it.")),
                                       Length(max=1000)])
    hide = SubmitField(_l("Hide"))
    restore = SubmitField(_l("Show"))


class CommentSettingsForm(Form):
    comments_open = BooleanField(_l("Comments are open"))
    closed_while_judging = BooleanField(_l("Close the comments while the jury scores"))
    submit = SubmitField(_l("Save the comment settings"))
