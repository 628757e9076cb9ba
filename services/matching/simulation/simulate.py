"""Runs one policy, week by week, over a drawn population.

Each week every waiting household pays attention with the same probability in every
policy; the policy decides which child each attentive household is shown (by browsing, or
by a proposal the engine makes), and the household accepts or not by the same preference
model. A yes starts a link; the match decision follows `matching_weeks` later (a failed
link frees both), and the child moves in `introduction_weeks` after it, never before its
placement order. National proposals go through the live engine (`candidate_edges`,
`solve`): no scorer is re-implemented here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from services.matching.engine.eligibility import eligibility_mask
from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.run import candidate_edges, long_waiting
from services.matching.engine.solver import solve
from services.matching.simulation.model import Assumptions, Population, acceptance, units_at, utility

NOT_ARRIVED, WAITING, LINKED, PLACED, WITHDRAWN = range(5)
# The scoring policy without its priority points (waiting time, sibling group, age, disability,
# ethnicity): the solver then maximises compatibility alone.
NO_PRIORITY = replace(
    ScoringPolicy(),
    wait_points_per_30_days=0,
    sibling_group_points=0,
    aged_five_plus_points=0,
    disability_points=0,
    minority_ethnic_points=0,
)


@dataclass
class Outcome:
    policy: str
    unit_state: np.ndarray
    placed_week: np.ndarray  # -1 when not placed
    placed_household: np.ndarray
    withdrawn_week: np.ndarray  # the week the child's plan changed, -1 when it did not
    household_withdrawn_week: np.ndarray
    household_state: np.ndarray
    waiting_children: list[int] = field(default_factory=list)  # per week, waiting or in introductions
    waiting_households: list[int] = field(default_factory=list)
    long_waiting_children: list[int] = field(default_factory=list)  # waited 78+ weeks, per week
    proposals: int = 0  # children considered by a household (browsed or proposed)
    accepted: int = 0


# Per household, the units it declined or whose link with it failed: never shown again.
Declined = dict[int, set[int]]
# (population, assumptions, waiting units, attentive households, declined, week) -> (unit, household) pairs
Shown = Callable[[Population, Assumptions, np.ndarray, np.ndarray, Declined, int], list[tuple[int, int]]]


def _declined_local(declined: Declined, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The declined pairs among these units and households, as positions in `rows` and `cols`."""
    row_at = {u: i for i, u in enumerate(rows.tolist())}
    pairs = [(row_at[u], j) for j, h in enumerate(cols.tolist()) for u in declined.get(h, ()) if u in row_at]
    return np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64)


def browsing(own_agency_first: bool) -> Shown:
    """Each attentive household reads a few of the profiles it may see (`_read_this_week`)
    and, in order of approval, enquires about the eligible child it wants most among them that
    no one has taken this week. With `own_agency_first`, a child is shown only to its own
    agency's households in its first weeks of family finding (agencies look in house first,
    which saves the interagency fee)."""

    def shown(
        pop: Population, a: Assumptions, waiting: np.ndarray, attentive: np.ndarray, declined: Declined, week: int
    ) -> list[tuple[int, int]]:
        if not len(waiting) or not len(attentive):
            return []
        units = units_at(pop, waiting, week)
        visible = eligibility_mask(
            units,
            pop.households.take(attentive),
            np.arange(len(waiting)),
            _declined_local(declined, waiting, attentive),
        )
        if own_agency_first:
            local = (week - pop.search_start[waiting]) < a.own_agency_first_weeks
            visible[local] &= pop.household_agency[attentive][None, :] == pop.unit_agency[waiting[local]][:, None]
        visible &= _read_this_week(pop, a, waiting, attentive, week, visible)
        wanted = np.where(visible, utility(pop, a.preferences, units, waiting, attentive), -np.inf)
        pairs = []
        for j in np.argsort(pop.household_arrival[attentive], kind="stable"):
            best = int(np.argmax(wanted[:, j]))
            if np.isfinite(wanted[best, j]):
                wanted[best, :] = -np.inf  # one enquiry at a time for a child
                pairs.append((int(waiting[best]), int(attentive[j])))
        return pairs

    return shown


