"""What belongs to a call: the tables found by walking the foreign keys from `call`, the tables a call shares
with the rest of the site, the ones left out and why, and the condition each owned table's rows of a call meet."""
from __future__ import annotations

from sqlalchemy import Table, and_, or_, select, union
from sqlalchemy.sql.elements import ColumnElement

from contest.archive.format import ArchiveError
from contest.extensions import db

ROOT = "call"

# Shared by every call: matched on import (people by e-mail, departments by their path of names from the top of
# the tree), created only when missing. The members exported are the organisers of the call's departments.
SHARED = ("user", "department", "department_member")
# Owned by the call although no foreign key leads from them to it: the images its rows show.
BY_REFERENCE = ("image",)
# The audit trail of the call's rows: target_type names the table of the row an event is about.
BY_TARGET = ("audit_event",)
LEFT_OUT = {
    "api_token": "a person's credentials for the open-data API: nothing of the call's record, and secret",
    "outbox_mail": "mail waiting to be sent is the site's machinery; restored, it would be sent a second time",
    "phone_code": "a code sent to verify a person's mobile number: short-lived, secret, nothing of the call's record",
}


def _tables() -> dict[str, Table]:
    return {t.name: t for t in db.metadata.sorted_tables}


def _targets(table: Table) -> set[str]:
    return {fk.column.table.name for fk in table.foreign_keys if fk.column.table is not table}


def owned_tables() -> list[Table]:
    """The tables whose rows belong to one call, in the order rows are inserted: `call`, every table with a
    foreign key to one of them, and the images those rows refer to (with every table under an image)."""
    names = {ROOT}
    grown = True
    while grown:
        grown = False
        for table in db.metadata.sorted_tables:
            if table.name in names or table.name in SHARED:
                continue
            refers = _targets(table) & names
            referred = table.name in BY_REFERENCE and any(
                table.name in _targets(other) for other in db.metadata.sorted_tables if other.name in names)
            if refers or referred:
                names.add(table.name)
                grown = True
    return [t for t in db.metadata.sorted_tables if t.name in names]


def coverage() -> dict[str, str]:
    """How each table of the site is archived: owned, shared, by target, or left out (with the reason)."""
    found = {t.name: "owned by the call" for t in owned_tables()}
    found.update({name: "shared, matched on import" for name in SHARED})
    found.update({name: "the call's rows' events" for name in BY_TARGET})
    found.update({name: f"left out: {why}" for name, why in LEFT_OUT.items()})
    return found


def _under(table: Table, parent: str, owned: set[str]) -> bool:
    """Whether the table hangs from `parent` only (an image's files and flags), rather than showing it."""
    return table.name != ROOT and _targets(table) & owned == {parent}


def _selections(call_id: int) -> dict[str, ColumnElement]:
    """For each owned table, the condition its rows of this call meet, built from its foreign keys: every key to
    an owned table points at a row of the call (self-references aside)."""
    owned = owned_tables()
    names = {t.name for t in owned}
    by_name = {t.name: t for t in owned}
    where: dict[str, ColumnElement] = {ROOT: by_name[ROOT].c.id == call_id}

    def ids_of(name: str):
        return select(by_name[name].c.id).where(where[name])

    pending = [t for t in owned if t.name != ROOT]
    while pending:
        left = []
        for table in pending:
            if table.name in BY_REFERENCE:
                showing = [(other, fk) for other in owned for fk in other.foreign_keys
                           if fk.column.table is table and other is not table and not _under(other, table.name, names)]
                if any(other.name not in where for other, _fk in showing):
                    left.append(table)
                    continue
                shown = [select(fk.parent).where(where[other.name], fk.parent.is_not(None)) for other, fk in showing]
                where[table.name] = table.c.id.in_(union(*shown) if len(shown) > 1 else shown[0])
                continue
            # A key to an image is what makes the image the call's, not the other way round (unless the table
            # hangs from the image alone: its files, its duplicate flags).
            keys = [fk for fk in table.foreign_keys if fk.column.table.name in names and fk.column.table is not table
                    and (fk.column.table.name not in BY_REFERENCE or _under(table, fk.column.table.name, names))]
            if any(fk.column.table.name not in where for fk in keys):
                left.append(table)
                continue
            if all(fk.parent.nullable for fk in keys):
                raise ArchiveError(f"table {table.name} has no required key to the call's rows: say in "
                                   "contest/archive/belongs.py how it belongs to a call")
            where[table.name] = and_(*(
                fk.parent.in_(ids_of(fk.column.table.name)) if not fk.parent.nullable
                else or_(fk.parent.is_(None), fk.parent.in_(ids_of(fk.column.table.name))) for fk in keys))
        if len(left) == len(pending):
            raise ArchiveError("the tables of a call depend on each other in a circle: " +
                               ", ".join(t.name for t in left))
        pending = left
    return where

