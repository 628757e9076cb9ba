"""The simulation at small scales: common random numbers, conservation, steady state,
calibration, a null comparison, and the report."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.run import propose
from services.matching.simulation.experiment import (
    APPROVALS_2022_WITHOUT,
    SENSITIVITY,
    experiment,
    moved,
    replicate,
    without_2022,
)
from services.matching.simulation.model import Assumptions, draw_population, plan_change_weeks, units_at
from services.matching.simulation.report import (
    calibration,
    kaplan_meier,
    mean_interval,
    metrics,
    paired_difference,
    write_report,
)
from services.matching.simulation.simulate import (
    LINKED,
    LISTED,
    NEVER,
    NO_PRIORITY,
    NOT_ARRIVED,
    PLACED,
    POLICIES,
    WAITING,
    WITHDRAWN,
    _list_exhausted,
    browsing,
    national_optimal,
    never_shown,
    run,
)

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

TINY = replace(Assumptions(), scale=0.03, years=1, warmup_years=1)
# The status quo at 20% of England (the default scale) over a long horizon, on seeds the
# calibration never saw, serves two checks: calibration (every figure's mean over the seeds)
# and the steady state (the stock's trend after the warm-up). It was 10% until family-finding
# places were held until the match decision: an agency's places are whole numbers, and at 10%
# they are so few that the queue for them grows (176 days before family finding against 136
# at 20%, seeds 21-22), which is the scale, not the model (8 s of CPU for both seeds at 20%).
LONG = replace(Assumptions(), scale=0.2, years=6)
LONG_SEEDS = (21, 22)


@pytest.fixture(scope="module")
def population():
    return draw_population(TINY, 11)


@pytest.fixture(scope="module")
def tiny_runs(population):
    """Every arm once on the tiny population (shared by the tests that read outcomes), and the
    population's arrays as they were before any arm ran."""
    before = {name: np.copy(value) for name, value in vars(population).items() if isinstance(value, np.ndarray)}
    return before, {name: run(population, TINY, shown, name) for name, shown in POLICIES.items()}


@pytest.fixture(scope="module")
def status_quo_long():
    results = []
    for seed in LONG_SEEDS:
        pop = draw_population(LONG, seed)
        results.append(metrics(pop, LONG, run(pop, LONG, POLICIES["status_quo"], "status_quo")))
    return results


@pytest.fixture(scope="module")
def small_experiment():
    """One small experiment, every section of the report (the quick run's shape at the tiny
    scale: what the report says is not checked here, only that it says it)."""
    return experiment(TINY, replications=2, seed=5, sensitivity_replications=1)


def test_every_arm_sees_the_same_arrivals_and_draws(population, tiny_runs):
    before, outcomes = tiny_runs
    after = {name: value for name, value in vars(population).items() if isinstance(value, np.ndarray)}
    assert all(np.array_equal(before[k], after[k]) for k in before)  # no arm consumed or changed a draw
    assert len({metrics(population, TINY, o).children_entered_per_year for o in outcomes.values()}) == 1
    again = draw_population(TINY, 11)
    assert np.array_equal(again.unit_arrival, population.unit_arrival)
    assert np.array_equal(again.accept_draws, population.accept_draws)
    assert np.array_equal(
        run(again, TINY, POLICIES["optimal"], "optimal").placed_household, outcomes["optimal"].placed_household
    )


