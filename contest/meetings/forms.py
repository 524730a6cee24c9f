"""Forms of the meetings and common-issues pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from contest.forms import DisplayName, Form, LocationForm, MinuteField
from contest.models import MEETING_KIND_LABELS, MeetingKind
from contest.text import DESCRIPTION, PERSON_NAME, TITLE


class MeetingForm(LocationForm):
    """A meeting; its venue is the address the place picker fills beside the point."""

    title = StringField(_l("Title in Chinese"), description=_l("E.g. Long-table talk on the renovation of Tianlin "
                                                               "estate."),
                        validators=[DataRequired(message=_l("Give the meeting a title.")), Length(max=200)])
    title_en = StringField(_l("Title in English (optional)"), validators=[Length(max=300)])
    kind = SelectField(_l("Kind of meeting"),
                       choices=[SelectChoice(k.value, MEETING_KIND_LABELS[k]) for k in MeetingKind])
    held_at = MinuteField(_l("Held on (Shanghai time)"), validators=[
        InputRequired(message=_l("Give the date and time of the meeting."))])
    place_id = SelectField(_l("Place"), coerce=int, validate_choice=False,
                           description=_l("The district, street or community where it was held (optional)."))
    venue = StringField(_l("Venue"), description=_l("The room or address (optional)."), validators=[Length(max=200)])
    address = None  # the venue says it
    attendees = IntegerField(_l("Number of attendees"), default=0, validators=[
        InputRequired(message=_l("Give the number of attendees as a whole number, 0 or more.")),
        NumberRange(min=0, max=1_000_000, message=_l("Give the number of attendees as a whole number, 0 or more."))])
    organisations = TextAreaField(_l("Organisations present"), description=_l("One a line (optional)."),
                                  validators=[Length(max=5000)])
    minutes = TextAreaField(_l("Minutes in Chinese"), description=_l("Public. Markdown: **bold**, lists, "
                                                                     "## headings, links."),
                            validators=[Length(max=50000)])
    minutes_en = TextAreaField(_l("Minutes in English (optional)"), validators=[Length(max=100000)])
    submit = SubmitField(_l("Save meeting"))

    @property
    def kind_value(self) -> MeetingKind:
        return MeetingKind(self.kind.data)


class SuggestionForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the suggestion a title.")),
                                                  Length(max=TITLE.max)])
    description = TextAreaField(_l("The suggestion"), validators=[Length(max=DESCRIPTION.max)])
    topic_id = SelectField(_l("Topic"), coerce=int, validate_choice=False)
    place_id = SelectField(_l("Place"), coerce=int, validate_choice=False,
                           description=_l("The place the suggestion is about (optional)."))
    author_name = StringField(_l("Who raised it"), description=_l("Leave empty for an anonymous suggestion."),
                              validators=[Length(max=PERSON_NAME.max), DisplayName(on_behalf=True)])
    submit = SubmitField(_l("Add suggestion"))


class TagForm(Form):
    """Acts on the entries ticked in the list (`entry` checkboxes inside the same form)."""

    name = StringField(_l("Issue"), description=_l("In your own words, e.g. not enough benches. At most 60 "
                                                   "characters."))
    tag_id = SelectField(_l("Tag to remove"), coerce=int, validate_choice=False)
    add = SubmitField(_l("Tag the selected entries"))
    remove = SubmitField(_l("Remove the tag from the selected entries"))
    delete = SubmitField(_l("Remove the tag from every entry"))


class MergeForm(Form):
    """Entries by their number (shown beside each entry of the list): a call of 160,000 entries is no list to
    choose from. The service checks that both are approved entries of the call."""

    entry_id = IntegerField(_l("Number of the entry to merge"), description=_l(
        "It keeps its text, author and votes, and leaves the public gallery."), validators=[InputRequired(
            message=_l("Give the number of the entry to merge, e.g. 1024."))])
    into_id = IntegerField(_l("Number of the entry it is merged into"), description=_l(
        "The entry kept: its page lists the entries merged into it."), validators=[InputRequired(
            message=_l("Give the number of the entry kept, e.g. 1024."))])
    reason = TextAreaField(_l("Reason"), description=_l("Shown on both entries' pages."),
                           validators=[DataRequired(message=_l("Give the reason for the merge: it is shown on both "
                                                               "entries.")), Length(max=500)])
    submit = SubmitField(_l("Merge"))


class UnmergeForm(Form):
    """Only its CSRF token: the button is one per merged entry."""
