"""The simulation at a tiny scale: determinism, conservation, and a policy that never matches."""

from dataclasses import replace

import numpy as np
import pytest

from services.matching.simulation.experiment import replicate
from services.matching.simulation.model import Assumptions, draw_population
from services.matching.simulation.report import calibration, write_report
from services.matching.simulation.simulate import (
    LINKED,
    MATCHERS,
    NOT_ARRIVED,
    PLACED,
    POLICIES,
    WAITING,
    WITHDRAWN,
    never_match,
    run,
)

TINY = replace(Assumptions(), scale=0.03, years=1, warmup_years=1)


@pytest.fixture(scope="module")
def population():
    return draw_population(TINY, 11)


def test_same_seed_same_outcome(population):
    again = draw_population(TINY, 11)
    for policy in POLICIES:
        first, second = run(population, TINY, MATCHERS[policy], policy), run(again, TINY, MATCHERS[policy], policy)
        assert np.array_equal(first.placed_week, second.placed_week)
        assert np.array_equal(first.placed_household, second.placed_household)
        assert first.waiting_children == second.waiting_children


@pytest.mark.parametrize("policy", POLICIES)
def test_every_child_arrives_once_and_ends_placed_waiting_or_withdrawn(population, policy):
    outcome = run(population, TINY, MATCHERS[policy], policy)
    states = outcome.unit_state
    assert set(np.unique(states)) <= {NOT_ARRIVED, WAITING, LINKED, PLACED, WITHDRAWN}
    ready = population.unit_arrival + TINY.profile_ready_weeks < TINY.weeks
    assert np.all(states[~ready] == NOT_ARRIVED) and np.all(states[ready] != NOT_ARRIVED)
    placed = states == PLACED
    assert placed.any()
    households = outcome.placed_household[placed]
    assert len(set(households.tolist())) == len(households)  # a household takes one unit
    earliest = population.unit_arrival[placed] + TINY.profile_ready_weeks + TINY.introduction_weeks
    assert np.all(outcome.placed_week[placed] >= earliest)
    assert np.all(outcome.withdrawn_week[states == WITHDRAWN] >= 0)
    assert np.all(outcome.placed_week[~placed] == -1)


def test_a_policy_that_never_matches_leaves_everybody_waiting():
    patient = replace(TINY, plan_change_per_week=1e-9, household_withdrawal_per_week=1e-9)
    population = draw_population(patient, 3)
    outcome = run(population, patient, never_match, "never")
    ready = population.unit_arrival + patient.profile_ready_weeks < patient.weeks
    assert np.all(outcome.unit_state[ready] == WAITING)
    assert outcome.waiting_children[-1] == int(population.units.size[ready].sum())


def test_the_report_is_written_with_every_policy(tmp_path):
    results = replicate(TINY, replications=2, seed=5)
    report = write_report(results, TINY, tmp_path, seed=5)
    text = report.read_text()
    assert all(p.replace("_", " ") in text for p in POLICIES) and "Calibration of the status quo" in text
    assert all((tmp_path / name).stat().st_size > 1000 for name in ("waits.png", "groups.png", "stock.png"))


def test_the_status_quo_reproduces_the_published_figures_at_reduced_scale():
    """At 15% of England over 3 replications most figures rest on hundreds of children and
    the report's 15% holds. Disabled children are 4% of children: their mean rests on about
    50 placed children here, whose spread alone is about 15% (measured over seeds: -22% to
    +8%), so that figure is held to 30%."""
    reduced = replace(Assumptions(), scale=0.15, years=3)
    results = replicate(reduced, replications=3, seed=21, policies=("status_quo",))
    tolerance = {"mean days, disabled children": 0.30}
    off = [
        (name, target, round(achieved))
        for name, target, achieved, _ in calibration(results["status_quo"])
        if abs(achieved - target) > tolerance.get(name, 0.15) * target
    ]
    assert off == []
