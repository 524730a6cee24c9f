"""The WSGI app bench/votes.py serves under gunicorn; used by that benchmark alone, never by the site.

It is the site's app with the vote rate limits raised (there is no environment variable for them, so they
are given to create_app), plus one bare route the site never has: a single
INSERT ... ON CONFLICT DO NOTHING into the vote table and a commit, the floor the vote endpoint is measured
against. It refuses to load unless CONTEST_BENCH=votes, so it cannot be served by mistake.
"""
from __future__ import annotations

import os

from flask import request
from sqlalchemy.dialects.postgresql import insert

from contest import create_app
from contest.extensions import csrf, db
from contest.models import Vote
from contest.models.types import utcnow

if os.environ.get("CONTEST_BENCH") != "votes":
    raise RuntimeError("bench/_votes_app.py is for bench/votes.py only (it adds a bare insert route)")

BENCH_LIMITS = {"VOTE_LIMIT_PER_ACCOUNT": "100000/minute", "VOTE_LIMIT_PER_ADDRESS": "100000/minute"}

app = create_app(dict(BENCH_LIMITS))


@csrf.exempt
def bare_insert(round_id: int, entry_id: int, user_id: int):
    statement = insert(Vote).values(
        round_id=round_id, user_id=user_id, entry_id=entry_id, created_at=utcnow(),
        address=(request.remote_addr or "")[:64], voided_reason="",
    ).on_conflict_do_nothing(index_elements=["round_id", "user_id", "entry_id"])
    # preserve_rowcount: without it SQLAlchemy 2.1 on psycopg reports -1 for this INSERT, inserted or not.
    inserted = db.session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount
    db.session.commit()
    return "", 204, {"X-Inserted": str(inserted)}


# Registered here, at import, before gunicorn hands the app its first request.
app.add_url_rule("/_bench/insert/<int:round_id>/<int:entry_id>/<int:user_id>", "bench_bare_insert",
                 bare_insert, methods=["POST"])
