"""Every policy over the same replications: population r is drawn from seed + r once and
run under each policy (common random numbers); then the out-of-sample check and the
sensitivity of the headline to each key assumption."""

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any

from services.matching.simulation.model import Assumptions, draw_population
from services.matching.simulation.report import Metrics, metrics
from services.matching.simulation.simulate import POLICIES, run

# The 2022 balance (Coram-i / ASGLB): 2,020 children and 2,480 households waiting, against
# 2,940 and 1,420 in 2025.
STOCKS_2022 = (2_020, 2_480)
STOCKS_2025 = (2_940, 1_420)
# The headline compares these two arms; the sensitivity section moves it.
HEADLINE = ("status_quo", "optimal")
# Assumptions moved ±25% in the sensitivity section: those that do not change who arrives,
# so each moved run shares the replication's population (the comparison stays paired).
SENSITIVITY = (
    "attention_per_week",
    "profile_read_share",
    "preferences.per_year_of_age",
    "preferences.disability",
    "preferences.per_100_km",
    "family_finding_places",
)


@dataclass
class Experiment:
    assumptions: Assumptions
    seed: int
    arms: dict[str, list[Metrics]]
    out_of_sample: list[Metrics] = field(default_factory=list)
    out_of_sample_assumptions: Assumptions | None = None
    # The same check with the values carried over from the first calibration chosen again
    # without 2022 (`without_2022`), on the same seeds.
    out_of_sample_without_2022: list[Metrics] = field(default_factory=list)
    # (assumption, factor) -> per replication, the headline arms' metrics under the moved assumption
    sensitivity: dict[tuple[str, float], dict[str, list[Metrics]]] = field(default_factory=dict)


def moved(a: Assumptions, name: str, factor: float) -> Assumptions:
    """`a` with one assumption multiplied by `factor` (whole numbers stay whole; a probability,
    a value of at most 1, stays at most 1)."""
    if name.startswith("preferences."):
        key = name.split(".", 1)[1]
        return replace(a, preferences=replace(a.preferences, **{key: getattr(a.preferences, key) * factor}))
    value = getattr(a, name)
    if isinstance(value, int):
        new: float = round(value * factor)
    else:
        new = min(value * factor, 1.0) if value <= 1.0 else value * factor
    changes: dict[str, Any] = {name: new}
    return replace(a, **changes)


# Households approved a year in the 2022 balance: found by trial to hold about 2,480
# households waiting (`benchmarks/simulation_calibration.py --approvals-2022`, seeds 1-2:
# 3,300 held 2,402, 3,330 held 2,568, 3,500 held 2,981), a run that prints the households'
# stock and nothing else. The 2022 balance is an input of the check, like the published stocks
# it comes from; the wait and the children's stock are its outputs, not looked at before the
# check was run.
APPROVALS_2022 = 3_315.0


# The values the first calibration chose with the 2022 wait in its objective, chosen again on
# the 2024/25 table alone by a coordinate search from the middle of each range
# (`benchmarks/simulation_calibration.py --names carried-over --sweep 2 --from-middle`, seeds
# 1-4): they fit 2024/25 as well as the defaults, which are kept. With them, the 2022
# approvals found again on the households' stock alone (3,200 held 2,230, 3,315 held 2,535).
APPROVALS_2022_WITHOUT = 3_295.0


def without_2022(a: Assumptions) -> Assumptions:
    """`a` with those values, and the 2022 balance of households for them: the 2022 check of
    a model no value of which was chosen with 2022 in view."""
    return replace(
        a,
        households_per_year=a.households_per_year * APPROVALS_2022_WITHOUT / Assumptions().households_per_year,
        arrival_weight_high_needs=0.06,
        arrival_weight_narrow_household=0.25,
        link_success=0.875,
        household_withdrawal_per_week=0.005,
        listing_weeks=4,
        introduction_weeks=7,
        preferences=replace(
            a.preferences, base=0.425, disability=2.25, per_high_need=0.1, per_100_km=0.2, chemistry_sd=2.0
        ),
    )


def balance_2022(a: Assumptions) -> Assumptions:
    """The 2024/25 model with the households of 2022: approvals raised to what holds about
    2,480 households waiting (against 1,420 in 2025). Children's arrivals are unchanged: the
    model must produce the 2022 children's stock and wait by itself."""
    return replace(a, households_per_year=a.households_per_year * APPROVALS_2022 / Assumptions().households_per_year)


