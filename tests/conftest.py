"""Fixtures: a database made by the migrations once per run (SQLite, or PostgreSQL with --db postgresql),
an app per test on it whose every session works inside one transaction that is rolled back after the test
(or, for a test marked real_commits, commits for real and has every table emptied after it); clients;
domain-named people, departments and calls."""
from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
import os
import secrets
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import current_app, has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from jinja2 import BytecodeCache
from sqlalchemy import Integer, bindparam, create_engine, event, func, select, text
from sqlalchemy.engine import Connection, make_url

from contest import create_app
from contest.extensions import db, limiter
from contest.models import AdvanceMode, CallKind, CombineOn, DepartmentKind, Entry, Prize, Vote
from contest.models.types import utcnow
from contest.services import accounts, search
from contest.services import public as public_service
from contest.services import rounds as round_service
from tests import helpers

ROOT = Path(__file__).resolve().parent.parent

# scrypt at its production cost takes a tenth of a second a password, on purpose; the suite logs in hundreds of times.
# Its tests hash and check with scrypt still, at a cost of 2**10 (the stored hash names it, so checks follow it);
# the test that times two paths of registration against each other asks for the production cost back.
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"
accounts.PASSWORD_METHOD = TEST_PASSWORD_METHOD

# The run's temporary folders (tmp_path: the SQLite database, uploaded files; the servers' and Chromium's too) in
# memory when the machine has a tmpfs, unless TMPDIR names a place: every file stored and every SQLite commit is
# flushed to disk with fsync, as in production, and on a tmpfs that flush costs nothing.
if "TMPDIR" not in os.environ and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK):
    os.environ["TMPDIR"] = tempfile.tempdir = "/dev/shm"


@pytest.fixture
def production_password_cost(monkeypatch):
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "scrypt")
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgresql"], default=os.environ.get("CONTEST_TEST_DB", "sqlite"),
                     help="database backend to run the suite on")


# Tests that run in one pass of the suite only: the other pass deselects them, and says so, rather than skip them.
ONE_PASS_ONLY = {  # marker -> (the pass that runs them, why the other does not)
    "postgresql": ("postgresql", "they need a PostgreSQL server (to cut mid-run, under the production stack) or "
                                 "a statement of its own, which SQLite does not have; the PostgreSQL pass runs them"),
    "sqlite_pass_only": ("sqlite", "they check pages, whatever the database; the SQLite pass runs them"),
}
# The tests of tests/unit touch no database: the same code on the same inputs whatever --db says. When scripts/test
# runs both passes (CONTEST_TEST_BOTH_PASSES=1) they run once, in the PostgreSQL pass, as the SQLite pass has the
# accessibility walk besides; a pass run alone runs them.
UNIT = ROOT / "tests" / "unit"
if os.environ.get("CONTEST_TEST_BOTH_PASSES") == "1":
    ONE_PASS_ONLY["database_free"] = ("postgresql", "they touch no database (tests/unit); the PostgreSQL pass "
                                                    "beside this one runs them")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if UNIT in item.path.parents:
            item.add_marker(pytest.mark.database_free)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for marker, (runs_in, why) in ONE_PASS_ONLY.items():
        if config.getoption("--db") == runs_in:
            continue
        other_pass = [item for item in items if item.get_closest_marker(marker)]
        if other_pass:
            items[:] = [item for item in items if item not in other_pass]
            config.hook.pytest_deselected(items=other_pass)
            if reporter is not None:
                reporter.write_line(f"deselected {len(other_pass)} test(s) marked {marker}: {why}")


# Python's full garbage collection walks every object alive, and a test run keeps some 300,000 of them (the models,
# SQLAlchemy's and Jinja's caches, the loaded modules): it was a sixth of an integration test's CPU. Most live as
# long as the run, so after the first test (whose lazy imports are the last of them) and then every FREEZE_EVERY
# tests, what is alive once the garbage is collected is frozen out of the collector's later walks (gc.freeze), and
# the full collection runs a tenth as often; the young generations, where a test's own garbage is, are collected
# as usual.
gc.set_threshold(700, 10, 100)
FREEZE_EVERY = 100
_tests_run = [0]


