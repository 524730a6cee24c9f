"""Public pairwise rounds: Bradley-Terry by hand and by its definition, the choice of pairs, and a simulated round."""
from __future__ import annotations

import math
import random
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contest.pairwise import Outcome, choose_pair, fit_bradley_terry, kendall_tau, win_chances

# Small enough that the fit is the plain maximum-likelihood one to well within pytest.approx's tolerance.
TINY = 1e-7
PROPERTY = settings(deadline=None, max_examples=60)


def beats(winner: int, loser: int, times: int = 1) -> list[Outcome]:
    """`times` answers preferring `winner`, shown on the left and right in turn."""
    return [Outcome(winner, loser, winner) if k % 2 == 0 else Outcome(loser, winner, winner) for k in range(times)]


def undecided(left: int, right: int, times: int = 1) -> list[Outcome]:
    return [Outcome(left, right, None)] * times


def geometric_mean(values) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def best_first(strengths) -> list[int]:
    return sorted(strengths, key=lambda entry: (-strengths[entry], entry))


# --- Bradley-Terry by hand ------------------------------------------------------------------------------

def test_three_wins_in_four_make_a_strength_three_times_as_great():
    s = fit_bradley_terry([1, 2], beats(1, 2, 3) + beats(2, 1), prior=TINY)
    assert s[1] / s[2] == pytest.approx(3, rel=1e-4)
    assert s[1] * s[2] == pytest.approx(1)  # geometric mean 1


def test_the_prior_shrinks_the_gap_without_reversing_it():
    ratio = {prior: (lambda s: s[1] / s[2])(fit_bradley_terry([1, 2], beats(1, 2, 3) + beats(2, 1), prior=prior))
             for prior in (TINY, 0.5, 2, 50)}
    assert 3 > ratio[TINY] * 0.9999 > ratio[0.5] > ratio[2] > ratio[50] > 1


def test_cant_decide_is_half_a_win_for_each_side():
    # One win and two "can't decide": 1 + 2 x 1/2 = 2 wins against 2 x 1/2 = 1, so a ratio of 2.
    s = fit_bradley_terry([1, 2], beats(1, 2) + undecided(1, 2, 2), prior=TINY)
    assert s[1] / s[2] == pytest.approx(2, rel=1e-4)
    even = fit_bradley_terry([1, 2], undecided(1, 2, 5))
    assert even[1] == pytest.approx(1) and even[2] == pytest.approx(1)


def test_along_a_chain_each_ratio_is_its_own_record():
    # With no cycles every pair's odds are free to match what was seen: A/B = 2, B/C = 2, hence A/C = 4.
    s = fit_bradley_terry(["A", "B", "C"], beats("A", "B", 2) + beats("B", "A") + beats("B", "C", 2) + beats("C", "B"),
                          prior=TINY)
    assert s["A"] / s["B"] == pytest.approx(2, rel=1e-4)
    assert s["B"] / s["C"] == pytest.approx(2, rel=1e-4)
    assert geometric_mean(s.values()) == pytest.approx(1)


def test_an_entry_that_always_wins_always_loses_or_was_never_shown():
    answers = beats(1, 2, 4) + beats(1, 3, 4) + beats(2, 3, 3) + beats(3, 2) + beats(2, 4, 4) + beats(3, 4, 4)
    s = fit_bradley_terry([1, 2, 3, 4, 5], answers)
    assert all(math.isfinite(v) and v > 0 for v in s.values())
    assert s[1] > s[2] > s[3] > s[4]
    assert s[5] == 1.0  # never compared: the neutral strength, not pulled by the others' scale
    assert geometric_mean([s[e] for e in (1, 2, 3, 4)]) == pytest.approx(1)


def test_no_answers_leave_every_entry_at_one():
    assert fit_bradley_terry([3, 1, 2], []) == {3: 1.0, 1: 1.0, 2: 1.0}
    assert fit_bradley_terry([], beats(1, 2)) == {}


