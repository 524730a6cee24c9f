"""Pages and the API read through services: no view module of a blueprint package builds or runs a query of its
own. A route parses, calls a service, renders."""
from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_import_graph import MODULES, blueprint_packages, package_of

# Building a statement, running one, or the legacy Model.query. (A primary-key get, db.get_or_404, stays: it
# builds no query.)
QUERY = re.compile(r"\bselect\(|\bdb\.session\.(?:execute|scalars?)\(|\.query\.")
NOT_VIEWS = {"__init__.py", "forms.py"}


def view_modules() -> list[Path]:
    blueprints = blueprint_packages()
    return sorted(path for name, path in MODULES.items()
                  if package_of(name) in blueprints and path.name not in NOT_VIEWS)


def queries_in(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if QUERY.search(line) and not line.lstrip().startswith("#")]


def test_the_view_modules_are_found():
    names = {f"{path.parent.name}/{path.name}" for path in view_modules()}
    assert {"api/routes.py", "api/represent.py", "console/rounds.py", "public/routes.py"} <= names
    assert queries_in("    rows = db.session.scalars(select(Entry)).all()") != []
    assert queries_in("    entries = entry_service.entries_of_author(current_user)") == []


def test_no_view_module_runs_a_query_of_its_own():
    found = {f"{path.parent.name}/{path.name}": queries_in(path.read_text()) for path in view_modules()}
    assert {name: lines for name, lines in found.items() if lines} == {}


# The block `with saving(...)` (contest/views.py) replaced: a refusal rolled back and flashed or shown by hand.
HAND_ROLLED = re.compile(r"except ServiceError as \w+:\n\s+db\.session\.rollback\(\)\n\s+"
                         r"(?:flash\(str\(\w+\), \"error\"\)|[\w.]+\.errors\.append\(str\(\w+\)\))")


def test_no_view_module_rolls_back_a_refusal_by_hand():
    """A page's service call commits, or rolls back and shows the refusal, through `with saving(...)`; views that
    catch their own errors (a vote's retries, a status of their own) do more than roll back and say it."""
    assert HAND_ROLLED.search('        except ServiceError as error:\n            db.session.rollback()\n'
                              '            flash(str(error), "error")')
    found = {f"{path.parent.name}/{path.name}": hand_rolled(path.read_text()) for path in view_modules()}
    assert {name: n for name, n in found.items() if n} == {}


def hand_rolled(text: str) -> int:
    """The refusals rolled back by hand in a try that catches nothing else (one with several excepts, such as the
    vote's log-in and not-found answers, does more than `saving` does)."""
    alone = 0
    for match in HAND_ROLLED.finditer(text):
        body = text[text.rfind("try:", 0, match.start()):match.start()]
        alone += "except " not in body
    return alone
