"""The split's search for the fewest locations, against brute force on random small networks."""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

from app.services.planning import engine


def _rows(supplies: list[list[int]]) -> list[tuple]:
    # The rows `rank` gives the engine: (sort key, site, supply capped at the demand, sort values).
    return [((n,), SimpleNamespace(id=n + 1), supply, ()) for n, supply in enumerate(supplies)]


def _covers(supplies, chosen, need) -> bool:
    return all(sum(supplies[n][i] for n in chosen) >= q for i, q in enumerate(need))


def test_a_split_is_never_larger_than_needed_and_always_holds_the_order():
    rng = random.Random(20261207)
    checked = smaller_than_greedy = 0
    for _ in range(3000):
        lines = rng.randint(2, 5)
        need = [rng.randint(1, 3) for _ in range(lines)]
        supplies = [[min(q, rng.choice((0, 0, 1, 2, 3))) for q in need] for _ in range(rng.randint(2, 8))]
        if any(s == need for s in supplies):
            continue  # one location alone: the engine never asks for a split then
        max_packages = rng.randint(2, 4)
        rows = _rows(supplies)
        fewest = next((size for size in range(2, max_packages + 1)
                       if any(_covers(supplies, c, need) for c in itertools.combinations(range(len(supplies)), size))),
                      None)
        parts = engine._split(rows, [SimpleNamespace(quantity=q) for q in need], max_packages)
        greedy = engine._greedy_split(rows, need, max_packages)
        if fewest is None:
            assert parts is None
            continue
        assert parts is not None and len(parts) == fewest
        taken = [sum(take[i] for _, take in parts) for i in range(lines)]
        assert taken == need
        assert all(take[i] <= supplies[n][i] for n, take in parts for i in range(lines))
        if greedy is None or len(greedy) > fewest:
            smaller_than_greedy += 1
            first = next(c for c in itertools.combinations(range(len(supplies)), fewest) if _covers(supplies, c, need))
            assert [n for n, _ in parts] == list(first)  # the first such set in sort order
        checked += 1
    assert checked > 1000 and smaller_than_greedy > 20  # the search was really exercised


def test_the_search_stops_at_its_budget_and_greedy_stands(monkeypatch):
    # Greedy takes A (four lines) and needs B and C too; D + E hold everything.
    need = [1, 1, 1, 1, 1, 1]
    supplies = [[1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1], [1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]]
    demands = [SimpleNamespace(quantity=q) for q in need]
    assert [n for n, _ in engine._split(_rows(supplies), demands, 3)] == [3, 4]
    monkeypatch.setattr(engine, "SPLIT_SEARCH_BUDGET", 5 * len(need))  # five candidate looks in all
    assert [n for n, _ in engine._split(_rows(supplies), demands, 3)] == [0, 1, 2]