def test_a_disconnected_round_converges_and_each_part_stands_alone():
    first = beats(1, 2, 3) + beats(2, 1) + beats(2, 3, 2)
    second = beats(10, 11) + beats(11, 10) + undecided(10, 12, 2) + beats(12, 11, 5)
    ids = [1, 2, 3, 10, 11, 12, 99]
    s = fit_bradley_terry(ids, first + second)
    # Run on with no tolerance: the answer does not move, so the default stop was at convergence.
    assert fit_bradley_terry(ids, first + second, iterations=20_000, tolerance=0) == pytest.approx(s, rel=1e-7)
    # Nothing links the parts, so each one's strengths are those it gets when fitted alone.
    assert {e: s[e] for e in (1, 2, 3)} == pytest.approx(fit_bradley_terry([1, 2, 3], first), rel=1e-7)
    assert {e: s[e] for e in (10, 11, 12)} == pytest.approx(fit_bradley_terry([10, 11, 12], second), rel=1e-7)
    assert geometric_mean([s[1], s[2], s[3]]) == pytest.approx(1)
    assert geometric_mean([s[10], s[11], s[12]]) == pytest.approx(1)
    assert s[99] == 1.0


def test_answers_about_entries_outside_the_round_are_skipped():
    withdrawn = beats(1, 7, 5) + beats(7, 2, 5)
    assert fit_bradley_terry([1, 2], beats(1, 2, 3) + beats(2, 1) + withdrawn) == \
        pytest.approx(fit_bradley_terry([1, 2], beats(1, 2, 3) + beats(2, 1)))


def test_corrupt_answers_and_bad_settings_are_refused():
    with pytest.raises(ValueError, match="won a comparison"):
        fit_bradley_terry([1, 2, 3], [Outcome(1, 2, 3)])
    with pytest.raises(ValueError, match="itself"):
        fit_bradley_terry([1, 2], [Outcome(1, 1, 1)])
    for prior in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError, match="prior"):
            fit_bradley_terry([1, 2], beats(1, 2), prior=prior)
    with pytest.raises(ValueError, match="iteration"):
        fit_bradley_terry([1, 2], beats(1, 2), iterations=0)


# --- Bradley-Terry by its definition --------------------------------------------------------------------

def penalised_log_likelihood(strengths, answers, prior) -> float:
    """The fitted objective written out plainly, for one connected round: every answer's log-chance under
    the model, "can't decide" as half of each side's, plus each entry's `prior` virtual win and loss against
    an opponent at the round's geometric mean."""
    total = 0.0
    for answer in answers:
        left, right = strengths[answer.left], strengths[answer.right]
        if answer.winner is None:
            total += 0.5 * math.log(left / (left + right)) + 0.5 * math.log(right / (left + right))
        else:
            winner = strengths[answer.winner]
            total += math.log(winner / (left + right))
    average = geometric_mean(strengths.values())
    for s in strengths.values():
        total += prior * (math.log(s / (s + average)) + math.log(average / (s + average)))
    return total


@pytest.mark.parametrize("prior", [0.5, 3.0])
def test_the_fit_is_where_the_penalised_likelihood_is_flat(prior):
    """The objective is concave in log-strength, so a flat point is the maximum; finite differences show it."""
    rng = random.Random(7)
    ids = list(range(1, 9))
    answers = [Outcome(e, ids[(k + 1) % len(ids)], rng.choice([e, ids[(k + 1) % len(ids)], None]))
               for k, e in enumerate(ids)]  # a ring keeps the round connected
    for _ in range(60):
        left, right = rng.sample(ids, 2)
        answers.append(Outcome(left, right, rng.choice([left, right, left, None])))
    fitted = fit_bradley_terry(ids, answers, prior=prior)
    step = 1e-5
    for entry in ids:
        up = {**fitted, entry: fitted[entry] * math.exp(step)}
        down = {**fitted, entry: fitted[entry] * math.exp(-step)}
        rise = penalised_log_likelihood(up, answers, prior) - penalised_log_likelihood(down, answers, prior)
        assert abs(rise / (2 * step)) < 1e-5
    # And a nudge in any direction only lowers it.
    best = penalised_log_likelihood(fitted, answers, prior)
    for _ in range(20):
        nudged = {e: s * math.exp(rng.uniform(-0.05, 0.05)) for e, s in fitted.items()}
        assert penalised_log_likelihood(nudged, answers, prior) < best


