"""The results snapshot's typed form reads the JSON stored on published calls, and writes it back unchanged."""
from __future__ import annotations

import json

import pytest

from contest.snapshot import Place, Snapshot, Summary, remap_row_record, row_record_from_json, row_record_json

# A snapshot as publishing stored it before it had types (version 1): a jury round whose top two advanced to a
# public vote; one finalist no juror scored; an entry out in the jury round; a public place without votes.
STORED = {
    "version": 1, "computed_at": "2026-11-02T08:30:00+00:00",
    "formula": {"expert_weight": 70, "public_weight": 30, "combine_on": "ranks", "expert_round": "评审",
                "public_round": "公众投票", "public_mode": "votes", "counted": ["expert", "public"]},
    "rows": [
        {"entry": 11, "rank": 1, "value": 1.6, "finalist": True, "out_in": None, "unsure": True,
         "expert": {"score": 8.5, "rank": 1, "low": 1, "high": 2, "jurors": 3, "criteria": {"5": 8.0, "6": 9.0},
                    "advanced": True, "percentile": 100.0},
         "public": {"score": 2.0, "rank": 2, "advanced": False, "percentile": 0.0}, "close_to": [12]},
        {"entry": 12, "rank": 2, "value": 1.7, "finalist": True, "out_in": None, "unsure": True,
         "expert": {"percentile": 0.0}, "public": {"score": None, "rank": 1, "advanced": False, "percentile": 100.0}},
        {"entry": 13, "rank": None, "value": None, "finalist": False, "out_in": "评审", "unsure": False,
         "expert": {"score": 6.25, "rank": 3, "low": 2, "high": 3, "jurors": 2, "criteria": {}, "advanced": False}},
        {"entry": 14, "rank": None, "value": None, "finalist": False, "out_in": "评审", "unsure": False, "expert": {}},
    ],
    "rounds": [
        {"id": 3, "title": "评审", "kind": "expert", "entries": 4, "decided": True, "advanced": 2,
         "criteria": [{"id": 5, "name": "安全", "weight": 60, "description": "孩子上学的路"},
                      {"id": 6, "name": "造价", "weight": 40, "description": ""}],
         "scale": [1, 10, 0.5], "marks": ["1", "1.5", "2"], "normalise": True, "trim": 0.0, "jurors": 3,
         "sheets": 5, "alpha": None, "kendall_w": 0.5, "distributions": {"5": [0, 1, 2], "6": [1, 1, 1]},
         "cutoff": 7.5,
         "places": {"11": {"score": 8.5, "rank": 1, "low": 1, "high": 2, "jurors": 3,
                           "criteria": {"5": 8.0, "6": 9.0}, "advanced": True}}},
        {"id": 4, "title": "公众投票", "kind": "public", "entries": 2, "decided": False, "advanced": 0,
         "mode": "votes", "ballots": 2, "voters": 2, "voided": [["新注册账号集中投票", 1]],
         "places": {"11": {"score": 2.0, "rank": 2, "advanced": False},
                    "12": {"score": None, "rank": 1, "advanced": False}}},
        {"id": 5, "title": "复评", "kind": "expert", "entries": 0, "decided": False, "advanced": 0, "criteria": [],
         "scale": [1, 5, 1], "marks": ["1", "2", "3", "4", "5"], "normalise": False, "trim": 0.1, "jurors": 0,
         "sheets": 0, "alpha": None, "kendall_w": None, "distributions": {}, "places": {}},
    ],
    "figures": {"received": 5, "approved": 4, "by_group": [["resident", 3], ["", 1]], "by_channel": [["web", 4]]},
}


def test_a_stored_snapshot_loads_and_is_written_back_as_it_was_stored():
    stored = json.loads(json.dumps(STORED))  # as the JSON column gives it back
    snap = Snapshot.from_json(stored)
    assert snap.to_json() == STORED
    assert json.dumps(snap.to_json(), ensure_ascii=False) == json.dumps(STORED, ensure_ascii=False)  # key order too
    assert Snapshot.from_json(snap.to_json()) == snap


