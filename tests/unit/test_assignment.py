"""Assigning jurors to entries: k each, never a conflict, loads as even as the conflicts allow, reproducibly."""
from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contest.assignment import AssignmentError, assign, replacement

PROPERTY = settings(deadline=None, max_examples=100)


def loads(panels: dict[int, list[int]], jurors, existing=None) -> Counter:
    """Every juror's total load: what they already had plus what was added."""
    count = Counter(dict.fromkeys(jurors, 0))
    for panel in [*panels.values(), *(existing or {}).values()]:
        count.update(j for j in panel if j in count)
    return count


def spread(count: Counter) -> int:
    return max(count.values()) - min(count.values())


# --- examples --------------------------------------------------------------------------------------------

def test_every_entry_gets_k_different_jurors():
    panels = assign(range(1, 21), [101, 102, 103, 104, 105, 106], 3, seed=1)
    assert sorted(panels) == list(range(1, 21))
    assert all(len(panel) == len(set(panel)) == 3 for panel in panels.values())
    assert loads(panels, range(101, 107)) == Counter(dict.fromkeys(range(101, 107), 10))


def test_an_entry_gets_every_juror_when_there_are_fewer_than_k():
    assert assign([1, 2], [7, 8], 5) == {1: [7, 8], 2: [7, 8]}


def test_a_conflicted_juror_is_never_assigned_and_the_entry_still_gets_k():
    # Juror 1 designed entry 5 and juror 2 is the author's teacher; only jurors 3 and 4 may score it.
    conflicts = {(1, 5), (2, 5)}
    panels = assign(range(1, 11), [1, 2, 3, 4], 2, conflicts=conflicts, seed=3)
    assert panels[5] == [3, 4]
    assert all(len(panel) == 2 for panel in panels.values())
    assert spread(loads(panels, [1, 2, 3, 4])) <= 1


def test_an_entry_with_too_few_eligible_jurors_gets_all_of_them():
    panels = assign([1, 2], [10, 20, 30], 3, conflicts={(10, 1), (20, 1)})
    assert panels == {1: [30], 2: [10, 20, 30]}


def test_balance_is_restored_where_greedy_picking_would_go_wrong():
    # Entries 1-4 may only go to jurors 1 and 2. Taken in a bad order, greedy picking would pile
    # other entries on jurors 1 and 2 first; the result must still be 4 entries each.
    conflicts = {(juror, entry) for juror in (3, 4) for entry in (1, 2, 3, 4)}
    for seed in range(20):
        panels = assign(range(1, 9), [1, 2, 3, 4], 2, conflicts=conflicts, seed=seed)
        assert loads(panels, [1, 2, 3, 4]) == Counter({1: 4, 2: 4, 3: 4, 4: 4})
        assert all(panels[entry] == [1, 2] for entry in (1, 2, 3, 4))


def test_existing_assignments_are_kept_and_topped_up():
    existing = {1: [10], 2: [10, 11], 3: []}
    panels = assign([1, 2, 3, 4], [10, 11, 12, 13], 2, existing=existing, seed=5)
    assert panels[2] == []  # already has its two
    assert len(panels[1]) == 1 and 10 not in panels[1]
    assert all(len(set(existing.get(e, [])) | set(panels[e])) == 2 for e in panels)
    assert loads(panels, [10, 11, 12, 13], existing) == Counter({10: 2, 11: 2, 12: 2, 13: 2})


def test_an_earlier_juror_outside_the_current_jury_still_counts_for_the_entry():
    # Juror 99 left the jury after being assigned entry 1: the entry needs one more, not two.
    panels = assign([1], [1, 2, 3], 2, existing={1: [99]})
    assert len(panels[1]) == 1


def test_the_same_seed_gives_the_same_panels_and_other_seeds_differ():
    entries, jurors = range(1, 31), range(1, 9)
    first = assign(entries, jurors, 3, seed=42)
    assert assign(list(reversed(entries)), list(reversed(jurors)), 3, seed=42) == first
    assert len({tuple(map(tuple, assign(entries, jurors, 3, seed=s).values())) for s in range(5)}) > 1


def test_assignment_needs_k_and_jurors():
    with pytest.raises(AssignmentError):
        assign([1, 2], [1, 2], 0)
    with pytest.raises(AssignmentError):
        assign([1, 2], [], 2)
    assert assign([], [1, 2], 2) == {}


def test_replacement_is_the_least_loaded_eligible_juror():
    loads_now = {1: 3, 2: 1, 3: 0, 4: 0, 5: 2}
    # Juror 2 recused from entry 9; juror 3 is on it already, juror 4 is conflicted: juror 5 is lighter than 1.
    assert replacement(9, [1, 2, 3, 4, 5], {2, 3}, loads_now, conflicts={(4, 9)}) == 5