answer_lists = st.lists(
    st.tuples(st.integers(1, 6), st.integers(1, 6), st.sampled_from(["left", "right", None])).filter(
        lambda t: t[0] != t[1]),
    max_size=40,
).map(lambda rows: [Outcome(a, b, {"left": a, "right": b, None: None}[side]) for a, b, side in rows])


@PROPERTY
@given(answer_lists, st.sampled_from([1e-3, 0.1, 0.5, 5.0]))
def test_strengths_are_positive_and_finite_and_chances_probabilities(answers, prior):
    ids = [1, 2, 3, 4, 5, 6, 7]
    s = fit_bradley_terry(ids, answers, prior=prior)
    assert set(s) == set(ids)
    assert all(math.isfinite(v) and v > 0 for v in s.values())
    chances = win_chances(s)
    assert all(0 <= c <= 1 for c in chances.values())
    assert sum(chances.values()) == pytest.approx(len(ids) / 2)


@PROPERTY
@given(answer_lists)
def test_reversing_every_answer_inverts_every_strength(answers):
    ids = [1, 2, 3, 4, 5, 6]
    mirrored = [Outcome(a.left, a.right, None if a.winner is None else ({a.left, a.right} - {a.winner}).pop())
                for a in answers]
    s, m = fit_bradley_terry(ids, answers), fit_bradley_terry(ids, mirrored)
    assert {e: 1 / m[e] for e in ids} == pytest.approx(s, rel=1e-6)


# --- win chances ----------------------------------------------------------------------------------------

def test_win_chances_by_hand():
    assert win_chances({1: 3.0, 2: 1.0}) == pytest.approx({1: 0.75, 2: 0.25})
    # 1 and 2 are even with each other and beaten 2:1 by 3: 1 gets (1/2 + 1/3) / 2 = 5/12, 3 gets 2/3.
    chances = win_chances({1: 1.0, 2: 1.0, 3: 2.0})
    assert chances == pytest.approx({1: 5 / 12, 2: 5 / 12, 3: 2 / 3})
    assert sum(chances.values()) == pytest.approx(1.5)  # always half the number of entries


def test_win_chances_of_a_city_round_are_each_entrys_mean_in_bounded_memory():
    """5,000 entries: the chances are the mean over the others of s_i / (s_i + s_j), as by hand for a few, and
    worked out a block of rows at a time: the whole 5,000 x 5,000 table took 400 MB and a second per fit."""
    import tracemalloc

    rng = random.Random(5)
    s = {e: math.exp(rng.gauss(0, 1)) for e in range(5000)}
    tracemalloc.start()
    chances = win_chances(s)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 30_000_000, peak
    values = np.array(list(s.values()))
    for e in (0, 1234, 4999):
        assert chances[e] == pytest.approx((np.sum(s[e] / (s[e] + values)) - 0.5) / 4999, rel=1e-12)
    assert sum(chances.values()) / len(chances) == pytest.approx(0.5)


def test_win_chances_ignore_the_scale_and_handle_small_rounds():
    s = {1: 0.2, 2: 1.7, 3: 4.0, 4: 1e-6}
    assert win_chances({e: v * 1000 for e, v in s.items()}) == pytest.approx(win_chances(s))
    assert win_chances({5: 2.5}) == {5: 0.5}
    assert win_chances({}) == {}
    with pytest.raises(ValueError):
        win_chances({1: 1.0, 2: 0.0})


