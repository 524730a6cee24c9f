"""The final formula: parts combined on ranks or percentiles, ties shared, missing scores last."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.formula import EPSILON, PERCENTILES, RANKS, Part, combine, competition_ranks, fractional_ranks, percentile


def test_fractional_ranks_share_ties_and_put_missing_scores_last():
    assert fractional_ranks([1, 2, 3, 4, 5], {1: 9.0, 2: 7.0, 3: 7.0, 4: 1.0}) == {1: 1, 2: 2.5, 3: 2.5, 4: 4, 5: 5}
    assert fractional_ranks([1, 2, 3], {}) == {1: 2, 2: 2, 3: 2}


def test_percentiles_run_from_100_for_the_best_to_0_for_the_last():
    assert [percentile(r, 5) for r in (1, 3, 5)] == [100, 50, 0]
    assert percentile(1, 1) == 100


def test_a_hand_computed_example_on_ranks():
    # Jury: A > B > C (ranks 1, 2, 3). Public: B 300 votes, C 299, A 10 (ranks 3, 1, 2).
    jury = Part("expert", 70, {"A": 8.1, "B": 7.9, "C": 7.0})
    public = Part("public", 30, {"A": 10, "B": 300, "C": 299})
    result = combine(["A", "B", "C"], [jury, public], RANKS)
    # A 0.7*1 + 0.3*3 = 1.6; B 0.7*2 + 0.3*1 = 1.7; C 0.7*3 + 0.3*2 = 2.7
    assert [(r.entry_id, round(r.value, 9), r.rank) for r in result] == [("A", 1.6, 1), ("B", 1.7, 2), ("C", 2.7, 3)]
    assert result[1].parts["public"].rank == 1 and result[1].parts["public"].score == 300


def test_a_small_margin_in_votes_is_one_place_not_the_whole_weight():
    jury = Part("expert", 50, {"A": 9, "B": 8})
    close = combine(["A", "B"], [jury, Part("public", 50, {"A": 100, "B": 101})], PERCENTILES)
    landslide = combine(["A", "B"], [jury, Part("public", 50, {"A": 1, "B": 10000})], PERCENTILES)
    assert [(r.entry_id, r.value) for r in close] == [(r.entry_id, r.value) for r in landslide]
    assert close[0].rank == close[1].rank == 1  # 50/50 and opposite orders: a tie, shared


def test_parts_of_weight_zero_do_not_count_and_ties_share_the_better_rank():
    result = combine([1, 2, 3], [Part("expert", 100, {1: 5, 2: 5, 3: 4}), Part("public", 0, {3: 99})], RANKS)
    assert [(r.entry_id, r.rank) for r in result] == [(1, 1), (2, 1), (3, 3)]
    with pytest.raises(ValueError):
        combine([1], [], "votes")


def test_competition_ranks_count_the_entries_placed_strictly_better():
    fractional = fractional_ranks([1, 2, 3, 4, 5], {1: 9.0, 2: 7.0, 3: 7.0, 4: 1.0})
    assert competition_ranks(fractional) == {1: 1, 2: 2, 3: 2, 4: 4, 5: 5}
    assert competition_ranks({}) == {}


@given(st.dictionaries(st.integers(1, 400), st.one_of(st.none(), st.integers(0, 6).map(float)), max_size=60))
def test_competition_ranks_equal_counting_for_each_entry(scores):
    entry_ids = sorted(scores)
    fractional = fractional_ranks(entry_ids, {e: s for e, s in scores.items() if s is not None})
    counted = {e: 1 + sum(1 for r in fractional.values() if r < mine - EPSILON) for e, mine in fractional.items()}
    assert competition_ranks(fractional) == counted
