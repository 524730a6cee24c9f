"""What a database error means: the server out of reach (restarting, the network cut, every connection busy),
which no retry within the request will mend, as against a lock or a conflict worth trying again at once."""
from __future__ import annotations

import logging
import time

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

# PostgreSQL's SQLSTATEs for a connection that failed or was ended by the server: class 08 (connection
# exception), admin_shutdown, crash_shutdown, cannot_connect_now (starting up), too_many_connections.
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")

# The errors the 503 page answers: a DBAPI OperationalError covers SQLite's "database is locked" after its
# busy timeout too, which is also something to try again in a moment.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def unreachable(error: BaseException | None) -> bool:
    """Whether the error says the database could not be reached or the connection to it broke."""
    if isinstance(error, (DisconnectionError, PoolTimeout, InterfaceError)):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error, OperationalError) and hasattr(error.orig, "sqlstate"):
        # psycopg: an error with no SQLSTATE never came from the server, so the connection is what failed.
        state = error.orig.sqlstate
        return state is None or state.startswith(_UNREACHABLE_STATES)
    return False  # SQLite: a lock, waited out by retrying


def end_session(_exception=None) -> None:
    """Close the request's session at its end (before Flask-SQLAlchemy would). Closing rolls back; when the
    connection has gone, that fails, and the session is closed by invalidating its connection instead: the
    server rolls back what was not committed, and the request that already has its answer keeps it."""
    from contest.extensions import db

    try:
        db.session.remove()
    except SQLAlchemyError as error:
        log.warning("the database connection was lost at the end of a request: %s", type(error).__name__)
        db.session().invalidate()
        db.session.remove()


def discard_transaction() -> None:
    """Roll the request's transaction back, or, when the connection has gone, let it go with the connection."""
    from contest.extensions import db

    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session().invalidate()


def with_retries(action):
    """Run a write and commit it; SQLite may report a concurrent writer as a lock: try again shortly."""
    from flask_babel import gettext as _

    from contest.extensions import db
    from contest.services import ServiceError

    for attempt in range(8):
        try:
            result = action()
            db.session.commit()
            return result
        except OperationalError as error:
            db.session.rollback()
            if unreachable(error):
                raise  # no lock to wait out: the database is gone, and the 503 page says so
            time.sleep(0.02 * (attempt + 1))
    raise ServiceError(_("The site is very busy. Please try again in a moment."))


def claimed_one_by_one(model, ids, conditions):
    """The rows of `model` with these ids that this worker claims, one at a time: each claim is a conditional UPDATE
    (`conditions` says what the claim sets and when: a function of the id giving the WHERE clauses and the values)
    in a transaction of its own, committed with whatever the caller does with the row before asking for the next; a
    row another worker claimed a moment ago is skipped. So two workers at once do each row's work once."""
    from sqlalchemy import update

    from contest.extensions import db

    db.session.commit()  # each claim starts a fresh transaction (SQLite refuses to upgrade a stale read)
    for row_id in ids:
        where, values = conditions(row_id)
        claim = update(model).where(model.id == row_id, *where).values(**values)
        if not db.session.execute(claim.execution_options(synchronize_session=False)).rowcount:
            db.session.rollback()
            continue
        yield db.session.get(model, row_id)
        db.session.commit()


def dialect_insert(table):
    """The INSERT of this database's dialect, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from contest.extensions import db

    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def insert_ignoring_conflicts(model, values: dict, keys: list[str] | None = None) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike; True if the row was inserted.

    With `keys`, only a conflict on that unique constraint is ignored; without, a conflict on any.

    RETURNING tells for sure (a row comes back only when one was written); rowcount is not reliable for
    this statement on every driver.
    """
    from contest.extensions import db

    table = model.__table__
    statement = (dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
                 .returning(table.primary_key.columns.values()[0]))
    return db.session.execute(statement).first() is not None


def insert_rows(executor, table, rows: list[dict], *, ignore_conflicts: bool = False,
                update_on: list[str] | None = None) -> None:
    """Many rows (dicts with the same keys) into one table, on a connection or a session.

    On PostgreSQL in one statement, each column sent as one array and the arrays unnested into rows: an
    executemany sends the server a statement a row, ten times slower for the thousands of rows an entry's
    bands, a call's similar pairs or its results are. Elsewhere (SQLite, in the same process) an executemany.
    With `ignore_conflicts`, a row that conflicts with one already there is left out (ON CONFLICT DO NOTHING);
    with `update_on` (the columns of a unique key), it replaces the other columns of the row there.
    A column left out takes the database's default: one with a default of the model's alone must be given.
    """
    import json

    from sqlalchemy import JSON, Text, bindparam, cast, func, select
    from sqlalchemy.dialects import postgresql, sqlite

    if not rows:
        return
    table = getattr(table, "__table__", table)
    names = list(rows[0])
    bind = executor.get_bind() if hasattr(executor, "get_bind") else executor  # a session, or a connection
    postgres = bind.dialect.name == "postgresql"
    statement = (postgresql.insert if postgres else sqlite.insert)(table)
    if postgres:
        for column in table.c:
            if column.name not in names and column.default is not None and column.server_default is None:
                raise ValueError(f"insert_rows: {table.name}.{column.name} has a default of the model's: give it")
        # JSON is sent as text and cast back: an array of JSON lists would be read as a matrix.
        json_names = {name for name in names if isinstance(table.c[name].type, JSON)}
        arrays = []
        for name in names:
            values = [row[name] for row in rows]
            if name in json_names:
                values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
            kind = Text if name in json_names else table.c[name].type
            arrays.append(bindparam(f"rows_{name}", values, type_=postgresql.ARRAY(kind)))
        unnested = func.unnest(*arrays).table_valued(*names).render_derived()
        statement = statement.from_select(names, select(*[
            cast(unnested.c[name], table.c[name].type) if name in json_names else unnested.c[name]
            for name in names]), include_defaults=False)
    if update_on:
        statement = statement.on_conflict_do_update(
            index_elements=update_on, set_={name: statement.excluded[name] for name in names if name not in update_on})
    elif ignore_conflicts:
        statement = statement.on_conflict_do_nothing()
    if postgres:
        executor.execute(statement)
    else:
        executor.execute(statement, rows)
