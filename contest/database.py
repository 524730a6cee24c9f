"""What a database error means: the server out of reach (restarting, the network cut, every connection busy),
which no retry within the request will mend, as against a lock or a conflict worth trying again at once."""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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
