"""The matching engine on arrays: hard rules, exact optimum, lexicographic priority,
determinism and explanations. Property-based: invariants over random small pools."""

import math
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.engine.arrays import Pairs
from services.matching.engine.eligibility import haversine_km
from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.random_pool import random_households, random_units
from services.matching.engine.run import candidate_edges, candidates_for_unit, propose
from services.matching.engine.scoring import COMPONENTS, explain, pair_scores, soft_weight
from services.matching.engine.solver import solve

POLICY = ScoringPolicy()
SMALL = settings(max_examples=60, deadline=None)


def pool(seed: int, n: int, m: int):
    rng = np.random.default_rng(seed)
    units, households = random_units(rng, n), random_households(rng, m)
    # Small pools need some long waits and some restrictions to exercise every rule.
    # Each unit has two children's birth-family restrictions (their own places, their own
    # distances), so a rule checked on the group's average would be caught.
    units = replace(
        units,
        days_waiting=rng.integers(0, 900, size=n).astype(np.int32),
        birth_latitude=units.latitude[:, None] + rng.normal(0, 0.3, (n, 2)),
        birth_longitude=units.longitude[:, None] + rng.normal(0, 0.3, (n, 2)),
        min_distance_km=np.where(rng.random((n, 2)) < 0.3, rng.uniform(20, 60, (n, 2)), 0.0),
    )
    return units, households


def obeys_hard_rules(u, h, i: int, j: int, declined: set[tuple[int, int]], max_km: float = 0) -> bool:
    """The rules restated plainly, pair by pair, independently of the vectorised mask."""
    if not (u.available[i] and h.available[j]) or (i, j) in declined:
        return False
    if u.size[i] > h.capacity[j] or (u.size[i] > 1 and not h.accepts_siblings[j]):
        return False
    if u.age_min_months[i] < h.age_min_months[j] or u.age_max_months[i] > h.age_max_months[j]:
        return False
    if any(int(u.needs[i, k]) > int(h.can_meet[j, k]) for k in range(8)):
        return False
    if u.excluded_regions[i, h.region[j]]:
        return False
    if u.contact_plan[i] > h.contact_openness[j]:
        return False
    for child in range(u.min_distance_km.shape[1]):  # each child's own birth family, one by one
        if u.min_distance_km[i, child] > 0:
            far = float(
                haversine_km(u.birth_latitude[i, child], u.birth_longitude[i, child], h.latitude[j], h.longitude[j])
            )
            if far < u.min_distance_km[i, child]:
                return False
    return not (max_km and float(haversine_km(u.latitude[i], u.longitude[i], h.latitude[j], h.longitude[j])) > max_km)


def brute_force(weights: dict[tuple[int, int], int], n: int, priority: list[bool]) -> tuple[int, int]:
    """Best (priority units matched, total weight) over every matching, by enumeration."""

    @cache
    def best(i: int, used: frozenset) -> tuple[int, int]:
        if i == n:
            return (0, 0)
        options = [best(i + 1, used)]
        for (unit, household), w in weights.items():
            if unit == i and household not in used:
                count, total = best(i + 1, used | {household})
                options.append((count + priority[i], total + w))
        return max(options)

    return best(0, frozenset())


def objective(assignment: np.ndarray, weights: dict[tuple[int, int], int], priority: list[bool]) -> tuple[int, int]:
    pairs = [(i, int(j)) for i, j in enumerate(assignment) if j >= 0]
    return sum(priority[i] for i, _ in pairs), sum(weights[p] for p in pairs)


sizes = st.tuples(st.integers(0, 10**6), st.integers(1, 6), st.integers(1, 6))


@SMALL
@given(sizes, st.booleans())
def test_no_proposal_breaks_a_hard_rule_and_the_mask_is_exact(case, lexicographic):
    seed, n, m = case
    u, h = pool(seed, n, m)
    declined = (np.array([0]), np.array([0]))
    result = propose(u, h, POLICY, declined=declined, lexicographic=lexicographic)
    for i, j in enumerate(result.assignment):
        if j >= 0:
            assert obeys_hard_rules(u, h, i, int(j), {(0, 0)})
    edges = candidate_edges(u, h, POLICY, declined=declined)
    got = set(zip(edges.rows.tolist(), edges.cols.tolist(), strict=True))
    assert got == {(i, j) for i in range(n) for j in range(m) if obeys_hard_rules(u, h, i, j, {(0, 0)})}


@SMALL
@given(sizes)
def test_solver_objective_equals_brute_force_optimum(case):
    u, h = pool(*case)
    edges = candidate_edges(u, h, POLICY)
    weights = {(int(r), int(c)): int(s) + 1 for r, c, s in zip(edges.rows, edges.cols, edges.scores, strict=True)}
    none = [False] * len(u)
    for method in ("dense", "sparse"):
        assignment, _ = solve(edges, method=method)
        assert objective(assignment, weights, none) == brute_force(weights, len(u), none)


