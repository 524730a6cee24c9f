"""What the pages share around a service call: commit what it wrote, or roll it back and say why."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import flash

from contest.extensions import db
from contest.services import ServiceError


class Saved:
    """Whether the block under `saving` was committed (true) or refused and rolled back (false)."""

    def __init__(self) -> None:
        self.ok = False

    def __bool__(self) -> bool:
        return self.ok


@contextmanager
def saving(refused: list | None = None) -> Iterator[Saved]:
    """Run the block's service calls and commit what they wrote. A refusal (ServiceError) rolls it all back and
    its message is shown: added to `refused` (the errors of a field or of the form) when given, else flashed.
    The page then asks the yielded Saved whether to say "done" or show the form again."""
    saved = Saved()
    try:
        yield saved
    except ServiceError as error:
        db.session.rollback()
        if refused is None:
            flash(str(error), "error")
        else:
            refused.append(str(error))
    else:
        db.session.commit()
        saved.ok = True