# --- choosing pairs -------------------------------------------------------------------------------------

def pairs_chosen(times: int = 200, **kwargs) -> list[tuple[int, int] | None]:
    kwargs.setdefault("appearances", {})
    kwargs.setdefault("pair_counts", {})
    return [choose_pair(rng=random.Random(seed), **kwargs) for seed in range(times)]


def test_a_citizen_is_never_shown_their_own_entry():
    for pair in pairs_chosen(entry_ids=[1, 2, 3, 4, 5], appearances={1: 0, 2: 9, 3: 9, 4: 9, 5: 9},
                             exclude=[1, 3]):
        assert not {1, 3} & set(pair)


def test_the_least_seen_entry_is_shown_first():
    for pair in pairs_chosen(entry_ids=[1, 2, 3, 4], appearances={1: 5, 2: 0, 3: 5, 4: 5}):
        assert 2 in pair
    # Among the least seen, every one gets its turn.
    firsts = Counter(pair for pair in pairs_chosen(entry_ids=[1, 2, 3, 4], appearances={1: 0, 2: 0, 3: 7, 4: 7},
                                                   pair_counts={frozenset((1, 2)): 9}))
    assert {frozenset(p) for p in firsts} == {frozenset(p) for p in [(1, 3), (1, 4), (2, 3), (2, 4)]}


def test_its_partner_is_the_one_least_compared_with_it_then_least_seen():
    counts = {frozenset((1, 2)): 2, frozenset((1, 3)): 0, frozenset((1, 4)): 1}
    for pair in pairs_chosen(entry_ids=[1, 2, 3, 4], appearances={1: 0, 2: 3, 3: 3, 4: 3}, pair_counts=counts):
        assert set(pair) == {1, 3}
    for pair in pairs_chosen(entry_ids=[1, 2, 3, 4], appearances={1: 0, 2: 3, 3: 1, 4: 3}):
        assert set(pair) == {1, 3}


def test_a_citizen_is_not_asked_the_same_question_twice_while_others_remain():
    for pair in pairs_chosen(entry_ids=[1, 2, 3, 4], appearances={1: 0, 2: 5, 3: 5, 4: 5},
                             seen_pairs=[frozenset((1, 2)), frozenset((1, 3))]):
        assert set(pair) == {1, 4}
    # Every pair with the least-seen entry answered: the next question leaves it out rather than repeat one.
    seen = [frozenset((1, 2)), frozenset((1, 3)), frozenset((1, 4))]
    for pair in pairs_chosen(entry_ids=[1, 2, 3, 4], appearances={1: 0, 2: 5, 3: 5, 4: 5}, seen_pairs=seen):
        assert 1 not in pair
    # Only answered pairs left: nothing is asked, as one person has one answer per pair.
    every = [frozenset(p) for p in [(1, 2), (1, 3), (2, 3)]]
    assert pairs_chosen(entry_ids=[1, 2, 3], seen_pairs=every) == [None] * 200
    assert pairs_chosen(entry_ids=[1, 2, 3, 4], seen_pairs=every, exclude=[4]) == [None] * 200


def test_no_pair_without_two_eligible_entries():
    assert choose_pair([], {}, {}, rng=random.Random(1)) is None
    assert choose_pair([4], {}, {}, rng=random.Random(1)) is None
    assert choose_pair([4, 4], {}, {}, rng=random.Random(1)) is None
    assert choose_pair([4, 5], {}, {}, exclude={5}, rng=random.Random(1)) is None


def test_which_side_an_entry_is_shown_on_is_left_to_chance():
    sides = Counter(pairs_chosen(times=1000, entry_ids=[1, 2]))
    assert set(sides) == {(1, 2), (2, 1)}
    assert 400 < sides[(1, 2)] < 600


def test_the_same_seed_gives_the_same_pair():
    kwargs = dict(entry_ids=list(range(30)), appearances={e: e % 3 for e in range(30)}, pair_counts={})
    assert choose_pair(rng=random.Random(11), **kwargs) == choose_pair(rng=random.Random(11), **kwargs)