def test_replacement_breaks_ties_reproducibly_among_the_lightest():
    loads_now = {1: 0, 2: 0, 3: 0, 4: 5}
    picks = {replacement(1, [1, 2, 3, 4], {9}, loads_now, seed=s) for s in range(30)}
    assert picks == {1, 2, 3}
    assert replacement(1, [1, 2, 3, 4], {9}, loads_now, seed=7) == replacement(1, [4, 3, 2, 1], {9}, loads_now, seed=7)


def test_replacement_is_none_when_nobody_is_left():
    assert replacement(1, [1, 2, 3], {1, 2}, {}, conflicts={(3, 1)}) is None
    assert replacement(1, [], set(), {}) is None


# --- properties -------------------------------------------------------------------------------------------

@PROPERTY
@given(st.integers(1, 60), st.integers(1, 5), st.data(), st.integers(0, 2**32))
def test_without_conflicts_loads_differ_by_at_most_one(entries, k, data, seed):
    jurors = data.draw(st.integers(k, 15))
    panels = assign(range(entries), range(100, 100 + jurors), k, seed=seed)
    assert all(len(panel) == len(set(panel)) == k for panel in panels.values())
    assert spread(loads(panels, range(100, 100 + jurors))) <= 1


@PROPERTY
@given(st.integers(1, 30), st.integers(1, 10), st.integers(1, 4), st.data(), st.integers(0, 1000))
def test_conflicts_are_never_assigned_and_entries_fill_up_when_they_can(entries, jurors, k, data, seed):
    pairs = list(itertools.product(range(jurors), range(entries)))
    conflicts = set(data.draw(st.lists(st.sampled_from(pairs), max_size=len(pairs) // 2)))
    panels = assign(range(entries), range(jurors), k, conflicts=conflicts, seed=seed)
    for entry, panel in panels.items():
        eligible = [j for j in range(jurors) if (j, entry) not in conflicts]
        assert len(panel) == len(set(panel)) == min(k, len(eligible))
        assert not any((juror, entry) in conflicts for juror in panel)


def best_spread(entries, jurors, k, conflicts, existing) -> int:
    """The most even spread any assignment reaches, found by trying them all (tiny rounds only)."""
    choices = []
    for entry in entries:
        kept = set(existing.get(entry, ()))
        pool = [j for j in jurors if j not in kept and (j, entry) not in conflicts]
        choices.append(list(itertools.combinations(pool, min(max(0, k - len(kept)), len(pool)))))
    return min(spread(loads(dict(zip(entries, option, strict=True)), jurors, existing))
               for option in itertools.product(*choices))


@PROPERTY
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.data(), st.integers(0, 1000))
def test_loads_are_as_even_as_conflicts_and_earlier_assignments_allow(n_entries, n_jurors, k, data, seed):
    entries, jurors = list(range(n_entries)), list(range(n_jurors))
    pairs = list(itertools.product(jurors, entries))
    conflicts = set(data.draw(st.lists(st.sampled_from(pairs), max_size=len(pairs))))
    existing = {e: data.draw(st.sets(st.sampled_from(jurors), max_size=2)) for e in entries}
    panels = assign(entries, jurors, k, conflicts=conflicts, existing=existing, seed=seed)
    for entry, panel in panels.items():
        assert not set(panel) & existing[entry]
        assert not any((juror, entry) in conflicts for juror in panel)
    assert spread(loads(panels, jurors, existing)) == best_spread(entries, jurors, k, conflicts, existing)


@PROPERTY
@given(st.integers(1, 5), st.integers(2, 7), st.integers(1, 4), st.integers(0, 1000))
@example(entries=3, jurors=6, k=4, seed=257)  # the first panels leave no way below a spread of 2
def test_topping_up_keeps_what_was_there(entries, jurors, k, seed):
    """Topping up keeps every earlier juror and is as even as those earlier panels allow, which is not always
    within one: when the first panels put all the lightest jurors on one entry, one of them cannot take it."""
    first = assign(range(entries), range(jurors), max(1, k - 1), seed=seed)
    more = assign(range(entries), range(jurors), k, existing=first, seed=seed + 1)
    for entry in range(entries):
        assert not set(more[entry]) & set(first[entry])
        assert len(first[entry]) + len(more[entry]) == min(k, jurors)
    assert spread(loads(more, range(jurors), first)) == best_spread(range(entries), range(jurors), k, (), first)


@PROPERTY
@given(st.integers(6, 40), st.integers(2, 12), st.integers(1, 4), st.integers(0, 1000))
def test_topping_up_a_large_round_keeps_what_was_there(entries, jurors, k, seed):
    first = assign(range(entries), range(jurors), max(1, k - 1), seed=seed)
    more = assign(range(entries), range(jurors), k, existing=first, seed=seed + 1)
    for entry in range(entries):
        assert not set(more[entry]) & set(first[entry])
        assert len(first[entry]) + len(more[entry]) == min(k, jurors)