def steps(
    replications: int, policies: tuple[str, ...], out_of_sample_replications: int, sensitivity_replications: int
) -> int:
    """How many policy runs `experiment` makes (for a progress bar)."""
    moves = sensitivity_replications * len(SENSITIVITY) * 2 * len(HEADLINE)
    return replications * len(policies) + 2 * out_of_sample_replications + moves


def experiment(
    a: Assumptions,
    *,
    replications: int,
    seed: int,
    policies: tuple[str, ...] = tuple(POLICIES),
    out_of_sample_replications: int = 2,
    sensitivity_replications: int = 0,
    workers: int = 1,
    on_step: Callable[[], None] = lambda: None,
) -> Experiment:
    """Every run, as tasks that each draw one population and run some policies on it; with
    `workers` > 1 the tasks run in that many processes. The result does not depend on
    `workers`: each task draws from its own seed."""
    past = balance_2022(a)
    # One task per population: a replication's arms and, for the first ones, its moved runs
    # (a draw costs several policy runs, so each population is drawn once). The largest task
    # goes first, so that with two processes the other takes the remaining replications.
    runs = [(name, f, p) for name in SENSITIVITY for f in FACTORS for p in HEADLINE]
    tasks: list[Task] = [
        (
            a,
            seed + r,
            [(a, p) for p in policies]
            + ([(moved(a, n, f), p) for n, f, p in runs] if r < sensitivity_replications else []),
        )
        for r in range(replications)
    ]
    tasks += [(past, seed + r, [(past, "status_quo")]) for r in range(out_of_sample_replications)]
    clean = without_2022(a)
    tasks += [(clean, seed + r, [(clean, "status_quo")]) for r in range(out_of_sample_replications)]
    done = _run_tasks(tasks, workers, on_step)
    result = Experiment(a, seed, {p: [done[r][k] for r in range(replications)] for k, p in enumerate(policies)})
    if out_of_sample_replications:
        result.out_of_sample_assumptions = past
        result.out_of_sample = [done[replications + r][0] for r in range(out_of_sample_replications)]
        after = replications + out_of_sample_replications
        result.out_of_sample_without_2022 = [done[after + r][0] for r in range(out_of_sample_replications)]
    for r in range(min(sensitivity_replications, replications)):
        for k, (name, f, policy) in enumerate(runs):
            result.sensitivity.setdefault((name, f), {p: [] for p in HEADLINE})[policy].append(
                done[r][len(policies) + k]
            )
    return result


FACTORS = (0.75, 1.25)
# (assumptions to draw the population with, its seed, the (assumptions, policy) runs on it)
Task = tuple[Assumptions, int, list[tuple[Assumptions, str]]]


def _task(draw: Assumptions, seed: int, runs: list[tuple[Assumptions, str]]) -> list[Metrics]:
    population = draw_population(draw, seed)
    return [metrics(population, a, run(population, a, POLICIES[policy], policy)) for a, policy in runs]


def _run_tasks(tasks: list[Task], workers: int, on_step: Callable[[], None]) -> list[list[Metrics]]:
    done: list[list[Metrics]] = [[] for _ in tasks]
    if workers <= 1:
        for i, task in enumerate(tasks):
            done[i] = _task(*task)
            for _ in task[2]:
                on_step()
        return done
    with ProcessPoolExecutor(max_workers=workers) as pool:
        biggest_first = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][2]))
        futures = {pool.submit(_task, *tasks[i]): i for i in biggest_first}
        for future in as_completed(futures):
            i = futures[future]
            done[i] = future.result()
            for _ in tasks[i][2]:
                on_step()
    return done


def replicate(
    a: Assumptions, *, replications: int, seed: int, policies: tuple[str, ...] = tuple(POLICIES)
) -> dict[str, list[Metrics]]:
    """The arms only (no out-of-sample check, no sensitivity)."""
    return experiment(a, replications=replications, seed=seed, policies=policies, out_of_sample_replications=0).arms


def quick(a: Assumptions) -> Assumptions:
    """A small run for tests and a first look (under 20 s on two idle cores): 5% of England, a
    shorter horizon (three years of warm-up instead of five; the report prints the stock's trend)."""
    return replace(a, scale=0.05, years=2, warmup_years=3)