def _read_this_week(
    pop: Population, a: Assumptions, waiting: np.ndarray, attentive: np.ndarray, week: int, visible: np.ndarray
) -> np.ndarray:
    """Which of the profiles it may see each attentive household reads this week:
    `a.profiles_read_per_week` of them, drawn without replacement, a profile from the
    household's own region `a.own_region_read_weight` times as likely as one from elsewhere
    (weighted sampling by exponent keys). The draw depends only on the child, the household
    and the week, so two arms that show a household the same profiles make it read the same."""
    profiles = a.profiles_read_per_week
    if profiles >= len(waiting):
        return visible
    key = (
        waiting.astype(np.uint64)[:, None] * np.uint64(2_654_435_761)
        + attentive.astype(np.uint64)[None, :] * np.uint64(40_503)
        + np.uint64(week) * np.uint64(2_246_822_519)
    )
    key ^= key >> np.uint64(15)
    key *= np.uint64(0x2C1B3C6D)
    key ^= key >> np.uint64(12)
    uniform = ((key & np.uint64(0xFFFFFF)).astype(np.float64) + 0.5) / float(1 << 24)
    same_region = pop.unit_region[waiting][:, None] == pop.households.region[attentive][None, :]
    score = np.where(visible, np.log(uniform) / np.where(same_region, a.own_region_read_weight, 1.0), -np.inf)
    cut = -np.partition(-score, profiles - 1, axis=0)[profiles - 1]
    return visible & (score >= cut[None, :])


def national_greedy(
    pop: Population, a: Assumptions, waiting: np.ndarray, attentive: np.ndarray, declined: Declined, week: int
) -> list[tuple[int, int]]:
    """The longest-waiting unit is proposed to its best-scoring attentive household, and so on."""
    if not len(waiting) or not len(attentive):
        return []
    units = units_at(pop, waiting, week)
    edges = candidate_edges(
        units, pop.households.take(attentive), ScoringPolicy(), declined=_declined_local(declined, waiting, attentive)
    )
    order = np.lexsort((edges.cols, -edges.scores, -units.days_waiting[edges.rows]))
    taken_units, taken_households, pairs = set(), set(), []
    for row, col in zip(edges.rows[order].tolist(), edges.cols[order].tolist(), strict=True):
        if row not in taken_units and col not in taken_households:
            taken_units.add(row)
            taken_households.add(col)
            pairs.append((int(waiting[row]), int(attentive[col])))
    return pairs


def national_optimal(policy: ScoringPolicy, *, lexicographic: bool = False) -> Shown:
    """The engine's maximum-weight assignment of waiting units to attentive households: the
    two steps of `engine.run.propose` that choose the pairs (`candidate_edges`, then `solve`,
    with the 18-month priority when lexicographic), without the explanations it adds for
    the live service (every unit no attentive household can take explained rule by rule,
    every unit not given its top household), which the simulation would throw away and
    which took half the time of a run. A test holds the two to the same pairs."""

    def shown(
        pop: Population, a: Assumptions, waiting: np.ndarray, attentive: np.ndarray, declined: Declined, week: int
    ) -> list[tuple[int, int]]:
        if not len(waiting) or not len(attentive):
            return []
        units = units_at(pop, waiting, week)
        edges = candidate_edges(
            units, pop.households.take(attentive), policy, declined=_declined_local(declined, waiting, attentive)
        )
        priority = long_waiting(units, policy) if lexicographic else None
        assignment, _ = solve(edges, priority=priority)
        return [(int(waiting[i]), int(attentive[j])) for i, j in enumerate(assignment.tolist()) if j >= 0]

    return shown


# The arms, each adding one cause to the one before: national pooling of profiles, then
# proposals chosen by a solver, then the priority points, then the 18-month priority.
POLICIES: dict[str, Shown] = {
    "status_quo": browsing(own_agency_first=True),
    "pooled_browsing": browsing(own_agency_first=False),
    "national_greedy": national_greedy,
    "optimal_no_priority": national_optimal(NO_PRIORITY),
    "optimal": national_optimal(ScoringPolicy()),
    "lexicographic": national_optimal(ScoringPolicy(), lexicographic=True),
}
LABELS = {
    "status_quo": "status quo (browse, own agency first)",
    "pooled_browsing": "national pooling, same browsing",
    "national_greedy": "national greedy",
    "optimal_no_priority": "national optimal, no priority points",
    "optimal": "national optimal with priority points",
    "lexicographic": "national optimal, 18-month lexicographic",
}