@pytest.mark.parametrize("policy", list(POLICIES))
def test_children_and_households_are_conserved(population, tiny_runs, policy):
    outcome = tiny_runs[1][policy]
    states, sizes = outcome.unit_state, population.units.size
    ready = population.search_start < TINY.weeks
    assert np.all(states[~ready] == NOT_ARRIVED) and np.all(outcome.started_week[~ready] == -1)
    # A referred child is taken on by a family finder when its agency has a place (or its plan
    # changes first): until then it has not started.
    started = outcome.started_week >= 0
    assert np.all(np.isin(states[ready & started], [WAITING, LINKED, PLACED, WITHDRAWN]))
    assert np.all(np.isin(states[ready & ~started], [NOT_ARRIVED, WITHDRAWN]))
    assert np.all(outcome.started_week[started] >= population.search_start[started])
    in_system = np.isin(states, [NOT_ARRIVED, WAITING, LINKED]) & (population.unit_arrival < TINY.weeks)
    assert outcome.waiting_children[-1] == int(sizes[in_system].sum())
    placed = states == PLACED
    assert placed.any()
    households = outcome.placed_household[placed]
    assert len(set(households.tolist())) == len(households)  # a household takes one unit
    assert np.all(outcome.household_state[households] == PLACED)
    assert (outcome.household_state == PLACED).sum() == placed.sum()
    assert (outcome.household_state == LINKED).sum() == (states == LINKED).sum()
    arrived = population.household_arrival < TINY.weeks
    assert np.all(outcome.household_state[~arrived] == NOT_ARRIVED)
    assert np.all(outcome.household_state[arrived] != NOT_ARRIVED)
    earliest = outcome.started_week[placed] + TINY.matching_weeks + TINY.introduction_weeks
    assert np.all(outcome.placed_week[placed] >= earliest)
    assert np.all(outcome.placed_week[placed] >= population.unit_arrival[placed])  # never before the order
    assert np.all((outcome.withdrawn_week >= 0) == (states == WITHDRAWN))