@pytest.hookimpl(trylast=True)  # after the test's fixtures are torn down
def pytest_runtest_teardown(item, nextitem):
    if _tests_run[0] % FREEZE_EVERY == 0:
        gc.collect()
        gc.freeze()
    _tests_run[0] += 1


def pytest_report_header(config):
    return f"database backend: {config.getoption('--db')}"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """The catalogs are compiled at install, never committed; compile them here too so a bare `pytest` works."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (ROOT / "contest" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue  # compiled already (scripts/test does it first, and both passes run at once)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        partial = mo_path.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        partial.replace(mo_path)  # whole or not at all for a pass reading it meanwhile


@contextlib.contextmanager
def new_database(backend: str, folder: Path):
    """The URL of a database of its own on the backend, created here and dropped (PostgreSQL) at the end."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'contest.sqlite3'}"
        return
    server_url = make_url(os.environ.get("CONTEST_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test"))
    name = f"contest_test_{os.getpid()}_{secrets.token_hex(4)}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A commit does not wait for its WAL to reach the disk (the run's own database only: a crash of the server
        # could lose its last commits, never make them half-done), as a tmpfs spares the SQLite pass the same wait.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    # A database of its own for this run.
    with new_database(request.config.getoption("--db"), tmp_path_factory.mktemp("db")) as url:
        yield url
        for engine in SHARED_ENGINES.values():
            engine.dispose()


@pytest.fixture
def empty_database(request, tmp_path):
    """A database of this test's own, with no schema, on the run's backend: for tests of the migrations."""
    folder = tmp_path / "empty-db"
    folder.mkdir()
    with new_database(request.config.getoption("--db"), folder) as url:
        yield url


