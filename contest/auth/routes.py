"""Account pages: thin skins over contest.services.accounts."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse as parse_limit

from contest.auth import bp
from contest.auth.forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    DownloadDataForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    NotificationsForm,
    PhoneCodeForm,
    PhoneForm,
    ProfileForm,
    RegisterForm,
    RemovePhoneForm,
    ResendConfirmationForm,
    ResetPasswordForm,
)
from contest.display import kept_preferences
from contest.extensions import db, limiter
from contest.forms import UnfollowForm
from contest.i18n import LANGUAGE_NAMES
from contest.models import MailKind, User
from contest.models.types import utcnow
from contest.security import safe_next
from contest.services import (
    ServiceError,
    account_deletion,
    accounts,
    audit,
    following,
    notifications,
    personal_data,
    phones,
)
from contest.views import saving


def _account_key() -> str:
    """Rate limits per account: keyed by the e-mail typed into the form."""
    return "account:" + accounts.normalise_email(request.form.get("email", ""))


def _account_and_address_key() -> str:
    """Failed logins per account at one address: what a stranger typing wrong passwords uses up."""
    return f"{_account_key()}|address:{get_remote_address()}"


def _failed_login(response) -> bool:
    # A successful login redirects; a wrong password or a bad form counts against the limits. An attempt that
    # was refused by a limit does not: hammering at one address must not use up the account's limit from all.
    return response.status_code not in (302, 429)


def _warn_owner_of_failed_logins(breach) -> None:
    """The account's limit from every address is reached: tell the owner, at most once per warning window
    (Flask-Limiter counts the warnings too)."""
    warning = parse_limit(current_app.config["LOGIN_WARNING_MAIL_LIMIT"])
    if limiter.limiter.hit(warning, "login-warning", breach.key):
        accounts.warn_of_failed_logins(request.form.get("email", ""))
        db.session.commit()  # the mail is in the outbox: it goes once this is committed


@bp.app_template_global()
def way_back() -> str | None:
    """Where a page's "log in" and "register" links lead back to after login: the page itself when it was read
    (GET), with the path the site is served under; on the account pages, the way back they were given. Only ever
    a page of this site."""
    if request.blueprint == bp.name:
        return safe_next(request.args.get("next"))
    if request.method != "GET":
        return None
    return safe_next(request.script_root + request.full_path.rstrip("?"))


def _config(key):
    return lambda: current_app.config[key]


def _start_session(user: User) -> None:
    """Log in on a fresh session (nothing from before login carries over but the visitor's choices, such as the
    language and the text size, and the posters they scanned)."""
    kept = kept_preferences() | ({"posters": session["posters"]} if "posters" in session else {})
    session.clear()
    session.update(kept)
    login_user(user)


def _end_session() -> None:
    kept = kept_preferences()
    logout_user()
    session.clear()
    session.update(kept)


def _tell_tokens_revoked(count: int) -> None:
    if count:
        flash(_("Your API tokens have been revoked too: make a new one for each phone or app that still needs "
                "one."), "success")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_config("REGISTER_LIMIT_PER_ADDRESS"), methods=["POST"])
@limiter.limit(_config("REGISTER_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"])
def register():
    """Create an account. `next` (a page of this site, such as an invitation) is where the person comes back to
    once confirmed and logged in; `email` fills in the address they were invited at."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("public.index"))
    form = RegisterForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"].strip()[:254]
    if form.validate_on_submit():
        try:
            accounts.register_user(
                form.email.data, form.password.data, form.display_name.data, form.group.group,
                locale=str(get_locale()), next_url=next_url,
            )
        except ServiceError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            return redirect(url_for("auth.check_mail", reason="register", next=next_url))
    return render_template("auth/register.html", form=form, next_url=next_url)


@bp.route("/check-mail")
def check_mail():
    reason = request.args.get("reason", "register")
    return render_template("auth/check_mail.html", reason=reason if reason in {"register", "reset"} else "register",
                           next_url=safe_next(request.args.get("next")),
                           reset_minutes=int(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 60))


