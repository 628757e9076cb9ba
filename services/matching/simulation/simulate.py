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
from services.matching.simulation.model import (
    LATENT_TASTES,
    Assumptions,
    Population,
    acceptance,
    units_at,
    utility,
)

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
    started_week: np.ndarray  # the week a family finder took the child on, -1 when none did
    household_withdrawn_week: np.ndarray
    household_state: np.ndarray
    waiting_children: list[int] = field(default_factory=list)  # per week, waiting or in introductions
    waiting_households: list[int] = field(default_factory=list)
    long_waiting_children: list[int] = field(default_factory=list)  # waited 78+ weeks, per week
    proposals: int = 0  # children considered by a household (browsed or proposed)
    accepted: int = 0


# Per household, the units it declined or whose link with it failed: never shown again.
Declined = dict[int, set[int]]
# (population, assumptions, waiting units, attentive households, declined, week, phase) ->
# (unit, household) pairs; `phase` says, per waiting unit, where its profile is (IN_HOUSE,
# BEING_LISTED, LISTED: always LISTED except in the status quo's in-house phases).
Shown = Callable[[Population, Assumptions, np.ndarray, np.ndarray, Declined, int, np.ndarray], list[tuple[int, int]]]


def _declined_local(declined: Declined, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The declined pairs among these units and households, as positions in `rows` and `cols`."""
    row_at = {u: i for i, u in enumerate(rows.tolist())}
    pairs = [(row_at[u], j) for j, h in enumerate(cols.tolist()) for u in declined.get(h, ()) if u in row_at]
    return np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64)


class Browsing:
    """Each attentive household reads some of the profiles it may see (`_read_this_week`)
    and, in order of approval, enquires about the eligible child it wants most among them that
    no one has taken this week.

    With `own_agency_first` (the status quo), a child whose profile has not been listed
    nationally is not on any search: its agency's family finder proposes it to the agency's
    own households (`_in_house_proposals`), and an attentive household given a proposal
    considers that child this week instead of browsing. `run` lists the profile when the
    agency has no suitable household left (`Assumptions.in_house_review_weeks`)."""

    def __init__(self, own_agency_first: bool) -> None:
        self.own_agency_first = own_agency_first

    def __call__(
        self,
        pop: Population,
        a: Assumptions,
        waiting: np.ndarray,
        attentive: np.ndarray,
        declined: Declined,
        week: int,
        listed: np.ndarray,
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
        wanted = utility(pop, a.preferences, units, waiting, attentive)
        pairs: list[tuple[int, int]] = []
        listed_now = listed == LISTED
        if self.own_agency_first and not listed_now.all():
            # Until its profile is on the national search, the family finder keeps proposing
            # the child to the agency's own households (new ones are approved meanwhile).
            local = ~listed_now
            own = pop.household_agency[attentive][None, :] == pop.unit_agency[waiting[local]][:, None]
            proposed = np.zeros_like(visible)
            proposed[local] = visible[local] & own
            # The family finder judges by what the household has said it wants, not by the
            # chemistry only a meeting shows.
            judged = wanted - a.preferences.chemistry_sd * _chemistry(pop, waiting, attentive)
            pairs = _in_house_proposals(np.where(proposed, judged, -np.inf), pop.unit_arrival[waiting])
            visible[:, [j for _, j in pairs]] = False  # a household proposed a child does not browse
            pairs = [(int(waiting[i]), int(attentive[j])) for i, j in pairs]
        visible &= listed_now[:, None]
        visible &= _read_this_week(pop, a, waiting, attentive, week, visible)
        wanted = np.where(visible, wanted, -np.inf)
        for j in np.argsort(pop.household_arrival[attentive], kind="stable"):
            best = int(np.argmax(wanted[:, j]))
            if np.isfinite(wanted[best, j]):
                wanted[best, :] = -np.inf  # one enquiry at a time for a child
                pairs.append((int(waiting[best]), int(attentive[j])))
        return pairs


def _chemistry(pop: Population, rows: np.ndarray, households: np.ndarray) -> np.ndarray:
    return pop.unit_taste[rows] @ pop.household_taste[households].T / np.sqrt(LATENT_TASTES)


def _in_house_proposals(judged: np.ndarray, order_week: np.ndarray) -> list[tuple[int, int]]:
    """The family finders' proposals: the child whose order came first is proposed to the
    attentive household of its agency it judges likeliest to say yes, and so on; a
    household is proposed one child a week. Positions in `judged` (-inf: not proposable)."""
    pairs = []
    rows = np.flatnonzero(np.isfinite(judged).any(axis=1))
    for i in rows[np.argsort(order_week[rows], kind="stable")]:
        j = int(np.argmax(judged[i]))
        if np.isfinite(judged[i, j]):
            pairs.append((int(i), j))
            judged[:, j] = -np.inf
    return pairs


def browsing(own_agency_first: bool) -> Browsing:
    return Browsing(own_agency_first)


def _read_this_week(
    pop: Population,
    a: Assumptions,
    waiting: np.ndarray,
    attentive: np.ndarray,
    week: int,
    visible: np.ndarray,
) -> np.ndarray:
    """Which of the profiles it may see each attentive household reads this week: each with
    probability `a.profile_read_share`, `a.own_region_read_weight` times that for a profile
    from the household's own region. A household reads a share of what its search
    returns, so the more children are waiting, the more it reads, and the more households
    are waiting, the sooner a child's profile is read. The draw depends only on the child, the
    household and the week, so two arms that show a household the same profiles make it read
    the same."""
    key = (
        waiting.astype(np.uint64)[:, None] * np.uint64(2_654_435_761)
        + attentive.astype(np.uint64)[None, :] * np.uint64(40_503)
        + np.uint64(week) * np.uint64(2_246_822_519)
    )
    key ^= key >> np.uint64(15)
    key *= np.uint64(0x2C1B3C6D)
    key ^= key >> np.uint64(12)
    uniform = ((key & np.uint64(0xFFFFFF)).astype(np.float32) + 0.5) / float(1 << 24)
    same_region = pop.unit_region[waiting][:, None] == pop.households.region[attentive][None, :]
    weight = np.where(same_region, a.own_region_read_weight, 1.0)
    return visible & (uniform < a.profile_read_share * weight)


def national_greedy(
    pop: Population,
    a: Assumptions,
    waiting: np.ndarray,
    attentive: np.ndarray,
    declined: Declined,
    week: int,
    listed: np.ndarray,
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
        pop: Population,
        a: Assumptions,
        waiting: np.ndarray,
        attentive: np.ndarray,
        declined: Declined,
        week: int,
        listed: np.ndarray,
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


NEVER = np.iinfo(np.int64).max
# Where a waiting unit's profile is: shown by its agency to its own households, being prepared
# for the national search (shown to no one), or on the national search.
IN_HOUSE, BEING_LISTED, LISTED = range(3)


def _list_exhausted(
    pop: Population,
    a: Assumptions,
    waiting: np.ndarray,
    free: np.ndarray,
    declined: Declined,
    week: int,
    listed_week: np.ndarray,
    started_week: np.ndarray,
) -> None:
    """In house first: a waiting unit not yet listed is listed `listing_weeks` from now when
    its agency has no waiting household left that it could be placed with and that has not
    declined it, or when it reaches its review (`in_house_review_weeks` after the start of
    family finding)."""
    rows = waiting[listed_week[waiting] == NEVER]
    if not len(rows):
        return
    due = (week - started_week[rows]) >= a.in_house_review_weeks
    own = pop.household_agency[free][None, :] == pop.unit_agency[rows][:, None]
    has_own = own.any(axis=1) & ~due
    if has_own.any():
        ask = rows[has_own]
        cols = own[has_own].any(axis=0)
        mask = eligibility_mask(
            units_at(pop, ask, week),
            pop.households.take(free[cols]),
            np.arange(len(ask)),
            _declined_local(declined, ask, free[cols]),
        )
        has_own[has_own] = (mask & own[has_own][:, cols]).any(axis=1)
    listed_week[rows[~has_own]] = week + a.listing_weeks


def family_finding_places(pop: Population, a: Assumptions) -> np.ndarray:
    """Per agency, how many units its family finders can work on at once: England's
    `family_finding_places` at the model's scale, shared by the agencies in proportion to the
    units referred to them."""
    agencies = int(max(pop.unit_agency.max(initial=0), pop.household_agency.max(initial=0))) + 1
    share = np.bincount(pop.unit_agency, minlength=agencies) / max(len(pop.unit_agency), 1)
    return np.maximum(np.round(a.family_finding_places * a.scale * share), 1).astype(np.int64)


def _start_family_finding(
    pop: Population,
    places: np.ndarray,
    unit_state: np.ndarray,
    started_week: np.ndarray,
    week: int,
    linking: list[int],
) -> None:
    """Each agency takes on the units referred to it (from the agency's decision on) in the
    order they were referred, while it has a family-finding place free. A unit holds a place
    while it still needs a family and while its link is being worked on (`linking`: from the
    household's yes to the match decision, the CPR, visits and the matching panel, which
    family finders do): family finding ends at the match, as the published count of children
    in active family finding separates those not yet matched from those matched and waiting
    to move in. When households are plentiful children are placed sooner, places free up,
    and the next child's family finding starts sooner."""
    referred = np.flatnonzero((unit_state == NOT_ARRIVED) & (pop.search_start <= week))
    if not len(referred):
        return
    busy = np.bincount(pop.unit_agency[unit_state == WAITING], minlength=len(places))
    busy += np.bincount(pop.unit_agency[np.array(linking, dtype=np.int64)], minlength=len(places))
    referred = referred[np.lexsort((referred, pop.search_start[referred], pop.unit_agency[referred]))]
    agency = pop.unit_agency[referred]
    rank = np.arange(len(referred)) - np.searchsorted(agency, agency)
    start = referred[rank < (places - busy)[agency]]
    unit_state[start], started_week[start] = WAITING, week


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
        started_week=np.full(n_units, -1),
        household_withdrawn_week=np.full(n_households, -1),
        household_state=household_state,
    )
    attempts = np.zeros(n_units, dtype=np.int64)
    # The week each unit's profile reaches the national search: at the start of family finding,
    # except where the agency looks in house first (then `_list_exhausted` sets it).
    in_house_first = isinstance(shown, Browsing) and shown.own_agency_first
    listed_week = np.full(n_units, NEVER) if in_house_first else np.zeros(n_units, dtype=np.int64)
    places = family_finding_places(pop, a)
    links: dict[int, tuple[int, int]] = {}  # unit -> (household, week of the match decision)
    moving_in: dict[int, tuple[int, int]] = {}  # unit -> (household, week it moves in)
    declined: Declined = {}
    sizes = pop.units.size
    for week in range(a.weeks):
        _start_family_finding(pop, places, unit_state, outcome.started_week, week, list(links))
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
        if in_house_first:
            _list_exhausted(pop, a, waiting, free, declined, week, listed_week, outcome.started_week)
        attentive = free[pop.attention_draws[free, week] < a.attention_per_week]
        phase = np.where(
            listed_week[waiting] <= week, LISTED, np.where(listed_week[waiting] == NEVER, IN_HOUSE, BEING_LISTED)
        )
        pairs = shown(pop, a, waiting, attentive, declined, week, phase)
        if pairs:
            units, households = (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
            chance = acceptance(utility(pop, a.preferences, units_at(pop, units, week), units, households, paired=True))
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