@SMALL
@given(sizes)
def test_lexicographic_mode_matches_the_most_long_waiting_units_then_the_best_score(case):
    u, h = pool(*case)
    edges = candidate_edges(u, h, POLICY)
    weights = {(int(r), int(c)): int(s) + 1 for r, c, s in zip(edges.rows, edges.cols, edges.scores, strict=True)}
    long = (u.days_waiting >= POLICY.long_wait_days).tolist()
    for method in ("dense", "sparse"):
        assignment, _ = solve(edges, priority=np.array(long), method=method)
        assert objective(assignment, weights, long) == brute_force(weights, len(u), long)


@SMALL
@given(sizes)
def test_same_input_same_result_and_explanations_add_up(case):
    u, h = pool(*case)
    first, second = propose(u, h, POLICY), propose(u, h, POLICY)
    assert np.array_equal(first.assignment, second.assignment) and first.shortlists == second.shortlists
    for i, j in enumerate(first.assignment):
        if j >= 0:
            parts = explain(u, h, POLICY, i, int(j))
            assert (
                sum(parts.values())
                == first.scores[i]
                == int(pair_scores(u, h, POLICY, np.array([i]), np.array([j]))[0])
            )
            assert list(parts) == list(COMPONENTS)
    for i, shortlist in enumerate(first.shortlists):
        scores = [s for _, s in shortlist]
        assert scores == sorted(scores, reverse=True) and len(shortlist) <= 5
        live = candidates_for_unit(u, h, POLICY, i, k=5)
        assert [(j, sum(c.values())) for j, c in live] == shortlist


def test_dense_and_sparse_agree_on_a_larger_pool():
    rng = np.random.default_rng(7)
    u, h = random_units(rng, 300), random_households(rng, 200)
    edges = candidate_edges(u, h, POLICY)
    weights = dict(
        zip(zip(edges.rows.tolist(), edges.cols.tolist(), strict=True), (edges.scores + 1).tolist(), strict=True)
    )
    totals = [objective(solve(edges, method=m)[0], weights, [False] * len(u))[1] for m in ("dense", "sparse")]
    assert totals[0] == totals[1] > 0


def test_soft_preferences_fade_as_the_wait_grows():
    days = np.array([0, 90, 180, 365, 800])
    weights = soft_weight(days, POLICY)
    assert weights[0] == 1.0 and weights[-1] == 0.0 and np.all(np.diff(weights) <= 0)
    u, h = pool(3, 1, 1)
    same = replace(h, ethnicity=u.ethnicity.copy(), available=np.ones(1, bool))
    points = []
    for waited in (0, 200, 400):
        unit = replace(u, days_waiting=np.array([waited], dtype=np.int32))
        points.append(explain(unit, same, POLICY, 0, 0)["culture"])
    assert points[0] == POLICY.culture_points and points[0] > points[1] > points[2] == 0


def test_priority_points_put_the_longest_waiting_first_when_households_are_scarce():
    u, h = pool(11, 2, 1)
    u = replace(
        u,
        size=np.array([1, 1], np.int16),
        age_min_months=np.array([12, 12], np.int16),
        age_max_months=np.array([12, 12], np.int16),
        needs=np.zeros((2, 8), np.int8),
        excluded_regions=np.zeros((2, 9), bool),
        min_distance_km=np.zeros((2, 2)),
        latitude=np.full(2, 52.0),
        longitude=np.full(2, -1.0),
        days_waiting=np.array([30, 700], np.int32),
        disabled=np.zeros(2, bool),
        minority_ethnic=np.zeros(2, bool),
        contact_plan=np.ones(2, np.int8),
    )
    h = replace(
        h,
        available=np.ones(1, bool),
        capacity=np.array([1], np.int16),
        age_min_months=np.array([0], np.int16),
        age_max_months=np.array([59], np.int16),
        can_meet=np.full((1, 8), 3, np.int8),
        contact_openness=np.full(1, 3, np.int8),
    )
    assert propose(u, h, POLICY).assignment.tolist() == [-1, 0]


def test_policy_round_trips_and_refuses_unknown_or_bad_settings():
    policy = ScoringPolicy(culture_points=5)
    assert ScoringPolicy.from_dict(policy.to_dict()) == policy
    with pytest.raises(ValueError, match="unknown"):
        ScoringPolicy.from_dict({**policy.to_dict(), "magic": 1})
    with pytest.raises(ValueError):
        ScoringPolicy(wait_points_cap=-1)
    with pytest.raises(ValueError):
        ScoringPolicy(culture_points=1.5)  # type: ignore[arg-type]


