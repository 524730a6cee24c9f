"""The participatory design-contest platform: the app factory."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from contest.config import load_config


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config(app.instance_path, config))
    _init_logging(app)
    _init_extensions(app)
    _register_blueprints(app)

    from contest.assets import init_assets
    from contest.errors import init_errors
    from contest.security import init_security

    init_assets(app)
    init_errors(app)
    init_security(app)

    from contest.cli import register_cli

    register_cli(app)
    return app


def _init_logging(app: Flask) -> None:
    from contest.request_ids import LOG_FORMAT, init_request_ids

    if not app.debug and not app.testing and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    init_request_ids(app)


def _init_extensions(app: Flask) -> None:
    from contest import models  # noqa: F401  (registers every model with the metadata)
    from contest.display import TEXT_SIZES, text_size
    from contest.extensions import babel, csrf, db, limiter, login_manager, migrate
    from contest.i18n import HTML_LANG, LANGUAGE_NAMES, select_locale, vary_on_language
    from contest.services import (
        counts,  # noqa: F401  (its session hook keeps the entries' counts in step)
        search,  # noqa: F401  (its session hook keeps the search index in step)
    )

    db.init_app(app)
    from contest.database import end_session

    app.teardown_appcontext(end_session)  # registered after Flask-SQLAlchemy's, so it runs before it
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    from contest.security import retry_after_that_means_it

    # Before the limiter's own hook is registered, so that it runs after it (Flask runs them in reverse order).
    app.after_request(retry_after_that_means_it)
    app.after_request(vary_on_language)
    limiter.init_app(app)

    from contest.markup import render_comment, render_markdown
    from contest.storage import init_storage

    init_storage(app)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["comment_markdown"] = render_comment
    from contest.models import CombineOn

    app.jinja_env.globals["combine_label"] = lambda value: CombineOn(value).label
    from contest.localtime import format_moment

    app.jinja_env.filters["datetimeformat"] = format_moment  # Flask-Babel's, without the seconds
    app.jinja_env.filters["isodatetime"] = _iso_datetime
    from contest.i18n import criterion_weight, event_round, lang_attribute, listing, local_text, meeting_place

    app.jinja_env.filters["listing"] = listing  # never a list joined with a separator glued in a template
    app.jinja_env.filters["criterion_weight"] = criterion_weight
    app.jinja_env.filters["meeting_place"] = meeting_place
    app.jinja_env.filters["lang_attribute"] = lang_attribute  # a citizen's text marked with its language
    app.jinja_env.globals["local_text"] = local_text  # a text and its English twin kept apart from the models
    app.jinja_env.globals["event_round"] = event_round
    from contest import pictures

    app.jinja_env.globals["picture_of_rank_intervals"] = pictures.ranking_intervals
    app.jinja_env.globals["picture_of_counts"] = pictures.counts
    app.jinja_env.globals["drawing"] = pictures  # the other pictures' geometry and their limits
    from contest.images import content_types

    app.jinja_env.filters["content_types"] = content_types

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.user_loader(_load_user)

    @app.context_processor
    def language_context():
        from flask_babel import get_locale

        code = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]).split("_")[0]
        return {"current_language": code, "html_lang": HTML_LANG.get(code, code), "language_names": LANGUAGE_NAMES,
                "text_size": text_size(), "text_sizes": TEXT_SIZES}


def _iso_datetime(value: str) -> str:
    """A moment stored as ISO text (in a timeline's detail), shown like any other date."""
    from datetime import datetime

    from contest.localtime import format_moment

    try:
        return format_moment(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return value or ""


def _load_user(user_id: str):
    """A session names a user *and* their current session token; an ended session names a stale one."""
    from contest.extensions import db
    from contest.models import User
    from contest.sessions import named_account, still_stands

    account = named_account(user_id)
    if account is None:
        return None
    user = db.session.get(User, account.id)
    if user is None or not still_stands(account, user.is_active, user.session_token):
        return None
    return user


def main() -> None:
    """The `contest` console script (pyproject.toml): the `flask` command bound to this site's app."""
    from flask.cli import FlaskGroup

    FlaskGroup(name="contest", create_app=create_app).main()


def _register_blueprints(app: Flask) -> None:
    from contest.admin.routes import bp as admin_bp
    from contest.auth.routes import bp as auth_bp
    from contest.console.routes import bp as console_bp
    from contest.jury.routes import bp as jury_bp
    from contest.media.routes import bp as media_bp
    from contest.public.routes import bp as public_bp
    from contest.submit.routes import bp as submit_bp
    from contest.vote.routes import bp as vote_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(submit_bp)
    app.register_blueprint(vote_bp)
    app.register_blueprint(auth_bp, url_prefix="/account")
    app.register_blueprint(console_bp, url_prefix="/console")
    app.register_blueprint(jury_bp, url_prefix="/jury")
    app.register_blueprint(admin_bp, url_prefix="/admin")

    from contest.followup.routes import bp as followup_bp

    app.register_blueprint(followup_bp)

    from contest.meetings.routes import bp as meetings_bp

    app.register_blueprint(meetings_bp)

    from contest.comments.routes import bp as comments_bp

    app.register_blueprint(comments_bp)

    from contest.posters.routes import bp as posters_bp

    app.register_blueprint(posters_bp)

    from contest.statistics.routes import bp as statistics_bp

    app.register_blueprint(statistics_bp)

    from contest.feeds.routes import bp as feeds_bp

    app.register_blueprint(feeds_bp)

    from contest.api.routes import bp as api_bp
    from contest.api.tokens import bp as api_tokens_bp

    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(api_tokens_bp, url_prefix="/account")

    from contest.health import init_health

    init_health(app)


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if _is_sqlite(dbapi_connection):
        # Let SQLAlchemy say when transactions begin: the driver's own guess breaks SAVEPOINTs (a RELEASE
        # would commit). Foreign keys are enforced only when asked; WAL lets readers and a writer overlap.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