def test_the_typed_snapshot_reads_as_the_results_page_does():
    snap = Snapshot.from_json(STORED)
    first, unscored, out, unplaced = snap.rows
    assert [row.entry for row in snap.finalists] == [11, 12]
    assert first.expert.criteria == {"5": 8.0, "6": 9.0} and first.close_to == [12] and first.public.score == 2.0
    assert unscored.expert == Place(percentile=0.0) and unscored.public.score is None
    assert out.out_in == "评审" and out.public is None and unplaced.expert == Place()
    jury, vote, later = snap.rounds
    assert jury.is_expert and jury.cutoff == 7.5 and jury.criteria[0].name == "安全"
    assert jury.place_of(11).rank == 1 and jury.place_of(13) is None
    assert not vote.is_expert and vote.voided == [("新注册账号集中投票", 1)] and vote.place_of(12).score is None
    assert later.cutoff is None and "cutoff" not in later.to_json()
    assert snap.formula.public_mode == "votes" and snap.figures.by_group == [("resident", 3), ("", 1)]
    assert snap.row_of(13) is out and snap.row_of(99) is None


def test_a_restored_call_s_snapshot_names_its_new_ids():
    snap = Snapshot.from_json(STORED).remapped({11: 111, 12: 112, 13: 113, 14: 114}, {3: 33, 4: 44, 5: 55},
                                              {5: 55, 6: 66})
    stored = snap.to_json()
    assert [row["entry"] for row in stored["rows"]] == [111, 112, 113, 114]
    assert stored["rows"][0]["close_to"] == [112]
    assert stored["rows"][0]["expert"]["criteria"] == {"55": 8.0, "66": 9.0}
    assert [r["id"] for r in stored["rounds"]] == [33, 44, 55]
    assert [c["id"] for c in stored["rounds"][0]["criteria"]] == [55, 66]
    assert stored["rounds"][0]["distributions"] == {"55": [0, 1, 2], "66": [1, 1, 1]}
    assert set(stored["rounds"][1]["places"]) == {"111", "112"}
    with pytest.raises(KeyError):
        Snapshot.from_json(STORED).remapped({11: 111}, {3: 33, 4: 44, 5: 55}, {5: 55, 6: 66})


def test_a_snapshot_of_another_version_is_refused():
    with pytest.raises(ValueError, match="version 2"):
        Snapshot.from_json({**STORED, "version": 2})


def test_a_snapshot_is_stored_in_two_parts_that_put_it_back_together():
    snap = Snapshot.from_json(STORED)
    summary, records = snap.summary(), snap.row_records()
    assert (summary.ranked, summary.finalists) == (4, 2) and all(r.places == {} for r in summary.rounds)
    assert Summary.from_json(json.loads(json.dumps(summary.to_json()))) == summary
    assert [row.entry for row, _places in records] == [11, 12, 13, 14]
    assert records[0][1] == {"3": snap.rounds[0].place_of(11), "4": snap.rounds[1].place_of(11)}
    assert records[3][1] == {}  # no place in any round
    stored = [row_record_from_json(json.loads(json.dumps(row_record_json(row, places)))) for row, places in records]
    assert Snapshot.assemble(summary, stored) == snap
    with pytest.raises(ValueError):
        Summary.from_json(STORED)  # a whole snapshot is not a summary


def test_a_restored_call_s_stored_parts_name_its_new_ids():
    snap = Snapshot.from_json(STORED)
    entries, rounds, criteria = {11: 111, 12: 112, 13: 113, 14: 114}, {3: 33, 4: 44, 5: 55}, {5: 55, 6: 66}
    whole = snap.remapped(entries, rounds, criteria)
    summary = Summary.from_json(snap.summary().to_json()).remapped(rounds, criteria)
    assert summary == whole.summary()
    records = [row_record_from_json(remap_row_record(row_record_json(row, places), entries, rounds, criteria))
               for row, places in snap.row_records()]
    assert Snapshot.assemble(summary, records) == whole
