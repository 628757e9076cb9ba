"""A weekly discrete-event simulation of matching in England, to compare policies.

Every assumption is a field of `Assumptions`, with its reason. The population (who
arrives when, with what needs, and every random outcome) is drawn once per replication and
shared by all policies (common random numbers), so a difference between policies is due to
the policy alone. Children and households are drawn by the synthetic register's generator,
so they have the same attributes as the register; matching uses the live engine.
"""

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import numpy as np

from services.matching.engine.arrays import Households, Units
from services.matching.loader import Languages, households_from_records, units_from_children
from services.register.models import need_column_name
from services.register.seed.generate import RegisterGenerator
from services.register.vocabulary import HouseholdStatus, Region

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Assumptions:
    """The model's assumptions. The defaults are calibrated so the status quo reproduces the
    published 2024/25 figures within 15% (`report.calibration` prints target beside achieved;
    tuned by hand over seeds 1-3 at the default scale)."""

    scale: float = 0.25  # share of England simulated (figures of stocks are scaled back up)
    years: int = 4  # measured years, after the warm-up
    warmup_years: int = 2  # to fill the system from empty before anything is measured
    # Arrivals per week in the whole of England: children with a placement order (as
    # sibling groups) and newly approved households. Little's law on the published stocks.
    units_per_week: float = 36.0
    households_per_week: float = 30.0
    # Family finding starts once the child's profile and report are ready.
    profile_ready_weeks: int = 6
    # A link is tried for this long (matching panel, then introductions) and then succeeds with this probability;
    # a failed link frees both and the pair is never tried again.
    introduction_weeks: int = 14
    link_success: float = 0.85
    # Households leave the pool (a weekly hazard: circumstances change, another route).
    household_withdrawal_per_week: float = 0.004
    # After this wait a child's plan may change away from adoption (weekly hazard then).
    plan_change_after_weeks: int = 71
    plan_change_per_week: float = 0.05
    # Status quo: each week a waiting household enquires about a child with this
    # probability; a child's profile is shown only to its own agency's households at first.
    status_quo_enquiry_per_week: float = 0.02
    status_quo_local_weeks: int = 13
    # Households browsing profiles prefer younger children; a disability weighs like this
    # many months of age.
    status_quo_disability_as_months: int = 60
    # Same friction for the national policies' proposals: accepted this share of the time
    # (the algorithm proposes; people decide).
    national_proposal_acceptance: float = 0.5
    # Interagency fees per child (published: LA to LA since 2011; LA to VAA from April 2025).
    fee_la_pence: int = 2_700_000
    fee_vaa_pence: int = 3_924_500

    @property
    def weeks(self) -> int:
        return 52 * (self.years + self.warmup_years)

    @property
    def warmup_weeks(self) -> int:
        return 52 * self.warmup_years


@dataclass
class Population:
    """Everyone who arrives in one replication, with every random outcome drawn up front."""

    units: Units  # attributes at arrival (ages and waits are advanced week by week)
    households: Households
    unit_arrival: np.ndarray  # week
    household_arrival: np.ndarray
    unit_agency: np.ndarray  # the child's RAA, as an index
    household_agency: np.ndarray  # the approving RAA or VAA, as an index
    household_is_vaa: np.ndarray
    unit_region: np.ndarray  # index into Region, of the child's local authority
    household_withdraws: np.ndarray  # week the household would leave if still waiting
    plan_changes: np.ndarray  # week the unit's plan would change if still waiting
    search_draws: np.ndarray  # (units, weeks) uniform: is a proposal for the unit taken that week
    enquiry_draws: np.ndarray  # (households, weeks) uniform: does the household enquire that week
    link_draws: np.ndarray  # (units, 8) uniform: outcome of the unit's k-th link
    five_plus: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def draw_population(assumptions: Assumptions, seed: int) -> Population:
    """Arrivals over the whole horizon, attributes from the synthetic register's generator."""
    rng = np.random.default_rng(seed)
    generator = RegisterGenerator(seed, date(2020, 1, 1))
    weeks = assumptions.weeks
    unit_arrival = _arrival_weeks(rng, assumptions.units_per_week * assumptions.scale, weeks)
    household_arrival = _arrival_weeks(rng, assumptions.households_per_week * assumptions.scale, weeks)
    sizes = generator.unit_sizes(3 * len(unit_arrival) + 10)  # enough units, in the register's proportions
    rng.shuffle(sizes)
    groups = [generator.unit(int(size), waiting_days=0, status="waiting") for size in sizes[: len(unit_arrival)]]
    records = [generator.household(status=HouseholdStatus.APPROVED) for _ in household_arrival]
    languages = Languages({lang for g in groups for c in g["children"] for lang in c["languages"]} | {"english"})
    today = generator.today
    units = units_from_children([[_child(c) for c in g["children"]] for g in groups], today, languages)
    households = households_from_records([_household(h) for h in records], languages)
    agencies = sorted({a.ref for a in generator.agencies if a.kind.value != "la"})
    index = {ref: i for i, ref in enumerate(agencies)}
    vaa = {a.ref for a in generator.agencies if a.kind.value == "vaa"}
    return Population(
        units=units,
        households=households,
        unit_arrival=unit_arrival,
        household_arrival=household_arrival,
        unit_agency=np.array([index[generator.raa_of[g["la_ref"]]] for g in groups]),
        household_agency=np.array([index[h["approving_agency_ref"]] for h in records]),
        household_is_vaa=np.array([h["approving_agency_ref"] in vaa for h in records]),
        unit_region=np.array([list(Region).index(g["children"][0]["region"]) for g in groups]),
        household_withdraws=household_arrival
        + rng.geometric(assumptions.household_withdrawal_per_week, len(household_arrival)),
        plan_changes=unit_arrival
        + assumptions.plan_change_after_weeks
        + rng.geometric(assumptions.plan_change_per_week, len(unit_arrival)),
        search_draws=rng.random((len(unit_arrival), weeks), dtype=np.float32),
        enquiry_draws=rng.random((len(household_arrival), weeks), dtype=np.float32),
        link_draws=rng.random((len(unit_arrival), 8)),
        five_plus=units.age_max_months >= 60,
    )


def _arrival_weeks(rng: np.random.Generator, per_week: float, weeks: int) -> np.ndarray:
    return np.repeat(np.arange(weeks), rng.poisson(per_week, size=weeks))


def _child(row: dict) -> SimpleNamespace:
    needs = {need_column_name(need): level for need, level in row["needs"].items()}
    waiting_since = row["placement_order_on"] or row["should_be_placed_on"]
    return SimpleNamespace(**{k: v for k, v in row.items() if k != "needs"}, **needs, waiting_since=waiting_since)


def _household(row: dict) -> SimpleNamespace:
    needs = {need_column_name(need): level for need, level in row["can_meet"].items()}
    return SimpleNamespace(**{k: v for k, v in row.items() if k != "can_meet"}, **needs)


def units_at(population: Population, rows: np.ndarray, week: int) -> Units:
    """The waiting units as the engine sees them this week: older, and having waited longer."""
    u = population.units
    waited_weeks = week - population.unit_arrival[rows]
    months = (waited_weeks * DAYS_PER_WEEK / 30.44).astype(np.int16)
    values = {name: getattr(u, name)[rows] for name in vars(u)}
    values["days_waiting"] = (waited_weeks * DAYS_PER_WEEK).astype(np.int32)
    values["age_min_months"] = values["age_min_months"] + months
    values["age_max_months"] = values["age_max_months"] + months
    return Units(**values)
