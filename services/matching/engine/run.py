"""A national match in three steps: the candidate edges (eligibility + score), the
assignment, and per-unit shortlists with explanations. Pure: arrays in, arrays out."""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from services.matching.engine.arrays import NO_PAIRS, Households, Pairs, Units
from services.matching.engine.eligibility import eligibility_mask, ruled_out_by
from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.scoring import COMPONENTS, pair_components, pair_scores
from services.matching.engine.solver import Edges, Method, solve

# Units evaluated at once: small blocks keep the temporaries in cache (measured: 64 beats
# 512 by a quarter) and bound memory to a block x households mask.
BLOCK_UNITS = 64
KM_PER_DEGREE = 111.0  # of latitude; slightly less than the true 111.2, so cells err on the wide side


@dataclass(frozen=True)
class NotTop:
    """Why a unit was not proposed its top-scoring household: the household went to
    `taken_by` (a unit index; -1 if no unit has it), and if the two units swapped households
    the national total would fall by `swap_loss_points` (the other unit keeps nothing when
    the swap would break a hard rule for it)."""

    top_household: int
    top_score: int
    taken_by: int
    swap_loss_points: int


@dataclass(frozen=True)
class MatchResult:
    assignment: np.ndarray  # household index per unit, -1 when unmatched
    scores: np.ndarray  # the assigned pair's score, 0 when unmatched
    components: np.ndarray  # int32 (units, components); zeros when unmatched
    shortlists: list[list[tuple[int, int]]]  # per unit: (household, score), best first
    method: Method
    metrics: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    # Units no household can take: how many households each hard rule rules out.
    no_eligible: dict[int, dict[str, int]] = field(default_factory=dict)
    # Units not proposed their top-scoring household, and why.
    not_top: dict[int, NotTop] = field(default_factory=dict)