def test_haversine_is_a_distance():
    assert math.isclose(float(haversine_km(51.5074, -0.1278, 53.4808, -2.2426)), 262, rel_tol=0.02)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([60, 150, 400]), st.booleans())
def test_a_distance_cap_misses_no_household_in_reach(seed, max_km, continental):
    from services.matching.engine.random_pool import US_LAT, US_LON

    rng = np.random.default_rng(seed)
    area = (US_LAT, US_LON) if continental else ((50.5, 55.0), (-3.5, 1.0))
    u, h = random_units(rng, 120, area), random_households(rng, 90, area)
    capped = replace(POLICY, max_distance_km=max_km)
    edges = candidate_edges(u, h, capped)
    got = set(zip(edges.rows.tolist(), edges.cols.tolist(), strict=True))
    assert got == {(i, j) for i in range(len(u)) for j in range(len(h)) if obeys_hard_rules(u, h, i, j, set(), max_km)}


def _plain(n: int, m: int):
    """n identical easy children and m households able to take any of them, all at one place."""
    u, h = pool(5, n, m)
    u = replace(
        u,
        size=np.ones(n, np.int16),
        age_min_months=np.full(n, 24, np.int16),
        age_max_months=np.full(n, 24, np.int16),
        needs=np.zeros((n, 8), np.int8),
        excluded_regions=np.zeros((n, 9), bool),
        min_distance_km=np.zeros((n, 2)),
        latitude=np.full(n, 52.0),
        longitude=np.full(n, -1.0),
        contact_plan=np.ones(n, np.int8),
    )
    h = replace(
        h,
        available=np.ones(m, bool),
        capacity=np.full(m, 2, np.int16),
        accepts_siblings=np.ones(m, bool),
        age_min_months=np.zeros(m, np.int16),
        age_max_months=np.full(m, 59, np.int16),
        can_meet=np.full((m, 8), 3, np.int8),
        contact_openness=np.full(m, 3, np.int8),
        latitude=np.full(m, 52.0),
        longitude=np.full(m, -1.0),
    )
    return u, h


def test_a_unit_no_household_can_take_is_explained_rule_by_rule():
    u, h = _plain(2, 3)
    h = replace(
        h,
        contact_openness=np.array([0, 3, 3], np.int8),  # one cannot take the letterbox plan
        age_max_months=np.array([59, 11, 59], np.int16),  # one only takes babies
        can_meet=np.array([[3] * 8, [3] * 8, [3, 3, 3, 3, 0, 3, 3, 3]], np.int8),  # one cannot meet need 4
    )
    u = replace(u, needs=np.array([[0] * 8, [0, 0, 0, 0, 2, 0, 0, 0]], np.int8))
    result = propose(u, h, POLICY, need_names=tuple(f"n{k}" for k in range(8)))
    # Unit 0 has household 2; unit 1 needs what only households 0 and 1 can meet, and they
    # are ruled out by contact and by age.
    assert result.assignment.tolist()[0] == 2 and result.assignment[1] == -1
    assert result.no_eligible == {1: {"contact": 1, "age": 1, "needs.n4": 1}}


def test_a_proposal_that_is_not_the_units_top_family_says_where_that_family_went():
    u, h = _plain(2, 2)
    # Both children score highest with household 0 (next door); child 0 by much more (it
    # shares language and faith, early in its wait), so household 0 goes to child 0.
    u = replace(u, days_waiting=np.array([10, 10], np.int32), languages=np.array([1, 2], np.uint32))
    h = replace(h, latitude=np.array([52.0, 53.5]), languages=np.array([1, 0], np.uint32))
    result = propose(u, h, POLICY)
    assert result.assignment.tolist() == [0, 1]
    why = result.not_top[1]
    assert why.top_household == 0 and why.taken_by == 0
    total = int(result.scores.sum())
    swapped = int(pair_scores(u, h, POLICY, np.array([1, 0]), np.array([0, 1])).sum())
    assert why.swap_loss_points == total - swapped > 0
    assert 0 not in result.not_top  # child 0 got its top family


def test_mutual_interest_is_an_explained_component_that_can_change_the_proposal():
    u, h = _plain(1, 2)
    h = replace(h, latitude=np.array([52.0, 52.4]))  # household 0 is nearer: the better score
    assert propose(u, h, POLICY).assignment.tolist() == [0]
    interested = Pairs(np.array([0]), np.array([1]))  # household 1 asked about this child
    strong = ScoringPolicy(mutual_interest_points=40)
    result = propose(u, h, strong, interests=interested)
    assert result.assignment.tolist() == [1]
    assert explain(u, h, strong, 0, 1, interested)["mutual_interest"] == 40
    assert explain(u, h, strong, 0, 0, interested)["mutual_interest"] == 0
    assert result.components[0, COMPONENTS.index("mutual_interest")] == 40