@pytest.mark.parametrize(
    ("policy", "lexicographic"), [(ScoringPolicy(), False), (NO_PRIORITY, False), (ScoringPolicy(), True)]
)
def test_the_optimal_arms_propose_what_the_engine_proposes(population, policy, lexicographic):
    """The arms call the engine's `candidate_edges` and `solve` without its explanations:
    the pairs must be those of `propose`, declined pairs and the 18-month priority included."""
    rng = np.random.default_rng(0)
    shown = national_optimal(policy, lexicographic=lexicographic)
    compared = 0
    for week in (60, 80, 100):
        waiting = np.flatnonzero(population.search_start <= week)
        arrived = np.flatnonzero(population.household_arrival <= week)
        attentive = np.sort(rng.choice(arrived, size=len(arrived) // 3, replace=False))
        declined = {int(h): {int(u) for u in rng.choice(waiting, size=5)} for h in attentive[::4]}
        pairs = shown(population, TINY, waiting, attentive, declined, week, np.full(len(waiting), LISTED))
        local = {h: {int(np.searchsorted(waiting, u)) for u in us} for h, us in declined.items()}
        rows = [(u, int(np.searchsorted(attentive, h))) for h, us in local.items() for u in us]
        result = propose(
            units_at(population, waiting, week),
            population.households.take(attentive),
            policy,
            declined=(np.array([r for r, _ in rows]), np.array([c for _, c in rows])),
            lexicographic=lexicographic,
        )
        expected = [(int(waiting[i]), int(attentive[j])) for i, j in enumerate(result.assignment.tolist()) if j >= 0]
        assert pairs == expected and len(pairs) > 0
        compared += len(pairs)
    assert compared > 10


def test_a_policy_that_shows_nothing_leaves_everybody_waiting():
    patient = replace(TINY, plan_change_per_week=1e-9, household_withdrawal_per_week=1e-9, family_finding_places=1e9)
    population = draw_population(patient, 3)
    outcome = run(population, patient, never_shown, "never")
    ready = population.search_start < patient.weeks
    assert np.all(outcome.unit_state[ready] == WAITING)
    ordered = population.unit_arrival < patient.weeks
    assert outcome.waiting_children[-1] == int(population.units.size[ordered].sum())


def test_the_status_quo_stock_is_steady_after_the_warm_up(status_quo_long):
    """The trend of the children's stock over the measured years, as a share of its mean,
    averaged over the seeds: within ±2% a year."""
    trends = [m.stock_trend_percent_per_year for m in status_quo_long]
    assert abs(np.mean(trends)) <= 2.0, trends


def test_the_status_quo_reproduces_the_published_figures_at_reduced_scale(status_quo_long):
    """At 20% of England, on seeds 21-22 (the calibration used seeds 1-4) over six measured
    years. Measured: plan changes +6%, withdrawals +3%, placements -1%, the mean wait +10%,
    the 5+ wait -10%, the children's stock +27%, the households' +8%, the share of the stock
    aged 5+ -18%, the 18-month stock +24%. The flows, which issue 19 asks within 15%, are held
    to 15% (plan changes were held only to a factor of two before the households approved were
    recalibrated), as is the households' stock; the children's stock, which varies most
    between seeds (by about a quarter between these two), and the share aged 5+ to what two
    seeds allow; the 18-month stock and the disabled children's mean (about 40 children a
    replication) not at all."""
    held = {
        "children entering with a placement order / year": 0.15,
        "households approved / year": 0.15,
        "children placed / year": 0.15,
        "plan changes / year (children)": 0.15,
        "household withdrawals / year": 0.15,
        "mean days, placement order to placement": 0.15,
        "mean days, children aged 5+": 0.15,
        "children waiting (stock)": 0.35,
        "households waiting (stock)": 0.15,
        "% of waiting children in sibling groups": 0.15,
        "% of waiting children aged 5+": 0.3,
        "% of placements across regions": 0.15,
        "% of placements across agencies": 0.15,
    }
    rows = calibration(status_quo_long, history=(48.0, 55.0))
    off = [
        (t.figure, t.target, round(mean))
        for t, mean, _, _ in rows
        if t.figure in held and abs(mean - t.target) > held[t.figure] * t.target
    ]
    assert off == []
    assert {t.figure for t, *_ in rows} >= set(held)


def test_identical_policies_differ_by_nothing_beyond_chance():
    a = TINY
    twin = browsing(own_agency_first=True)  # the status quo, built again
    pops = [draw_population(a, seed) for seed in range(6)]
    base = [metrics(pop, a, run(pop, a, POLICIES["status_quo"], "status_quo")) for pop in pops]
    same = [(base[k], metrics(pops[k], a, run(pops[k], a, twin, "twin"))) for k in range(2)]
    # The same policy on independent populations (disjoint pairs; the twin there does what the
    # status quo does, as the first check shows): equal in law, different in draws.
    shuffled = [(base[k], base[k + 1]) for k in range(0, len(pops), 2)]
    get = lambda m: m.mean_wait_days["all"]  # noqa: E731
    mean, half = paired_difference([x for x, _ in same], [y for _, y in same], get)
    assert mean == 0 and half == 0  # common random numbers: the twin does exactly the same
    mean, half = paired_difference([x for x, _ in shuffled], [y for _, y in shuffled], get)
    assert abs(mean) <= half and half > 0


def test_kaplan_meier_counts_censored_children_as_at_risk_until_they_leave():
    durations = np.array([10.0, 20.0, 20.0, 30.0, 40.0])
    placed = np.array([True, False, True, True, False])
    survival = kaplan_meier(durations, placed, np.ones(5), np.array([0, 10, 20, 30, 50]))
    # 5 at risk at 10 (1 placed), 4 at 20 (1 placed, 1 censored), 2 at 30 (1 placed).
    expected = [1.0, 4 / 5, 4 / 5 * 3 / 4, 4 / 5 * 3 / 4 * 1 / 2, 4 / 5 * 3 / 4 * 1 / 2]
    assert np.allclose(survival, expected)
    dropped = kaplan_meier(durations[placed], placed[placed], np.ones(3), np.array([50]))
    assert dropped[0] == 0 < survival[-1]  # dropping the censored would hide the longest waits


def test_an_interval_needs_more_than_one_replication():
    assert mean_interval([3.0]) == (3.0, 0.0)
    mean, half = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and 2.4 < half < 2.5  # t(0.975, 2) = 4.30, sd 1, sqrt(3)


def test_the_report_has_every_section(small_experiment, tmp_path):
    report = write_report(small_experiment, tmp_path)
    text = report.read_text()
    for section in ("Summary", "Calibration of the status quo", "Out-of-sample check", "Arms", "Sensitivity"):
        assert f"## {section}" in text
    # The out-of-sample check shows the wait it compares with 187 days and what it is made of.
    assert "| mean days, order to placement | 187 |" in text and "placed in house" in text
    # ... and the same check with no value chosen in view of 2022, run on the same seeds.
    assert "With no value chosen in view of 2022" in text and "With those values chosen again without 2022" in text
    assert len(small_experiment.out_of_sample_without_2022) == len(small_experiment.out_of_sample) == 2
    for name in ("waiting_curves.png", "groups.png", "headline_and_fees.png", "stock.png", "sensitivity.png"):
        assert (tmp_path / name).stat().st_size > 1000
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5 and "<table>" in page and 'src="' + "groups" not in page


def test_the_experiment_runs_every_arm_and_the_moved_assumptions(small_experiment):
    assert set(small_experiment.arms) == set(POLICIES)
    assert all(len(v) == 2 for v in small_experiment.arms.values()) and len(small_experiment.out_of_sample) == 2
    assert {name for name, _ in small_experiment.sensitivity} == set(SENSITIVITY)
    assert all(len(v["optimal"]) == 1 for v in small_experiment.sensitivity.values())


def test_a_moved_assumption_is_multiplied_and_a_probability_stays_at_most_one():
    a = Assumptions()
    assert moved(a, "family_finding_places", 1.25).family_finding_places == a.family_finding_places * 1.25
    assert moved(a, "profile_read_share", 1.25).profile_read_share == a.profile_read_share * 1.25
    assert moved(replace(a, link_success=0.9), "link_success", 1.25).link_success == 1.0
    assert moved(a, "listing_weeks", 1.25).listing_weeks == round(a.listing_weeks * 1.25)
    assert moved(a, "preferences.disability", 0.75).preferences.disability == a.preferences.disability * 0.75


def test_replicate_runs_the_arms_asked_for():
    results = replicate(TINY, replications=1, seed=2, policies=("status_quo", "optimal"))
    assert set(results) == {"status_quo", "optimal"} and len(results["optimal"]) == 1


def test_the_simulation_needs_no_database():
    code = (
        "import sys, services.matching.simulation.experiment, services.matching.simulation.report;"
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'services.matching.loader',"
        " 'services.register.models'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_result_does_not_depend_on_the_number_of_processes(small_experiment):
    two = experiment(TINY, replications=2, seed=5, policies=("status_quo",), out_of_sample_replications=1, workers=2)
    one = small_experiment
    assert [m.mean_wait_days for m in one.arms["status_quo"]] == [m.mean_wait_days for m in two.arms["status_quo"]]
    assert one.out_of_sample[0].waiting_children == two.out_of_sample[0].waiting_children


def test_a_plan_changes_only_after_a_year_and_sooner_for_an_older_child():
    a = replace(
        TINY, years=8, plan_change_per_week=0.01, plan_change_per_year_of_age=1.0, plan_change_per_year_waited=0
    )
    arrival = np.zeros(4000, dtype=np.int64)
    draw = np.random.default_rng(0).exponential(size=4000)
    baby, older = (plan_change_weeks(a, arrival, np.full(4000, age), draw) for age in (0.5, 6.0))
    assert baby.min() >= a.plan_change_after_weeks and older.min() >= a.plan_change_after_weeks
    assert np.all(older <= baby)  # the same draw, a higher hazard: never later
    # In its first year at risk (a year after the order) a child then six is 7-8 years old, so its
    # weekly hazard is 8-9 times the base (about 1 - exp(-4.4) leave within the year); a baby then
    # 1.5-2.5 years old has 2.5-3.5 times the base (about 1 - exp(-1.6)).
    after = a.plan_change_after_weeks
    assert np.mean(older < after + 52) > 0.98 > 0.9 > np.mean(baby < after + 52) > 0.7


def test_the_wait_is_measured_from_the_order_and_search_may_start_before_it(population, tiny_runs):
    """The published mean is of days from the placement order to the placement: the model
    measures that interval, lets family finding start before the order, and never places a
    child before its order; the shortest possible wait is far below the 187 days of 2022/23."""
    offsets = population.search_start - population.unit_arrival
    assert offsets.min() == -TINY.decision_before_order_weeks and offsets.max() == 0
    outcome = tiny_runs[1]["status_quo"]
    placed = outcome.unit_state == PLACED
    waits = (outcome.placed_week[placed] - population.unit_arrival[placed]) * 7
    assert waits.min() >= 0 and waits.min() < 187 / 2
    stock = np.isin(outcome.unit_state, [NOT_ARRIVED, WAITING, LINKED]) & (population.unit_arrival < TINY.weeks)
    assert outcome.waiting_children[-1] == int(population.units.size[stock].sum())


def test_a_profile_goes_national_when_its_agency_has_no_suitable_household_left(population):
    """In house first: a child stays in house while its agency has a waiting household the
    rules allow that has not declined it, and is listed `listing_weeks` later once it has
    none (or at its review)."""
    week = 60
    waiting = np.flatnonzero((population.search_start <= week) & (population.search_start > week - 4))
    free = np.flatnonzero(population.household_arrival <= week)
    listed = np.full(len(population.unit_arrival), NEVER)
    _list_exhausted(population, TINY, waiting, free, {}, week, listed, population.search_start)
    kept = waiting[listed[waiting] == NEVER]
    gone = waiting[listed[waiting] != NEVER]
    assert len(kept) and len(gone) and np.all(listed[gone] == week + TINY.listing_weeks)
    # Every household of its agency declines a kept child: it is listed at the next look.
    unit = int(kept[0])
    declined = {int(h): {unit} for h in free[population.household_agency[free] == population.unit_agency[unit]]}
    _list_exhausted(population, TINY, waiting, free, declined, week + 1, listed, population.search_start)
    assert listed[unit] == week + 1 + TINY.listing_weeks
    # With no household at all, every child not yet listed is listed.
    _list_exhausted(population, TINY, waiting, free[:0], {}, week + 2, listed, population.search_start)
    assert np.all(listed[waiting] != NEVER)


def test_in_house_first_places_a_child_not_yet_listed_only_with_its_own_agency(population, tiny_runs):
    outcome = tiny_runs[1]["status_quo"]
    placed = np.flatnonzero(outcome.unit_state == PLACED)
    # A child placed within its first weeks, before any profile could have been listed, was
    # placed by its own agency.
    early = placed[
        outcome.placed_week[placed] - TINY.matching_weeks - TINY.introduction_weeks
        < outcome.started_week[placed] + TINY.listing_weeks
    ]
    assert len(early)
    own = population.household_agency[outcome.placed_household[early]] == population.unit_agency[early]
    assert np.all(own)


def test_a_plan_change_grows_likelier_the_longer_a_child_has_waited():
    """The hazard's term for time waited: with age left out, a child still waiting in its
    second year at risk leaves within that year more often than in its first (with a flat
    hazard, as often)."""
    a = replace(
        TINY, years=8, plan_change_per_week=0.005, plan_change_per_year_of_age=0.0, plan_change_per_year_waited=2.0
    )
    flat = replace(a, plan_change_per_year_waited=0.0)
    arrival = np.zeros(20_000, dtype=np.int64)
    draw = np.random.default_rng(1).exponential(size=20_000)
    growing, constant = (plan_change_weeks(x, arrival, np.full(20_000, 2.0), draw) for x in (a, flat))
    after = a.plan_change_after_weeks
    assert growing.min() >= after and np.all(growing <= constant)

    def leaving_in_year(weeks: np.ndarray, k: int) -> float:
        at_risk = weeks >= after + 52 * k
        return float(np.mean(weeks[at_risk] < after + 52 * (k + 1)))

    # Flat: 1 - exp(-0.26) both years. Growing: about 1 - exp(-0.52), then 1 - exp(-1.04).
    assert abs(leaving_in_year(constant, 1) - leaving_in_year(constant, 0)) < 0.02
    assert leaving_in_year(growing, 1) > 1.4 * leaving_in_year(growing, 0)


def test_the_check_without_2022_moves_only_the_carried_over_values_and_the_approvals():
    a = Assumptions()
    clean = without_2022(a)
    assert clean.households_per_year == APPROVALS_2022_WITHOUT
    assert (clean.link_success, clean.listing_weeks, clean.preferences.base) == (0.875, 4, 0.425)
    # Everything the 2024/25-only search chose stays as it is.
    kept = ("attention_per_week", "plan_change_per_week", "arrival_weight_five_plus", "profile_read_share")
    assert all(getattr(clean, name) == getattr(a, name) for name in kept)
    assert clean.preferences.per_year_of_age == a.preferences.per_year_of_age
