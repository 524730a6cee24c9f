"""Forms of the account pages."""
from __future__ import annotations

from flask import current_app
from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from contest.forms import DisplayName, Form, GroupField
from contest.i18n import LANGUAGE_NAMES
from contest.models import MAIL_KIND_LABELS
from contest.text import PERSON_NAME

EMAIL_VALIDATORS = [DataRequired(message=_l("Enter your e-mail address.")),
                    Email(message=_l("Enter a valid e-mail address, like name@example.org.")),
                    Length(max=254)]
PASSWORD_HINT = LazyString(
    lambda: gettext("At least %(n)d characters.", n=current_app.config["PASSWORD_MIN_LENGTH"]))


def new_password_fields(label, again_label):
    """A new password and the same again, as two fields."""
    password = PasswordField(label, description=PASSWORD_HINT,
                             validators=[DataRequired(message=_l("Choose a password.")), Length(max=256)])
    confirm = PasswordField(again_label, validators=[
        DataRequired(message=_l("Enter the password again.")),
        EqualTo("password", message=_l("The two passwords are not the same.")),
    ])
    return password, confirm


class RegisterForm(Form):
    email = EmailField(_l("E-mail address"), validators=EMAIL_VALIDATORS)
    display_name = StringField(
        _l("Name to show"),
        description=_l("Shown with your entries unless a round is blind."),
        validators=[DataRequired(message=_l("Enter the name to show.")), Length(max=PERSON_NAME.max), DisplayName()],
    )
    group = GroupField()
    password, confirm = new_password_fields(_l("Password"), _l("Password again"))
    submit = SubmitField(_l("Create account"))


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=EMAIL_VALIDATORS)
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password."))])
    submit = SubmitField(_l("Log in"))


class LogoutForm(Form):
    submit = SubmitField(_l("Log out"))


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail address"), validators=EMAIL_VALIDATORS)
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(Form):
    password, confirm = new_password_fields(_l("New password"), _l("New password again"))
    submit = SubmitField(_l("Set new password"))


class DownloadDataForm(Form):
    submit = SubmitField(_l("Download my data"))


class PhoneForm(Form):
    number = StringField(_l("Mobile number"), validators=[DataRequired(message=_l("Enter your mobile number."))])
    submit = SubmitField(_l("Send a code"))


class PhoneCodeForm(Form):
    code = StringField(_l("The six-digit code"), validators=[DataRequired(message=_l("Enter the code."))])
    submit = SubmitField(_l("Verify"))


class RemovePhoneForm(Form):
    submit = SubmitField(_l("Remove my mobile number"))


class DeleteAccountForm(Form):
    password = PasswordField(_l("Your password"), validators=[DataRequired(message=_l("Enter your password."))])
    submit = SubmitField(_l("Delete my account"))


class ResendConfirmationForm(Form):
    submit = SubmitField(_l("Send the confirmation link again"))


class ProfileForm(Form):
    display_name = StringField(_l("Name to show"),
                               validators=[DataRequired(message=_l("Enter the name to show.")),
                                           Length(max=PERSON_NAME.max), DisplayName()])
    group = GroupField()
    locale = SelectField(_l("Language of the e-mails we send you"),
                         choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
    submit = SubmitField(_l("Save profile"))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(message=_l("Enter your current password."))])
    password, confirm = new_password_fields(_l("New password"), _l("New password again"))
    submit = SubmitField(_l("Change password"))


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NotificationsForm(Form):
    kinds = CheckboxesField(_l("Send me these e-mails"),
                            choices=[SelectChoice(kind.value, label) for kind, label in MAIL_KIND_LABELS.items()])
    delivery = RadioField(_l("How to send them"), choices=[
        SelectChoice("single", _l("One mail each, as it happens")),
        SelectChoice("digest", _l("A daily digest: everything of the day in one mail")),
    ], validators=[InputRequired(message=_l("Choose how to send them."))])
    submit = SubmitField(_l("Save my choices"))