@bp.route("/confirm/<token>")
def confirm_email(token: str):
    """Confirm the address, then go on to the page the person registered from (`next`), through the login."""
    next_url = safe_next(request.args.get("next"))
    try:
        accounts.confirm_email(token)
    except ServiceError as error:
        return render_template("auth/message.html", title=_("Confirm your e-mail address"), message=str(error)), 400
    db.session.commit()
    flash(_("Thank you: your e-mail address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(next_url or url_for("public.index"))
    return redirect(url_for("auth.login", next=next_url))


@bp.route("/confirm/resend", methods=["POST"])
@login_required
@limiter.limit(_config("MAIL_LIMIT_PER_ACCOUNT"), key_func=lambda: f"user:{current_user.id}")
def resend_confirmation():
    form = ResendConfirmationForm()
    if form.validate_on_submit() and not current_user.is_confirmed:
        accounts.send_confirmation(current_user)
        db.session.commit()  # the mail is in the outbox: it goes once this is committed
        flash(_("We have sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("auth.profile"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_config("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=_failed_login)
@limiter.limit(_config("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"), key_func=_account_and_address_key, methods=["POST"],
               deduct_when=_failed_login)
@limiter.limit(_config("LOGIN_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"],
               deduct_when=_failed_login, on_breach=_warn_owner_of_failed_logins)
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("public.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except ServiceError as error:
            form.form_errors.append(str(error))
        else:
            if user is None:
                form.form_errors.append(_("The e-mail address or the password is not correct."))
            else:
                accounts.record_login(user)
                db.session.commit()
                _start_session(user)
                flash(_("You are logged in."), "success")
                return redirect(next_url or url_for("public.index"))
    return render_template("auth/login.html", form=form, next_url=next_url)


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        revoked = accounts.end_all_sessions(current_user)
        db.session.commit()
        _end_session()
        flash(_("You are logged out on every device."), "success")
        _tell_tokens_revoked(revoked)
    return redirect(url_for("public.index"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_config("MAIL_LIMIT_PER_ADDRESS"), methods=["POST"])
@limiter.limit(_config("MAIL_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()  # the mail is in the outbox: it goes once this is committed
        return redirect(url_for("auth.check_mail", reason="reset"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        accounts.user_for_reset_token(token)
    except ServiceError as error:
        return render_template("auth/message.html", title=_("Set a new password"), message=str(error)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            revoked = accounts.reset_password(token, form.password.data)
        except ServiceError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            _end_session()
            flash(_("Your password has been changed and you are logged out everywhere. Please log in."), "success")
            _tell_tokens_revoked(revoked)
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.group.data = current_user.group.value
    if form.validate_on_submit():
        try:
            accounts.update_profile(current_user, form.display_name.data, form.group.group, form.locale.data)
        except ServiceError as error:
            form.locale.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, resend_form=ResendConfirmationForm(),
                           followed_calls=following.followed_calls(current_user), unfollow_form=UnfollowForm())


@bp.route("/notifications", methods=["GET", "POST"], endpoint="notifications")
@login_required
def notifications_page():
    """Which mails the logged-in person receives, and whether as a daily digest (only their own)."""
    user = current_user._get_current_object()
    form = NotificationsForm()
    if request.method == "GET":
        form.kinds.data = [kind.value for kind in MailKind if kind.value not in (user.mail_off or ())]
        form.delivery.data = "digest" if user.mail_digest else "single"
    if form.validate_on_submit():
        try:
            notifications.set_preferences(user, user, [MailKind(value) for value in form.kinds.data],
                                          digest=form.delivery.data == "digest")
        except ServiceError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Your e-mail choices are saved."), "success")
            return redirect(url_for("auth.notifications"))
    return render_template("auth/notifications.html", form=form,
                           language=LANGUAGE_NAMES.get(user.locale, user.locale))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            revoked = accounts.change_password(current_user, form.current_password.data, form.password.data)
        except ServiceError as error:
            form.current_password.errors.append(str(error))
        else:
            db.session.commit()
            _start_session(current_user._get_current_object())
            flash(_("Your password has been changed. Every other session has been logged out."), "success")
            _tell_tokens_revoked(revoked)
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/my-data", methods=["GET", "POST"])
@login_required
@limiter.limit("10/hour", methods=["POST"], key_func=lambda: f"my-data:{current_user.get_id()}")
def my_data():
    """What the platform holds of the person, downloaded as a zip of JSON and their entries' pictures."""
    form = DownloadDataForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        body = personal_data.data_archive(user)
        audit.record(user, "user.data_downloaded", "user", user.id)  # who and when; nothing of the data
        db.session.commit()
        response = Response(body, mimetype="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="my-data-{utcnow():%Y%m%d}.zip"'
        response.headers["Cache-Control"] = "no-store"
        return response
    return render_template("auth/my_data.html", form=form)


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit("10/hour", methods=["POST"], key_func=lambda: f"delete-account:{current_user.get_id()}")
def delete_account():
    """The confirm page of "delete my account": what goes and what stays, and the password once more."""
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    refusal = account_deletion.refusal(user)
    if refusal is None and form.validate_on_submit():
        try:
            account_deletion.delete_account(user, form.password.data)
        except ServiceError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            _end_session()
            flash(_("Your account and your personal data have been deleted."), "success")
            return redirect(url_for("public.index"))
    return render_template("auth/delete_account.html", form=form, refusal=refusal)


def _number_key() -> str:
    """Codes sent per number (whichever account asks): keyed by the number's HMAC, never the number."""
    try:
        return "phone:" + phones.phone_key(phones.normalise(request.form.get("number", "")))
    except ServiceError:
        return "phone:invalid"


def _phone_page(form=None, code_form=None, status=200):
    user = current_user._get_current_object()
    return render_template("auth/phone.html", form=form or PhoneForm(formdata=None),
                           code_form=code_form or PhoneCodeForm(formdata=None), remove_form=RemovePhoneForm(),
                           user=user, waiting=request.args.get("sent") == "1"), status


@bp.route("/phone", methods=["GET", "POST"])
@login_required
@limiter.limit(_config("PHONE_CODE_LIMIT_PER_ADDRESS"), methods=["POST"])
@limiter.limit(_config("PHONE_CODE_LIMIT_PER_NUMBER"), key_func=_number_key, methods=["POST"])
def phone():
    """Add a mobile number: type it, get a code by SMS, type the code (the page shows the last two digits only)."""
    form = PhoneForm()
    if form.validate_on_submit():
        with saving(form.number.errors) as saved:
            phones.send_code(current_user._get_current_object(), form.number.data)
        if saved:
            flash(_("A code was sent to your phone. Type it below."), "success")
            return redirect(url_for("auth.phone", sent=1))
    return _phone_page(form=form)


@bp.route("/phone/verify", methods=["POST"])
@login_required
@limiter.limit(_config("VOTE_LIMIT_PER_ACCOUNT"), key_func=lambda: f"phone-verify:{current_user.get_id()}")
def verify_phone():
    code_form = PhoneCodeForm()
    if code_form.validate_on_submit():
        try:
            phones.verify_code(current_user._get_current_object(), code_form.code.data)
        except phones.WrongCode as error:
            db.session.commit()  # the wrong answer counts towards the lock
            code_form.code.errors.append(str(error))
        except ServiceError as error:
            db.session.rollback()
            code_form.code.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Your mobile number is verified."), "success")
            return redirect(url_for("auth.profile"))
    return _phone_page(code_form=code_form)


@bp.route("/phone/remove", methods=["POST"])
@login_required
def remove_phone():
    if RemovePhoneForm().validate_on_submit():
        phones.remove_phone(current_user._get_current_object())
        db.session.commit()
        flash(_("Your mobile number has been removed."), "success")
    return redirect(url_for("auth.phone"))