def never_shown(*args: object) -> list[tuple[int, int]]:
    return []


def run(pop: Population, a: Assumptions, shown: Shown, name: str) -> Outcome:
    n_units, n_households = len(pop.unit_arrival), len(pop.household_arrival)
    unit_state = np.zeros(n_units, dtype=np.int8)
    household_state = np.zeros(n_households, dtype=np.int8)
    outcome = Outcome(
        name,
        unit_state,
        placed_week=np.full(n_units, -1),
        placed_household=np.full(n_units, -1),
        withdrawn_week=np.full(n_units, -1),
        household_withdrawn_week=np.full(n_households, -1),
        household_state=household_state,
    )
    attempts = np.zeros(n_units, dtype=np.int64)
    links: dict[int, tuple[int, int]] = {}  # unit -> (household, week of the match decision)
    moving_in: dict[int, tuple[int, int]] = {}  # unit -> (household, week it moves in)
    declined: Declined = {}
    sizes = pop.units.size
    for week in range(a.weeks):
        unit_state[(unit_state == NOT_ARRIVED) & (pop.search_start <= week)] = WAITING
        household_state[pop.household_arrival == week] = WAITING
        leaving = ((unit_state == WAITING) | (unit_state == NOT_ARRIVED)) & (pop.plan_changes <= week)
        unit_state[leaving], outcome.withdrawn_week[leaving] = WITHDRAWN, week
        leaving = (household_state == WAITING) & (pop.household_withdraws <= week)
        household_state[leaving], outcome.household_withdrawn_week[leaving] = WITHDRAWN, week
        for unit, (household, decided) in list(links.items()):
            if decided != week:
                continue
            del links[unit]
            if pop.link_draws[unit, min(attempts[unit], pop.link_draws.shape[1] - 1)] < a.link_success:
                # Matched: both stay linked through the introductions, and the child moves in
                # no earlier than its placement order.
                moving_in[unit] = (household, max(week + a.introduction_weeks, int(pop.unit_arrival[unit])))
            else:
                unit_state[unit], household_state[household] = WAITING, WAITING
                declined.setdefault(household, set()).add(unit)
            attempts[unit] += 1
        for unit, (household, moves) in list(moving_in.items()):
            if moves == week:
                del moving_in[unit]
                unit_state[unit], household_state[household] = PLACED, PLACED
                outcome.placed_week[unit], outcome.placed_household[unit] = week, household
        waiting = np.flatnonzero(unit_state == WAITING)
        free = np.flatnonzero(household_state == WAITING)
        attentive = free[pop.attention_draws[free, week] < a.attention_per_week]
        pairs = shown(pop, a, waiting, attentive, declined, week)
        if pairs:
            units, households = (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
            wanted = utility(pop, a.preferences, units_at(pop, units, week), units, households)
            chance = acceptance(np.diagonal(wanted))
            outcome.proposals += len(pairs)
            for (unit, household), p in zip(pairs, chance.tolist(), strict=True):
                if pop.accept_draws[household, week] < p:
                    unit_state[unit], household_state[household] = LINKED, LINKED
                    links[unit] = (household, week + a.matching_weeks)
                    outcome.accepted += 1
                else:
                    declined.setdefault(household, set()).add(unit)
        # The published stock: children with a placement order not yet placed, whether family
        # finding has started or not (those whose family finding began before the order are not
        # in it until the order is made).
        in_system = (unit_state != PLACED) & (unit_state != WITHDRAWN) & (pop.unit_arrival <= week)
        outcome.waiting_children.append(int(sizes[in_system].sum()))
        outcome.waiting_households.append(int((household_state == WAITING).sum()))
        long = in_system & ((week - pop.unit_arrival) >= 78)
        outcome.long_waiting_children.append(int(sizes[long].sum()))
    return outcome
