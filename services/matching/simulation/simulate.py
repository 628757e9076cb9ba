"""Runs one policy, week by week, over a drawn population. Matching goes through the live
engine (`eligibility_mask`, `candidate_edges`, `propose`): no scorer is re-implemented."""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from services.matching.engine.eligibility import eligibility_mask
from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.run import candidate_edges, propose
from services.matching.simulation.model import Assumptions, Population, units_at

POLICIES = ("status_quo", "national_greedy", "national_optimal", "national_lexicographic")
NOT_ARRIVED, WAITING, LINKED, PLACED, WITHDRAWN = range(5)


@dataclass
class Outcome:
    policy: str
    unit_state: np.ndarray
    placed_week: np.ndarray  # -1 when not placed
    placed_household: np.ndarray
    withdrawn_week: np.ndarray
    waiting_children: list[int] = field(default_factory=list)  # per week, waiting or in introductions
    waiting_households: list[int] = field(default_factory=list)
    long_waiting_children: list[int] = field(default_factory=list)  # waited 78+ weeks, per week


Matcher = Callable[[Population, Assumptions, ScoringPolicy, np.ndarray, np.ndarray, set, int], list[tuple[int, int]]]


def _declined_local(
    declined: set[tuple[int, int]], rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    row_at = {u: i for i, u in enumerate(rows.tolist())}
    col_at = {h: j for j, h in enumerate(cols.tolist())}
    pairs = [(row_at[u], col_at[h]) for u, h in declined if u in row_at and h in col_at]
    return np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64)


def status_quo(
    pop: Population,
    a: Assumptions,
    policy: ScoringPolicy,
    waiting: np.ndarray,
    free: np.ndarray,
    declined: set,
    week: int,
) -> list[tuple[int, int]]:
    """Today's catalogue: some households enquire each week and, first come first served in
    order of approval, each takes the eligible child it prefers among the profiles it can
    see (its own agency's children only, in their first weeks): the youngest, and a child
    without a disability (counted as so many months older) first ("advertised but not
    chosen")."""
    enquiring = free[pop.enquiry_draws[free, week] < a.status_quo_enquiry_per_week]
    if not len(waiting) or not len(enquiring):
        return []
    mask = eligibility_mask(
        units_at(pop, waiting, week),
        pop.households.take(enquiring),
        np.arange(len(waiting)),
        _declined_local(declined, waiting, enquiring),
    )
    local = (week - pop.unit_arrival[waiting]) < a.status_quo_local_weeks
    mask[local] &= pop.household_agency[enquiring][None, :] == pop.unit_agency[waiting[local]][:, None]
    preference = np.argsort(
        pop.units.age_max_months[waiting] + a.status_quo_disability_as_months * pop.units.disabled[waiting],
        kind="stable",
    )
    mask = mask[preference]
    taken = np.zeros(len(waiting), dtype=bool)
    links = []
    for j in np.argsort(pop.household_arrival[enquiring], kind="stable"):
        options = np.flatnonzero(mask[:, j] & ~taken)
        if len(options):
            taken[options[0]] = True
            links.append((int(waiting[preference[options[0]]]), int(enquiring[j])))
    return links


def national_greedy(
    pop: Population,
    a: Assumptions,
    policy: ScoringPolicy,
    waiting: np.ndarray,
    free: np.ndarray,
    declined: set,
    week: int,
) -> list[tuple[int, int]]:
    """Weekly, the longest-waiting unit takes its best-scoring eligible household, and so on."""
    if not len(waiting) or not len(free):
        return []
    units = units_at(pop, waiting, week)
    edges = candidate_edges(units, pop.households.take(free), policy, declined=_declined_local(declined, waiting, free))
    order = np.lexsort((edges.cols, -edges.scores, -units.days_waiting[edges.rows]))
    taken_units, taken_households, links = set(), set(), []
    for row, col in zip(edges.rows[order].tolist(), edges.cols[order].tolist(), strict=True):
        if row not in taken_units and col not in taken_households:
            taken_units.add(row)
            taken_households.add(col)
            links.append((int(waiting[row]), int(free[col])))
    return _accepted(pop, a, links, week)


