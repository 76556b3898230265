"""The routing evaluation runs in the suite: the score is deterministic, so a drop fails."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.manifest import load_fleet
from evals.run import HERE, KINDS, evaluate, load_cases, route_matches

FLOORS = {
    "dev": 0.90,
    "dev2": 0.90,
    "dev3": 0.87,
    "dev4": 0.88,
    "dev5": 0.69,
    "dev6": 0.72,
    "dev7": 0.71,
    "dev8": 0.74,
    "dev9": 0.74,
    "dev10": 0.78,
    "dev11": 0.77,
    "dev12": 0.83,
    "dev13": 0.79,
    "dev14": 0.79,
    "dev15": 0.78,
    "dev16": 0.79,
    "dev17": 0.73,
    "dev18": 0.75,
    "dev19": 0.76,
    "dev20": 0.83,
    "dev21": 0.75,
    "dev22": 0.71,
    "dev23": 0.78,
    "dev24": 0.68,
    "dev25": 0.73,
    "dev26": 0.68,
    "dev27": 0.73,
    "dev28": 0.75,
    "dev29": 0.76,
    "dev30": 0.71,
    "dev31": 0.68,
    "dev32": 0.79,
    "dev33": 0.81,
    "dev34": 0.79,
    "dev35": 0.80,
    "dev36": 0.80,
    "dev37": 0.75,
    "dev38": 0.75,
    "dev39": 0.75,
    "dev40": 0.81,
    "dev41": 0.82,
    "dev42": 0.82,
    "dev43": 0.81,
    "dev44": 0.79,
    "dev45": 0.79,
    "dev46": 0.79,
    "dev47": 0.69,
    "dev48": 0.84,
    "dev49": 0.75,
    "heldout": 0.73,
}
"""Today's accuracy, as floors against regressions; the targets (95% held out) are not met
yet, and evals/README.md says where it stands."""


@pytest.fixture(scope="module")
def cases() -> list:  # type: ignore[type-arg]
    return load_cases(HERE, list(FLOORS))


def test_the_eval_set_is_what_it_says(cases: list) -> None:  # type: ignore[type-arg]
    assert len(cases) >= 300
    fleets = {c.fleet for c in cases}
    sizes = {name: len(load_fleet(HERE / "fleets" / f"{name}.yaml").agents) for name in fleets}
    assert sum(6 <= n <= 15 for n in sizes.values()) >= 4 and 60 in sizes.values()
    kinds = Counter(c.kind for c in cases)
    assert set(kinds) == set(KINDS) and min(kinds.values()) >= 15


@pytest.mark.parametrize("split", list(FLOORS))
def test_routing_accuracy_stays_above_its_floor(cases: list, split: str) -> None:  # type: ignore[type-arg]
    results = evaluate([c for c in cases if c.split == split], "semantic")
    accuracy = sum(r.ok for r in results) / len(results)
    assert accuracy >= FLOORS[split], f"{split}: {accuracy:.1%}"
    # The planner this replaces, on the same cases, for the record.
    rules = evaluate([c for c in cases if c.split == split], "rules")
    assert accuracy > sum(r.ok for r in rules) / len(rules)


def test_terse_manifests_route_nearly_as_well(cases: list) -> None:  # type: ignore[type-arg]
    """Fleets nobody wrote examples for, with three skills an agent (`--sparse`): the common
    jobs' phrasings carry most of the way, and a drop fails."""
    tuning = [c for c in cases if c.split != "heldout"]
    results = evaluate(tuning, "semantic", terse=True)
    accuracy = sum(r.ok for r in results) / len(results)
    assert accuracy >= 0.73, f"sparse: {accuracy:.1%}"


def test_route_grammar() -> None:
    from bot.models import TaskSpec

    def task(i: str, agent: str, deps: list[str]) -> TaskSpec:
        return TaskSpec(id=i, agent=agent, session="persistent", summary="x", depends_on=deps)

    chain = [task("t1", "a", []), task("t2", "b", []), task("t3", "c", ["t1", "t2"])]
    assert route_matches("a + b -> c", chain) and route_matches("b|x + a -> c", chain)
    assert not route_matches("a -> b -> c", chain) and not route_matches("a + b + c", chain)