def candidate_edges(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    *,
    declined: tuple[np.ndarray, np.ndarray] | None = None,
    top_k: int | None = None,
    interests: Pairs = NO_PAIRS,
) -> Edges:
    """Every eligible pair with its score; with `top_k`, only each unit's best `top_k`
    (ties broken by household index), which keeps a very large pool sparse."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for block, nearby in _neighbourhoods(units, households, policy.max_distance_km):
        local_rows, local_cols = np.nonzero(
            eligibility_mask(units, households, block, declined, cols=nearby, max_distance_km=policy.max_distance_km)
        )
        rows = block[local_rows]
        cols = local_cols if nearby is None else nearby[local_cols]
        scores = pair_scores(units, households, policy, rows, cols, interests)
        if top_k is not None:
            rows, cols, scores = _best_per_unit(rows, cols, scores, top_k)
        parts.append((rows, cols, scores))
    empty = np.empty(0, dtype=np.int64)
    rows, cols, scores = (np.concatenate([empty, *(p[i] for p in parts)]).astype(np.int64) for i in range(3))
    return Edges(rows=rows, cols=cols, scores=scores, n_units=len(units), n_households=len(households))


def _neighbourhoods(
    units: Units, households: Households, max_km: float
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Blocks of units, each with the households it must be checked against: all of them,
    or with a distance cap only those in its grid cell and the eight around it (cells at
    least `max_km` wide, so nothing within reach is missed)."""
    if max_km <= 0:
        for start in range(0, len(units), BLOCK_UNITS):
            yield np.arange(start, min(start + BLOCK_UNITS, len(units))), None
        return
    widest_lat = float(np.max(np.abs(np.concatenate([units.latitude, households.latitude]))))
    lat_step = max_km / KM_PER_DEGREE
    lon_step = max_km / (KM_PER_DEGREE * max(np.cos(np.radians(widest_lat)), 0.01))

    def cells(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return np.stack([np.floor(lat / lat_step), np.floor(lon / lon_step)], axis=1).astype(np.int64)

    unit_cells, household_cells = (
        cells(units.latitude, units.longitude),
        cells(households.latitude, households.longitude),
    )
    by_cell: dict[tuple[int, int], list[int]] = {}
    for j, (a, b) in enumerate(household_cells.tolist()):
        by_cell.setdefault((a, b), []).append(j)
    units_by_cell: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(unit_cells.tolist()):
        units_by_cell.setdefault((a, b), []).append(i)
    for key in sorted(units_by_cell):
        members = np.array(units_by_cell[key], dtype=np.int64)
        nearby = sorted(
            j for da in (-1, 0, 1) for db in (-1, 0, 1) for j in by_cell.get((key[0] + da, key[1] + db), [])
        )
        for start in range(0, len(members), BLOCK_UNITS):
            yield members[start : start + BLOCK_UNITS], np.array(nearby, dtype=np.int64)


def _best_per_unit(
    rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.lexsort((cols, -scores, rows))  # by unit, best score first, then household index
    rows, cols, scores = rows[order], cols[order], scores[order]
    starts = np.searchsorted(rows, rows, side="left")
    keep = (np.arange(len(rows)) - starts) < k
    return rows[keep], cols[keep], scores[keep]


def shortlists(edges: Edges, k: int) -> list[list[tuple[int, int]]]:
    rows, cols, scores = _best_per_unit(edges.rows, edges.cols, edges.scores, k)
    result: list[list[tuple[int, int]]] = [[] for _ in range(edges.n_units)]
    for row, col, score in zip(rows.tolist(), cols.tolist(), scores.tolist(), strict=True):
        result[row].append((col, score))
    return result


def long_waiting(units: Units, policy: ScoringPolicy) -> np.ndarray:
    return units.days_waiting >= policy.long_wait_days


def propose(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    *,
    declined: tuple[np.ndarray, np.ndarray] | None = None,
    lexicographic: bool = False,
    shortlist_k: int = 5,
    dense_limit: int = 25_000_000,
    top_k: int | None = None,
    method: Method | None = None,
    interests: Pairs = NO_PAIRS,
    need_names: tuple[str, ...] = (),
) -> MatchResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    sparse = method == "sparse" or (method is None and len(units) * len(households) > dense_limit)
    edges = candidate_edges(
        units,
        households,
        policy,
        declined=declined,
        top_k=top_k if top_k is not None else (50 if sparse else None),
        interests=interests,
    )
    timings["mask_and_score_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    priority = long_waiting(units, policy) if lexicographic else None
    assignment, used = solve(edges, priority=priority, dense_limit=dense_limit, method="sparse" if sparse else "dense")
    timings["solve_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    matched = np.flatnonzero(assignment >= 0)
    components = np.zeros((len(units), len(COMPONENTS)), dtype=np.int32)
    components[matched] = pair_components(units, households, policy, matched, assignment[matched], interests)
    scores = components.sum(axis=1, dtype=np.int64)
    lists = shortlists(edges, shortlist_k)
    eligible_units = np.zeros(len(units), dtype=bool)
    eligible_units[edges.rows] = True
    no_eligible = {
        int(i): ruled_out_by(
            units, households, int(i), declined, max_distance_km=policy.max_distance_km, need_names=need_names
        )
        for i in np.flatnonzero(~eligible_units)
    }
    not_top = _not_top(units, households, policy, assignment, scores, lists, declined, interests)
    timings["explain_seconds"] = time.perf_counter() - started

    long = long_waiting(units, policy)
    metrics = {
        "units": len(units),
        "households": len(households),
        "candidate_pairs": len(edges.rows),
        "units_eligible": int(eligible_units.sum()),
        "matched": len(matched),
        "long_waiting_units": int(long.sum()),
        "long_waiting_matched": int(long[matched].sum()),
        "sibling_groups": int((units.size > 1).sum()),
        "sibling_groups_matched": int((units.size[matched] > 1).sum()),
        "children_matched": int(units.size[matched].sum()),
        "mean_score": float(scores[matched].mean()) if len(matched) else 0.0,
        "total_score": int(scores[matched].sum()),
    }
    return MatchResult(
        assignment=assignment,
        scores=scores,
        components=components,
        shortlists=lists,
        method=used,
        metrics=metrics,
        timings=timings,
        no_eligible=no_eligible,
        not_top=not_top,
    )


def _not_top(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    assignment: np.ndarray,
    scores: np.ndarray,
    lists: list[list[tuple[int, int]]],
    declined: tuple[np.ndarray, np.ndarray] | None,
    interests: Pairs,
) -> dict[int, NotTop]:
    owner = np.full(len(households), -1, dtype=np.int64)
    matched = np.flatnonzero(assignment >= 0)
    owner[assignment[matched]] = matched
    result = {}
    for unit, shortlist in enumerate(lists):
        if not shortlist or shortlist[0][0] == assignment[unit]:
            continue
        top, top_score = shortlist[0]
        other, mine = int(owner[top]), int(assignment[unit])
        now = int(scores[unit]) + (int(scores[other]) if other >= 0 else 0)
        swapped = top_score
        if other >= 0 and mine >= 0:
            row, col = np.array([other]), np.array([mine])
            if eligibility_mask(units, households, row, declined, cols=col, max_distance_km=policy.max_distance_km)[
                0, 0
            ]:
                swapped += int(pair_scores(units, households, policy, row, col, interests)[0])
        result[unit] = NotTop(top_household=top, top_score=top_score, taken_by=other, swap_loss_points=now - swapped)
    return result


def candidates_for_unit(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    unit: int,
    *,
    k: int = 10,
    declined: tuple[np.ndarray, np.ndarray] | None = None,
    interests: Pairs = NO_PAIRS,
) -> list[tuple[int, dict[str, int]]]:
    """A live ranked shortlist for one unit: (household, components), best first."""
    row = np.array([unit])
    cols = np.flatnonzero(eligibility_mask(units, households, row, declined, max_distance_km=policy.max_distance_km)[0])
    components = pair_components(units, households, policy, np.repeat(row, len(cols)), cols, interests)
    totals = components.sum(axis=1)
    order = np.lexsort((cols, -totals))[:k]
    return [(int(cols[i]), {n: int(v) for n, v in zip(COMPONENTS, components[i], strict=True)}) for i in order]