def _optimal(lexicographic: bool) -> Matcher:
    def match(
        pop: Population,
        a: Assumptions,
        policy: ScoringPolicy,
        waiting: np.ndarray,
        free: np.ndarray,
        declined: set,
        week: int,
    ) -> list[tuple[int, int]]:
        if not len(waiting) or not len(free):
            return []
        result = propose(
            units_at(pop, waiting, week),
            pop.households.take(free),
            policy,
            declined=_declined_local(declined, waiting, free),
            lexicographic=lexicographic,
            shortlist_k=1,
        )
        links = [(int(waiting[i]), int(free[j])) for i, j in enumerate(result.assignment.tolist()) if j >= 0]
        return _accepted(pop, a, links, week)

    return match


def _accepted(pop: Population, a: Assumptions, links: list[tuple[int, int]], week: int) -> list[tuple[int, int]]:
    return [(u, h) for u, h in links if pop.search_draws[u, week] < a.national_proposal_acceptance]


MATCHERS: dict[str, Matcher] = {
    "status_quo": status_quo,
    "national_greedy": national_greedy,
    "national_optimal": _optimal(False),
    "national_lexicographic": _optimal(True),
}


def never_match(*args: object) -> list[tuple[int, int]]:
    return []


def run(pop: Population, a: Assumptions, matcher: Matcher, name: str, policy: ScoringPolicy | None = None) -> Outcome:
    if policy is None:
        policy = ScoringPolicy()
    n_units, n_households = len(pop.unit_arrival), len(pop.household_arrival)
    unit_state = np.zeros(n_units, dtype=np.int8)
    household_state = np.zeros(n_households, dtype=np.int8)
    placed_week = np.full(n_units, -1)
    placed_household = np.full(n_units, -1)
    withdrawn_week = np.full(n_units, -1)
    attempts = np.zeros(n_units, dtype=np.int64)
    links: dict[int, tuple[int, int]] = {}  # unit -> (household, week the introductions end)
    declined: set[tuple[int, int]] = set()
    outcome = Outcome(name, unit_state, placed_week, placed_household, withdrawn_week)
    sizes = pop.units.size
    for week in range(a.weeks):
        unit_state[(pop.unit_arrival + a.profile_ready_weeks == week)] = WAITING
        household_state[(pop.household_arrival == week)] = WAITING
        leaving = (unit_state == WAITING) & (pop.plan_changes <= week)
        unit_state[leaving], withdrawn_week[leaving] = WITHDRAWN, week
        household_state[(household_state == WAITING) & (pop.household_withdraws <= week)] = WITHDRAWN
        for unit, (household, ends) in list(links.items()):
            if ends != week:
                continue
            del links[unit]
            if pop.link_draws[unit, min(attempts[unit], pop.link_draws.shape[1] - 1)] < a.link_success:
                unit_state[unit], household_state[household] = PLACED, PLACED
                placed_week[unit], placed_household[unit] = week, household
            else:
                unit_state[unit], household_state[household] = WAITING, WAITING
                declined.add((unit, household))
            attempts[unit] += 1
        waiting, free = np.flatnonzero(unit_state == WAITING), np.flatnonzero(household_state == WAITING)
        for unit, household in matcher(pop, a, policy, waiting, free, declined, week):
            unit_state[unit], household_state[household] = LINKED, LINKED
            links[unit] = (household, week + a.introduction_weeks)
        in_system = (unit_state == WAITING) | (unit_state == LINKED)
        outcome.waiting_children.append(int(sizes[in_system].sum()))
        outcome.waiting_households.append(int((household_state == WAITING).sum()))
        long = in_system & ((week - pop.unit_arrival) >= 78)
        outcome.long_waiting_children.append(int(sizes[long].sum()))
    return outcome