@PROPERTY
@given(st.lists(st.integers(1, 8), max_size=10), st.dictionaries(st.integers(1, 8), st.integers(0, 4)),
       st.sets(st.integers(1, 8), max_size=3),
       st.lists(st.frozensets(st.integers(1, 8), min_size=2, max_size=2), max_size=12), st.integers(0, 10**6))
def test_a_chosen_pair_is_always_a_fair_question(entries, appearances, exclude, seen, seed):
    pair = choose_pair(entries, appearances, {}, exclude=exclude, seen_pairs=seen, rng=random.Random(seed))
    eligible = set(entries) - exclude
    unseen_left = any(frozenset((a, b)) not in seen for a in eligible for b in eligible if a != b)
    if not unseen_left:
        assert pair is None
        return
    left, right = pair
    assert left != right and {left, right} <= eligible
    assert frozenset(pair) not in seen


# --- Kendall's tau --------------------------------------------------------------------------------------

def test_kendall_tau_by_hand():
    assert kendall_tau([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert kendall_tau([1, 2, 3, 4], [2, 1, 3, 4]) == pytest.approx(1 - 2 * 1 / 6)  # one of six pairs swapped
    assert kendall_tau([7], [7]) == 1.0
    with pytest.raises(ValueError):
        kendall_tau([1, 2, 3], [1, 2, 4])
    with pytest.raises(ValueError):
        kendall_tau([1, 1, 2], [1, 2, 2])


# --- a simulated round ----------------------------------------------------------------------------------

def test_a_simulated_round_recovers_the_true_order():
    """20 railings of known appeal, 2,000 citizens' answers with 10% "can't decide", pairs chosen as live."""
    rng = random.Random(2024)
    ids = list(range(101, 121))
    # Log-strengths evenly from -2 to 2: the best is preferred to the worst 98% of the time, neighbours 55%.
    true = {entry: math.exp(-2 + 4 * k / 19) for k, entry in enumerate(ids)}
    appearances = dict.fromkeys(ids, 0)
    pair_counts: Counter[frozenset] = Counter()
    answers = []
    for _ in range(2000):
        left, right = choose_pair(ids, appearances, pair_counts, rng=rng)
        if rng.random() < 0.1:
            winner = None
        else:
            winner = left if rng.random() < true[left] / (true[left] + true[right]) else right
        answers.append(Outcome(left, right, winner))
        appearances[left] += 1
        appearances[right] += 1
        pair_counts[frozenset((left, right))] += 1

    fitted = fit_bradley_terry(ids, answers)
    assert kendall_tau(best_first(fitted), best_first(true)) >= 0.9
    # The choice of pairs kept the round balanced: every entry and every pair seen about equally often.
    assert max(appearances.values()) - min(appearances.values()) <= 2
    assert len(pair_counts) == 190 and max(pair_counts.values()) - min(pair_counts.values()) <= 1


def test_a_large_round_is_fitted_quickly():
    """200 entries and 20,000 answers, as a busy public round might gather."""
    rng = np.random.default_rng(5)
    true = np.exp(rng.normal(0, 1, 200))
    pairs = np.array([rng.choice(200, 2, replace=False) for _ in range(20_000)])
    rolls = rng.random((20_000, 2))
    answers = []
    for (a, b), (undecided_roll, roll) in zip(pairs.tolist(), rolls.tolist(), strict=True):
        winner = None if undecided_roll < 0.1 else (a if roll < true[a] / (true[a] + true[b]) else b)
        answers.append(Outcome(a, b, winner))
    started = time.perf_counter()
    fitted = fit_bradley_terry(range(200), answers)
    elapsed = time.perf_counter() - started
    print(f"\nBradley-Terry fit of 200 entries x 20,000 answers: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0
    assert kendall_tau(best_first(fitted), best_first(dict(enumerate(true)))) > 0.8
