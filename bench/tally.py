"""Benchmark: the full expert-round aggregation against a naive per-entry ORM loop of plain means.

2,000 entries, 30 jurors, 5 criteria, k = 5: the full tally (loading the sheets, per-juror normalisation,
agreement, 1,000 bootstrap samples for rank intervals) beside a straightforward loop over ORM objects that
computes only each entry's plain weighted mean, in the same run, on the same database. Ends with one line
of JSON: {"bench": "tally", "ratio": full / naive, ...}.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

ENTRIES, JURORS, CRITERIA, K, SAMPLES = 2000, 30, 5, 5, 1000


def build(app):
    from contest.assignment import assign
    from contest.extensions import db
    from contest.models import (
        Assignment,
        Call,
        CallKind,
        Channel,
        Criterion,
        Department,
        DepartmentKind,
        Entry,
        EntryStatus,
        ParticipantGroup,
        Round,
        RoundKind,
        RoundMember,
        Score,
        User,
    )
    from contest.models.types import utcnow
    from contest.services.counts import recount

    now = utcnow()
    department = Department(name="交通委", kind=DepartmentKind.CITY)
    call = Call(kind=CallKind.DESIGN, title="bench", department=department, opens_at=now - timedelta(days=30),
                closes_at=now - timedelta(days=1), published_at=now - timedelta(days=31))
    db.session.add(call)
    db.session.flush()
    users = [{"id": i + 1, "email": f"u{i}@example.org", "password_hash": "x", "display_name": f"u{i}",
              "group": ParticipantGroup.CITIZEN, "locale": "zh", "is_admin": False, "created_at": now,
              "session_token": f"t{i}"} for i in range(ENTRIES + JURORS)]
    db.session.execute(insert(User), users)
    db.session.execute(insert(Entry), [
        {"id": i + 1, "call_id": call.id, "author_id": i + 1, "slot": 1, "channel": Channel.WEB,
         "status": EntryStatus.APPROVED, "title": f"e{i}", "description": "", "created_at": now,
         "updated_at": now, "author_name": "", "rejection_reason": ""} for i in range(ENTRIES)])
    recount(db.session.connection(), [call.id])  # past the session: count them as its hook would
    round_ = Round(call=call, position=1, kind=RoundKind.EXPERT, title="r", opens_at=now - timedelta(days=1),
                   closes_at=now + timedelta(days=1), jurors_per_entry=K, seed=7)
    weights = [30, 20, 20, 20, 10]
    round_.criteria = [Criterion(position=i, name=f"c{i}", weight=w) for i, w in enumerate(weights)]
    db.session.add(round_)
    db.session.flush()
    db.session.execute(insert(RoundMember), [
        {"id": j + 1, "round_id": round_.id, "user_id": ENTRIES + j + 1, "email": f"j{j}@example.org",
         "name": "", "role": "juror", "invited_at": now, "accepted_at": now} for j in range(JURORS)])
    plan = assign(list(range(1, ENTRIES + 1)), list(range(1, JURORS + 1)), K, seed=1)
    rng = random.Random(3)
    leniency = {j: rng.uniform(-1.5, 1.5) for j in range(1, JURORS + 1)}
    quality = {e: rng.uniform(3, 9) for e in range(1, ENTRIES + 1)}
    assignments, scores, aid = [], [], 0
    criterion_ids = [c.id for c in round_.criteria]
    for entry_id, jurors in plan.items():
        for juror in jurors:
            aid += 1
            assignments.append({"id": aid, "round_id": round_.id, "member_id": juror, "entry_id": entry_id,
                                "position": aid, "created_at": now, "recusal_reason": ""})
            marks = {str(c): max(1.0, min(10.0, round((quality[entry_id] + leniency[juror]
                                                        + rng.gauss(0, 1)) * 2) / 2)) for c in criterion_ids}
            scores.append({"assignment_id": aid, "marks": marks, "submitted_at": now, "updated_at": now,
                           "note_to_organisers": "", "note_to_entrant": "", "version": 1})
    db.session.execute(insert(Assignment), assignments)
    db.session.execute(insert(Score), scores)
    db.session.commit()
    return round_.id


def naive_plain_means(round_id):
    """What one would write first: for every entry, walk its assignments and scores through the ORM."""
    from contest.extensions import db
    from contest.models import Assignment, Entry, Round, RoundMember

    round_ = db.session.get(Round, round_id)
    weights = {c.id: c.weight for c in round_.criteria}
    means = {}
    for entry in db.session.scalars(select(Entry).where(Entry.call_id == round_.call_id)):
        values = []
        for assignment in db.session.scalars(select(Assignment).join(RoundMember).where(
                Assignment.entry_id == entry.id, Assignment.round_id == round_id)):
            score = assignment.score
            if score is not None and score.submitted_at is not None:
                values.append(sum(float(score.marks[str(c)]) * w for c, w in weights.items()) / sum(weights.values()))
        if values:
            means[entry.id] = sum(values) / len(values)
    return means


def main() -> None:
    from flask_migrate import upgrade

    from contest import create_app
    from contest.extensions import db
    from contest.models import Round
    from contest.services import rounds as round_service

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3", "SECRET_KEY": "bench",
                          "TESTING": True, "UPLOAD_DIR": folder})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            round_id = build(app)
            print(f"filled {ENTRIES} entries, {JURORS} jurors, {CRITERIA} criteria, k={K} "
                  f"in {time.perf_counter() - started:.1f} s")
            naive_times, full_times = [], []
            for _ in range(3):
                db.session.expire_all()
                started = time.perf_counter()
                naive = naive_plain_means(round_id)
                naive_times.append(time.perf_counter() - started)
                db.session.expire_all()
                started = time.perf_counter()
                tally = round_service.ranking(db.session.get(Round, round_id), cut=100, samples=SAMPLES)
                full_times.append(time.perf_counter() - started)
            naive_s, full_s = statistics.median(naive_times), statistics.median(full_times)
            raw = {r.entry_id: r.raw_score for r in tally.results}
            agree = max(abs(raw[e] - naive[e]) for e in naive)
            straddling = sum(1 for r in tally.results if r.straddles_cut)
            print(f"{'':38}{'seconds':>10}")
            print(f"{'naive per-entry ORM loop, plain mean':38}{naive_s:>10.3f}")
            print(f"{'full tally (normalised, agreement,':38}")
            print(f"{'  1,000 bootstrap samples)':38}{full_s:>10.3f}")
            print(f"ratio full / naive: {full_s / naive_s:.3f} (target: below 1)")
            print(f"plain means agree with the naive loop to {agree:.2e}; "
                  f"alpha={tally.agreement.alpha:.3f}; {straddling} entries straddle a cut at 100")
            print(json.dumps({"bench": "tally", "ratio": round(full_s / naive_s, 3), "full_s": round(full_s, 3),
                              "naive_s": round(naive_s, 3), "entries": ENTRIES, "jurors": JURORS,
                              "criteria": CRITERIA, "k": K, "samples": SAMPLES,
                              "alpha": round(tally.agreement.alpha, 4), "straddling": straddling,
                              "max_plain_mean_difference": agree}))


if __name__ == "__main__":
    main()
