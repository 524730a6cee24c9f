"""Texts that say the same thing, found when they are indexed: a bounded look at the entries sharing their bands,
the same on PostgreSQL's one-statement path as entry by entry, and the hint to a citizen bounded the same way."""
import pytest
from sqlalchemy import func, select

from contest.extensions import db
from contest.minhash import text_bands
from contest.models import EntryBand, SimilarEntry
from contest.services import issues as issue_service
from contest.services import similar
from tests.integration.test_city_scale import _indexed, more_entries


@pytest.mark.postgresql  # the LATERAL path is PostgreSQL's
def test_postgresqls_one_statement_finds_each_entrys_candidates(app, idea_call, railing_call):
    ids = _indexed(more_entries(idea_call, 40) + more_entries(railing_call, 5, first=500))
    connection = db.session.connection()
    bands = {}
    for entry_id, value in connection.execute(select(EntryBand.entry_id, EntryBand.value)
                                              .order_by(EntryBand.entry_id, EntryBand.band)):
        bands.setdefault(entry_id, []).append(value)
    calls = dict(connection.execute(select(EntryBand.entry_id, EntryBand.call_id).distinct()).all())
    one_by_one = {i: similar.candidates(connection, calls[i], bands[i], around=i) for i in ids}
    assert similar.neighbours(connection, ids) == {i: found for i, found in one_by_one.items() if found}
    assert max(len(found) for found in one_by_one.values()) == similar.CHECKED  # more were there to be had


def test_an_entry_among_many_alike_is_compared_with_a_few_and_keeps_its_best(app, idea_call):
    ids = _indexed(more_entries(idea_call, 80))
    connection = db.session.connection()
    values = text_bands("建议40：小区停车难 错峰开放停车场。")
    found = similar.candidates(connection, idea_call.id, values, around=ids[40])
    assert len(found) == similar.CHECKED and ids[40] not in found and set(found) <= set(ids)
    per_entry = select(SimilarEntry.entry_id, func.count()).group_by(SimilarEntry.entry_id)
    assert max(n for _e, n in db.session.execute(per_entry)) <= 2 * similar.KEPT


def test_the_hint_to_a_citizen_reads_a_few_of_many_alike(app, idea_call):
    ids = _indexed(more_entries(idea_call, 60))
    hint = issue_service.similar_sent(idea_call, "建议61：小区停车难", "错峰开放停车场。")
    assert len(hint) == 5 and {e.id for e in hint} <= set(ids)
    assert issue_service.similar_sent(idea_call, "菜场", "希望菜场周末也开门，方便上班的人买菜。") == []


def test_a_chunk_of_bands_and_pairs_is_written_in_one_statement_and_a_pair_found_twice_is_kept_once(
        app, idea_call):
    from sqlalchemy import event

    from contest.database import insert_rows

    ids = more_entries(idea_call, 30)
    writes: list[tuple[str, bool]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO entry_band") or statement.startswith("INSERT INTO similar_entry"):
            writes.append((statement.split()[2], executemany))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        _indexed(ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert {table for table, _many in writes} == {"entry_band", "similar_entry"}
    if db.engine.dialect.name == "postgresql":  # the rows as arrays, not a statement a row (SQLite: in process)
        assert writes == [("entry_band", False), ("similar_entry", False)]
    pairs = [{"entry_id": e, "other_id": o, "call_id": c, "similarity": s}
             for e, o, c, s in db.session.execute(select(SimilarEntry.entry_id, SimilarEntry.other_id,
                                                         SimilarEntry.call_id, SimilarEntry.similarity))]
    assert len(pairs) >= 30
    again = [dict(pair, similarity=0.0) for pair in pairs[:5]]
    new = {"entry_id": ids[0], "other_id": ids[-1], "call_id": idea_call.id, "similarity": 0.9}
    db.session.execute(SimilarEntry.__table__.delete().where(SimilarEntry.entry_id == ids[0],
                                                             SimilarEntry.other_id == ids[-1]))
    insert_rows(db.session, SimilarEntry, [*again, new], ignore_conflicts=True)
    stored = dict(((e, o), s) for e, o, s in db.session.execute(
        select(SimilarEntry.entry_id, SimilarEntry.other_id, SimilarEntry.similarity)))
    assert len(stored) == len({(p["entry_id"], p["other_id"]) for p in pairs} | {(ids[0], ids[-1])})
    assert all(stored[(p["entry_id"], p["other_id"])] == p["similarity"] for p in pairs[:5])  # the first stands
    assert stored[(ids[0], ids[-1])] == 0.9