def settings_for_tests(database_url: str, tmp_path: Path, **overrides) -> dict:
    config = {
        "CONTEST_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_BACKEND": "log",
        "MAIL_QUEUE": True,  # as in production: a mail goes out only through a committed outbox row and the worker
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "BASE_URL": "http://localhost",  # the test client's address, so that a mail's link is one it can follow
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory):
    """The schema, made the only way it is ever made: by running the migrations."""
    from flask_migrate import upgrade

    app = create_app(settings_for_tests(database_url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def empty_tables(connection) -> None:
    """Delete every row, and on PostgreSQL start the ids again at 1 (SQLite's follow the rows).

    DELETE, not TRUNCATE, on PostgreSQL too: the tests leave a few rows, and TRUNCATE gives each of some 200 tables
    and indexes a new file (five times as long). The search's side table goes with its entries (ON DELETE CASCADE)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # the tree refers to itself
    for table in reversed(db.metadata.sorted_tables):
        connection.execute(table.delete())
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S' "
                                   "AND relnamespace = 'public'::regnamespace")


def empty_all_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            empty_tables(connection)
        db.engine.dispose()


class SessionInTestTransaction(FlaskSession):
    """Flask-SQLAlchemy's session, on the test's connection when its app has one.

    Flask-SQLAlchemy picks the app's engine and ignores a bind given to the session, so the test's connection is
    looked up here. On that connection, whose transaction the test holds open, a session joins by a SAVEPOINT
    (join_transaction_mode="create_savepoint"): its commit releases the savepoint, its rollback rolls back to
    it, and everything is gone when the test's transaction is rolled back at the end.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_app_context():
            connection = current_app.extensions.get("contest_test_connection")
            if connection is not None:
                return connection
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db.session.session_factory.class_ = SessionInTestTransaction
db.session.session_factory.configure(join_transaction_mode="create_savepoint")


class CompiledTemplates(BytecodeCache):
    """The templates compiled once for the whole run (in memory), not again by each test's new app; keyed by name
    and source checksum, so a changed template is compiled afresh. Every test app's Jinja settings are the same."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def _url_builders_compiled_once() -> None:
    """Werkzeug compiles two URL-building functions per route each time an app registers its routes: with some 120
    routes that is nine tenths of making an app (about 85 ms), and the suite makes an app per test. The generated
    function depends only on the rule's parsed parts and defaults and takes the rule itself as its first argument,
    so for the tests it is compiled once per distinct rule and reused by every later app."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    compiled: dict[tuple, object] = {}

    def once(self, append_unknown: bool = True):
        defaults = tuple(sorted((name, repr(value)) for name, value in (self.defaults or {}).items()))
        converters = tuple((name, type(converter), repr({k: v for k, v in vars(converter).items() if k != "map"}))
                           for name, converter in sorted(self._converters.items()))
        key = (append_unknown, self.rule, tuple(self._trace), defaults, converters)
        builder = compiled.get(key)
        if builder is None:
            builder = compiled[key] = compile_builder(self, append_unknown)
        return builder

    Rule._compile_builder = once

    # Parsing a converter's arguments (`<int:id>` has none) is a slow regular expression: a third of what is left
    # of making an app. Its result depends on the text alone, and the caller unpacks it into a new converter.
    from werkzeug.routing import rules

    parsed: dict[str, tuple] = {}
    parse_converter_args = rules.parse_converter_args

    def parsed_once(argstr: str):
        if argstr not in parsed:
            parsed[argstr] = parse_converter_args(argstr)
        args, kwargs = parsed[argstr]
        return args, dict(kwargs)

    rules.parse_converter_args = parsed_once

    # What is left of a rule's compiling is parsing it into parts (the regular expressions the matcher is made of),
    # again the same for the same rule text on the same kind of map. Parsed once, a later app's rule takes the
    # parts (never changed once made), the trace and fresh copies of the converters, bound to its own map; its
    # builders come from `once` above.
    compile_rule = Rule.compile
    parsed_rules: dict[tuple, tuple] = {}

    def compiled_once(self) -> None:
        domain = (self.host if self.map.host_matching else self.subdomain) or ""
        key = (self.rule, domain, self.merge_slashes, self.map.host_matching,
               tuple(sorted(self.map.converters.items())))
        known = parsed_rules.get(key)
        if known is None:
            compile_rule(self)
            parsed_rules[key] = (tuple(self._parts), tuple(self._trace), dict(self._converters))
            return
        parts, trace, converters = known
        self._parts, self._trace = list(parts), list(trace)
        self._converters = {}
        for name, converter in converters.items():
            fresh = object.__new__(type(converter))
            fresh.__dict__.update(vars(converter), map=self.map)
            self._converters[name] = fresh
        self.arguments.update(converters)
        self._build = self._compile_builder(False).__get__(self, None)
        self._build_unknown = self._compile_builder(True).__get__(self, None)

    Rule.compile = compiled_once


_url_builders_compiled_once()


def _static_names_hashed_once() -> None:
    """Each app hashes every file under static/ for its names (contest/assets.py): a quarter of making an app once
    the routes are compiled once. The site's own folder is hashed again only when a file in it changed (by the
    names, sizes and times of its files); any other folder (the tests of the hashing) every time."""
    from contest import assets

    hashed_names = assets.hashed_names
    site_static = ROOT / "static"
    known: dict = {}

    def hashed_once(folder: Path) -> dict[str, str]:
        if Path(folder).resolve() != site_static:
            return hashed_names(folder)
        files = [os.path.join(top, name) for top, _dirs, names in os.walk(folder) for name in names]
        signature = tuple(sorted((path, stat.st_mtime_ns, stat.st_size) for path in files
                                 for stat in (os.stat(path),)))
        if known.get("signature") != signature:
            known["signature"], known["names"] = signature, hashed_names(folder)
        return dict(known["names"])

    assets.hashed_names = hashed_once


_static_names_hashed_once()


SHARED_ENGINES: dict[str, object] = {}  # the engine options (URL included) -> the one engine the run's apps share


def _engines_shared_by_the_run() -> None:
    """Flask-SQLAlchemy makes an engine for each app, and an engine compiles each SQL statement afresh into a cache
    of its own: with an app per test, compiling the same statements again was a fifth of an integration test's time.
    The run's apps on the same database with the same engine options share one engine, so its cache of compiled
    statements lasts the run; each test still has a transaction of its own (app_factory), on a connection from the
    engine's pool, which lasts the run too: a new connection for each test (on PostgreSQL a server process started
    and its caches of the schema filled again) was a sixth of a PostgreSQL integration test's time. The engine-wide
    listeners (contest/__init__.py) are on the Engine class, not on one engine."""
    from flask_sqlalchemy import SQLAlchemy

    make_engine = SQLAlchemy._make_engine

    def shared(self, bind_key, options, app):
        key = repr(sorted((name, repr(value)) for name, value in options.items()))
        engine = SHARED_ENGINES.get(key)
        if engine is None:
            engine = SHARED_ENGINES[key] = make_engine(self, bind_key, options, app)
        return engine

    SQLAlchemy._make_engine = shared


_engines_shared_by_the_run()


PROCESSED_PICTURES: dict[tuple, object] = {}  # (the upload's hash, the pipeline's options) -> its ProcessedImage
PROCESSED_AT_MOST = 4 * 1024 * 1024  # larger uploads (the tests of huge photos) go through the pipeline every time


def _pictures_made_once() -> None:
    """The tests send the same pictures again and again (each demo load alone draws some 60 and puts each through
    the image pipeline: a third of its time), and both are pure: the same arguments give the same bytes. The
    demo's drawings are kept for the run, and so is what the pipeline made of an upload with the same options;
    its ProcessedImage is frozen and holds only bytes, so whoever stores it gets what a fresh run gives. What the
    pipeline refuses is not kept: it is checked and refused afresh each time, as is any upload when the pipeline's
    guard against truncated images is off (it refuses to run then)."""
    import hashlib

    from PIL import ImageFile

    from contest import demo_images, images

    for name in ("railing", "street_photo", "manhole_cover"):
        setattr(demo_images, name, functools.cache(getattr(demo_images, name)))

    process_image = images.process_image

    @functools.wraps(process_image)
    def processed_once(data: bytes, **options):
        if ImageFile.LOAD_TRUNCATED_IMAGES or len(data) > PROCESSED_AT_MOST:
            return process_image(data, **options)
        key = (hashlib.sha256(data).digest(),
               tuple(sorted((name, repr(sorted(value) if isinstance(value, (set, frozenset)) else value))
                            for name, value in options.items())))
        result = PROCESSED_PICTURES.get(key)
        if result is None:
            result = PROCESSED_PICTURES[key] = process_image(data, **options)
        return result

    images.process_image = processed_once
    from contest.services import media

    media.process_image = processed_once


_pictures_made_once()


class RequestIsolatingClient(FlaskClient):
    """Each request runs in contexts of its own, as it would on a server.

    Flask reuses an app context already pushed (the one a test body works in), which would share `g`
    and the database session between requests. Run each request in an empty contextvars context
    instead, then expire what the test's session holds so that it reads what the request wrote.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()  # what the test set up is in the database before the request, as in life
        def run():
            response = super(RequestIsolatingClient, self).open(*args, **kwargs)
            response.get_data()  # read it all (a streamed body in its request's context), then close it
            response.close()
            return response

        response = contextvars.Context().run(run)
        body = getattr(self, "_request_body", None)
        if body is not None:  # a large body is spooled to a temporary file that nothing else closes
            body.close()
            self._request_body = None
        if has_app_context():
            db.session.expire_all()
        return response


    def _request_from_builder_args(self, args, kwargs):
        request = super()._request_from_builder_args(args, kwargs)
        self._request_body = request.environ.get("wsgi.input")
        return request


class WorkerOutbox(list):
    """The log backend's outbox as a test reads it: the mails the worker has sent.

    The worker would be running beside the app all along; here each look at the outbox first lets it send what
    is due, in contexts of its own as its process would. What the test itself holds is committed first, as the
    test client does before a request; a mail of a rolled-back transaction is never seen.
    """

    def __init__(self, app):
        super().__init__()
        self.app, self.running = app, False

    def deliver_due(self) -> None:
        from contest.worker import send_queued

        if self.running:
            return
        self.running = True
        try:
            if has_app_context():
                db.session.commit()

            def work():
                with self.app.app_context():
                    send_queued()

            contextvars.Context().run(work)
            if has_app_context():
                db.session.expire_all()
        finally:
            self.running = False

    # Every way the tests read it (appending, as the log backend does, needs no worker).
    def __iter__(self):
        self.deliver_due()
        return super().__iter__()

    def __reversed__(self):
        self.deliver_due()
        return super().__reversed__()

    def __len__(self):
        self.deliver_due()
        return super().__len__()

    def __getitem__(self, index):
        self.deliver_due()
        return super().__getitem__(index)

    def __contains__(self, mail):
        self.deliver_due()
        return super().__contains__(mail)

    def __eq__(self, other):
        self.deliver_due()
        return super().__eq__(other)

    __hash__ = None

    def __repr__(self):
        self.deliver_due()
        return super().__repr__()

    def clear(self):
        self.deliver_due()
        super().clear()


class DemoSnapshot:
    """The demo as `flask demo` loads it on a fresh site, made once per pass and put into the sites of the tests
    that start from the demo (`install`): every row of every table, ids included, the search's words and every
    stored file. Putting it in takes 0.1 s on SQLite and 0.35 s on PostgreSQL, where the command takes 3 s and
    5 s. The tests of the command itself (test_cli) run it."""

    def __init__(self, app) -> None:
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["demo"])
            assert result.exit_code == 0, result.output
            self.made_at = utcnow()
            connection = db.session.connection()
            self.rows = [(table, [dict(row._mapping) for row in connection.execute(
                select(table).order_by(*table.primary_key.columns))]) for table in db.metadata.sorted_tables]
            self.words = search.stored_words(connection, [row["id"] for row in dict(self.rows)[Entry.__table__]])
            self.sequences = {}  # PostgreSQL: table -> (its id sequence, the demo's last id)
            if connection.dialect.name == "postgresql":
                for table, rows in self.rows:
                    keys = list(table.primary_key.columns)
                    if rows and len(keys) == 1 and isinstance(keys[0].type, Integer):
                        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                                     {"table": f'"{table.name}"', "column": keys[0].name})
                        if sequence:
                            self.sequences[table.name] = (sequence, max(row[keys[0].name] for row in rows))
            db.session.remove()
        uploads = Path(app.config["UPLOAD_DIR"])
        self.files = {path.relative_to(uploads): path.read_bytes() for path in uploads.rglob("*") if path.is_file()}

    def install(self, app) -> None:
        """Put the demo into the app's empty site, in the current transaction, with its times moved on by the time
        since it was made (a round that opened an hour before it was loaded opened an hour before now), as if the
        command had just run; then commit."""
        from contest.models import Department, User

        connection = db.session.connection()
        assert not connection.scalar(select(func.count()).select_from(User)) and \
            not connection.scalar(select(func.count()).select_from(Department)), "the demo goes into an empty site"
        later = utcnow() - self.made_at
        days = (self.made_at + later).date() - self.made_at.date()

        def moved(value):
            if isinstance(value, datetime):
                return value + later
            if isinstance(value, date):
                return value + days
            return value

        referring_back = []  # the rows' references to rows of their own table, set once every row is in
        for table, rows in self.rows:
            if not rows:
                continue
            own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
            connection.execute(table.insert(), [{name: None if name in own else moved(value)
                                                 for name, value in row.items()} for row in rows])
            if own:
                referring_back.append((table, own, rows))
        for table, own, rows in referring_back:
            keys = [column.name for column in table.primary_key.columns]
            for name in own:
                changed = [row for row in rows if row[name] is not None]
                if changed:
                    connection.execute(
                        table.update().where(*(table.c[key] == bindparam(f"key_{key}") for key in keys))
                        .values({name: bindparam(f"new_{name}")}),
                        [{**{f"key_{key}": row[key] for key in keys}, f"new_{name}": row[name]} for row in changed])
        for sequence, last in self.sequences.values():  # the next id of each table follows the demo's, as on the site
            connection.execute(text("SELECT setval(CAST(:sequence AS regclass), :value)"),
                               {"sequence": sequence, "value": last})
        search.write_words(connection, self.words)  # the search's side table, which the models do not name
        db.session.commit()
        uploads = Path(app.config["UPLOAD_DIR"])
        for relative, data in self.files.items():
            (uploads / relative).parent.mkdir(parents=True, exist_ok=True)
            (uploads / relative).write_bytes(data)


@pytest.fixture(scope="session")
def demo_snapshot(migrated_database, tmp_path_factory) -> DemoSnapshot:
    """The demo loaded once, by its command, on an empty site whose ids start at 1 (the rows are deleted after)."""
    app = create_app(settings_for_tests(migrated_database, tmp_path_factory.mktemp("demo")))
    empty_all_tables(app)  # earlier tests rolled back their rows, but PostgreSQL's sequences went on
    snapshot = DemoSnapshot(app)
    empty_all_tables(app)
    return snapshot


@pytest.fixture
def app_factory(request, migrated_database, tmp_path):
    """Make an app on the test database with extra settings.

    What the test and its requests write stays in one transaction on one connection, rolled back afterwards.
    A test marked real_commits (a server in other threads or processes, several connections, a lost
    connection) commits for real instead, and every table is emptied afterwards.
    """
    made: list = []
    real_commits = request.node.get_closest_marker("real_commits") is not None
    test_connection: list[Connection] = []  # one for the whole test, whichever of its apps opened it

    def factory(**overrides):
        app = create_app(settings_for_tests(migrated_database, tmp_path, **overrides))
        app.test_client_class = RequestIsolatingClient
        app.extensions["contest_outbox"] = WorkerOutbox(app)
        app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        if not real_commits:
            if not test_connection:
                with app.app_context():
                    connection = db.engine.connect()
                connection.begin()
                test_connection.append(connection)
            app.extensions["contest_test_connection"] = test_connection[0]
        made.append(app)
        return app

    yield factory
    limiter.reset()
    if real_commits:
        for app in made:
            empty_all_tables(app)
        return
    for connection in test_connection:
        connection.rollback()
        connection.close()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def another_client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app):
    from contest.mail import outbox as app_outbox

    return app_outbox()


@pytest.fixture
def count_queries(app):
    """Count the SQL statements a block runs: `with count_queries() as counter: ...; counter.n`."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        class Counter:
            n = 0
            statements: list[str] = []

        def before(conn, cursor, statement, *args, **kwargs):
            if statement.split(None, 1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}:
                return  # transaction control, not a query
            Counter.n += 1
            Counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield Counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


# People and places of the contest -------------------------------------------------------------

@pytest.fixture
def citizen(app):
    return helpers.make_user("citizen@example.org", name="张三")


@pytest.fixture
def admin(app):
    return helpers.make_user("admin@example.org", name="管理员", admin=True)


@pytest.fixture
def city(app):
    return helpers.make_department("上海市", DepartmentKind.CITY, name_en="Shanghai")


@pytest.fixture
def transport_commission(city):
    return helpers.make_department("上海市交通委员会", DepartmentKind.AGENCY, city,
                                   name_en="Shanghai Municipal Transport Commission")


@pytest.fixture
def planning_bureau(city):
    return helpers.make_department("上海市规划和自然资源局", DepartmentKind.AGENCY, city,
                                   name_en="Shanghai Planning and Natural Resources Bureau")


@pytest.fixture
def transport_organiser(transport_commission):
    return helpers.make_organiser(transport_commission, "transport@example.org", name="王老师")


@pytest.fixture
def organiser_client(client, transport_organiser):
    helpers.log_in(client, transport_organiser.email)
    return client


@pytest.fixture
def english_organiser_client(organiser_client):
    organiser_client.get("/lang/en")
    return organiser_client


# Calls and what is sent to them ---------------------------------------------------------------------------------

@pytest.fixture
def railing_call(transport_commission):
    return helpers.make_call(transport_commission)


@pytest.fixture
def call(transport_commission):
    return helpers.make_call(transport_commission)


@pytest.fixture
def idea_call(transport_commission):
    return helpers.make_call(transport_commission, kind=CallKind.IDEA, title="15分钟社区生活圈", images_min=0)


@pytest.fixture
def entries(railing_call):
    """Five approved entries to the railing call (a module that needs another number says so in its own)."""
    return helpers.approved_entries(railing_call, 5)


# A call with results to publish ------------------------------------------------------------------------------

STORY_MARKS = {0: 9, 1: 8, 2: 7, 3: 5}  # entry index -> the mark every juror gives on every criterion
STORY_VOTES = [(1, 2, 0), (1, 2), (1,)]  # voter -> entries voted for: B 3 votes, C 2, A 1


def _score_round(round_, organiser, jurors, marks_of):
    """Every juror scores every entry assigned to them with the marks given per entry id, then time passes
    and the round is over."""
    round_service.assign(organiser, round_)
    for _user, member in jurors:
        for assignment in round_service.juror_list(member):
            mark = str(marks_of[assignment.entry_id])
            round_service.save_score(member, assignment, {c.id: mark for c in round_.criteria},
                                     "组织方备注：可以", f"给作者的话{assignment.entry_id}", submit=True, version=None)
    db.session.commit()
    round_.opens_at, round_.closes_at = utcnow() - timedelta(days=3), utcnow() - timedelta(days=2)
    db.session.commit()


@pytest.fixture
def story(app, transport_commission, transport_organiser):
    """A closed call with four entries A-D: a jury round (A 9, B 8, C 7, D 5; the top three advance) and a votes
    round (B 3 votes, C 2, A 1, and one voided vote for C). Formula 70/30 on ranks."""
    call = helpers.make_call(transport_commission)
    call.expert_weight, call.public_weight, call.combine_on = 70, 30, CombineOn.RANKS
    call.prizes = [Prize(position=0, name="一等奖", count=1), Prize(position=1, name="二等奖", count=1)]
    db.session.commit()
    entries = helpers.approved_entries(call, 4)
    call.closes_at = utcnow() - timedelta(days=4)  # closed for entries
    db.session.commit()
    expert = helpers.make_round(call, transport_organiser, k=3)
    jurors = [helpers.make_juror(expert, f"juror{n}@example.org", name=f"评委甲{n}") for n in range(3)]
    with app.test_request_context():
        _score_round(expert, transport_organiser, jurors, {e.id: STORY_MARKS[i] for i, e in enumerate(entries)})
        round_service.decide(transport_organiser, expert, AdvanceMode.TOP_N, 3, set())
        db.session.commit()
        public = helpers.make_public_round(call, transport_organiser, votes=3)
        voters = [helpers.make_voter(f"voter{n}@example.org") for n in range(4)]
        for voter, picks in zip(voters, STORY_VOTES, strict=False):
            for index in picks:
                public_service.cast_vote(voter, public, entries[index])
        public_service.cast_vote(voters[3], public, entries[2])
        db.session.commit()
        ballot = db.session.scalar(select(Vote.id).where(Vote.user_id == voters[3].id))
        public_service.void(transport_organiser, public, [ballot], "新注册账号集中投票")
        db.session.commit()
    public.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return {"call": call, "entries": entries, "expert": expert, "public": public, "jurors": jurors,
            "voters": voters}
