"""Balanced blind assignment of jurors to entries, and the choice of a stand-in when a juror recuses."""
from __future__ import annotations

import random
from collections import deque
from collections.abc import Collection, Mapping, Sequence


class AssignmentError(ValueError):
    """The assignment cannot be made as asked: k below 1, or no jurors."""


def assign(entry_ids: Sequence[int], juror_ids: Sequence[int], k: int, *,
           conflicts: Collection[tuple[int, int]] = (),
           existing: Mapping[int, Collection[int]] | None = None,
           seed: int = 0) -> dict[int, list[int]]:
    """The new jurors each entry needs to reach min(k, eligible jurors), spread so loads differ by at most one.

    `conflicts` holds (juror_id, entry_id) pairs never to assign; `existing` the jurors each entry already has,
    who stay and count towards both the entry's k and the juror's load. Reproducible from `seed`.
    """
    if k < 1:
        raise AssignmentError("each entry needs at least one juror")
    jurors = sorted(set(juror_ids))
    if not jurors:
        raise AssignmentError("there are no jurors to assign")
    # Sorted ids: the same seed gives the same panels however the caller happened to list them.
    entries = sorted(set(entry_ids))
    blocked = set(conflicts)
    existing = existing or {}
    load = dict.fromkeys(jurors, 0)
    for panel in existing.values():
        for juror in panel:
            if juror in load:
                load[juror] += 1

    candidates = {}
    need = {}
    for entry in entries:
        kept = set(existing.get(entry, ()))
        candidates[entry] = [j for j in jurors if j not in kept and (j, entry) not in blocked]
        need[entry] = min(max(0, k - len(kept)), len(candidates[entry]))

    rng = random.Random(seed)
    order = entries[:]
    rng.shuffle(order)
    # Entries with the least choice go first, before their few eligible jurors fill up; the sort is
    # stable, so without conflicts the order stays the shuffled one.
    order.sort(key=lambda e: len(candidates[e]) - need[e])
    panels: dict[int, list[int]] = {}
    for entry in order:
        pool = candidates[entry][:]
        rng.shuffle(pool)
        pool.sort(key=load.__getitem__)  # least loaded first, ties in random order
        panels[entry] = pool[:need[entry]]
        for juror in panels[entry]:
            load[juror] += 1

    _rebalance(panels, candidates, load)
    return {entry: sorted(panels[entry]) for entry in entries}


def _rebalance(panels: dict[int, list[int]], candidates: dict[int, list[int]], load: dict[int, int]) -> None:
    """Shift new assignments along chains of jurors until no juror carries two more than another could take.

    Greedy picking is balanced on its own unless conflicts or earlier assignments get in the way. A chain
    a -> x -> ... -> b (each step hands one entry to a juror eligible for it) moves one unit of load from a to
    b and leaves the jurors between unchanged. While such a chain exists with load(a) >= load(b) + 2 the sum of
    squared loads falls; once none does, that sum is the least any assignment reaches, which also makes the gap
    between the most and least loaded juror the smallest the conflicts allow.
    """
    members = {entry: set(panel) for entry, panel in panels.items()}
    holding: dict[int, set[int]] = {juror: set() for juror in load}
    for entry, panel in panels.items():
        for juror in panel:
            holding[juror].add(entry)

    while (chain := _improving_chain(members, holding, candidates, load)) is not None:
        for giver, entry, taker in chain:
            members[entry].remove(giver)
            members[entry].add(taker)
            holding[giver].remove(entry)
            holding[taker].add(entry)
        load[chain[0][0]] -= 1
        load[chain[-1][2]] += 1
    for entry in panels:
        panels[entry] = sorted(members[entry])


def _improving_chain(members: dict[int, set[int]], holding: dict[int, set[int]], candidates: dict[int, list[int]],
                     load: dict[int, int]) -> list[tuple[int, int, int]] | None:
    lightest = min(load.values())
    for level in sorted(set(load.values()), reverse=True):
        if level - lightest < 2:
            return None
        # Breadth-first from every juror at this load, looking for one at least two lighter.
        came_from: dict[int, tuple[int, int] | None] = {j: None for j in sorted(load) if load[j] == level}
        queue = deque(came_from)
        while queue:
            giver = queue.popleft()
            for entry in sorted(holding[giver]):
                for taker in candidates[entry]:
                    if taker in came_from or taker in members[entry]:
                        continue
                    came_from[taker] = (giver, entry)
                    if load[taker] <= level - 2:
                        chain = []
                        while came_from[taker] is not None:
                            giver, entry = came_from[taker]
                            chain.append((giver, entry, taker))
                            taker = giver
                        return chain[::-1]
                    queue.append(taker)
    return None


def replacement(entry_id: int, juror_ids: Sequence[int], assigned: Collection[int], loads: Mapping[int, int], *,
                conflicts: Collection[tuple[int, int]] = (), seed: int = 0) -> int | None:
    """The least-loaded juror who may take over entry_id from one who recused; None if nobody is left.

    `assigned` holds everyone already on the entry, the recused juror included, so they are never picked back.
    """
    taken = set(assigned)
    blocked = set(conflicts)
    pool = sorted(j for j in set(juror_ids) if j not in taken and (j, entry_id) not in blocked)
    if not pool:
        return None
    lightest = min(loads.get(j, 0) for j in pool)
    return random.Random(seed).choice([j for j in pool if loads.get(j, 0) == lightest])
