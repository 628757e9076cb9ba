"""Matching at national scale, with figures (not a pass/fail test).

England: the synthetic national register (2,940 children, 1,420 households) in a scratch
database; times the engine (mask + score + solve, best of 3), a whole run (load from the
database, compute, store the proposals), and, in the same process, a naive baseline
(per-pair Python: the hard rules pair by pair and one `explain` per eligible pair, then
the same dense solve) with the ratio.

US scale (--us): 100,000 children in about 68,000 units and 50,000 households spread over
the continental United States, random but with English proportions, with a 250 km cap on
the distance for introductions, through the sparse path (each unit's 50 best candidates);
prints seconds and peak memory.

    python -m benchmarks.matching [--us] [--baseline-units N]
"""

import argparse
import asyncio
import resource
import time

import numpy as np

from benchmarks.seeded_database import seeded_database
from services.core.database import create_sessionmaker
from services.matching.engine.eligibility import haversine_km
from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.random_pool import US_LAT, US_LON, random_households, random_units
from services.matching.engine.run import propose
from services.matching.engine.scoring import explain
from services.matching.engine.solver import Edges, solve
from services.matching.jobs import national_match
from services.matching.loader import load_pool

POLICY = ScoringPolicy()


def best_of(times: int, work):
    best, result = float("inf"), None
    for _ in range(times):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def naive_edges(units, households, n_units: int) -> Edges:
    """The baseline: every pair in plain Python, scored one by one."""
    rows, cols, scores = [], [], []
    for i in range(n_units):
        for j in range(len(households)):
            if not (units.available[i] and households.available[j]) or units.size[i] > households.capacity[j]:
                continue
            if units.size[i] > 1 and not households.accepts_siblings[j]:
                continue
            if (
                units.age_min_months[i] < households.age_min_months[j]
                or units.age_max_months[i] > households.age_max_months[j]
            ):
                continue
            if any(units.needs[i, k] > households.can_meet[j, k] for k in range(8)):
                continue
            if units.excluded_regions[i, households.region[j]]:
                continue
            if units.contact_plan[i] > households.contact_openness[j]:
                continue
            if any(
                units.min_distance_km[i, c] > 0
                and haversine_km(
                    units.birth_latitude[i, c],
                    units.birth_longitude[i, c],
                    households.latitude[j],
                    households.longitude[j],
                )
                < units.min_distance_km[i, c]
                for c in range(units.min_distance_km.shape[1])
            ):
                continue
            rows.append(i)
            cols.append(j)
            scores.append(sum(explain(units, households, POLICY, i, j).values()))
    return Edges(
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(scores, dtype=np.int64),
        n_units,
        len(households),
    )


async def england(baseline_units: int | None) -> None:
    _, engine = await seeded_database()
    async with create_sessionmaker(engine)() as session:
        started = time.perf_counter()
        from datetime import date

        pool = await load_pool(session, today=date.today())
        load_seconds = time.perf_counter() - started
    units, households = pool.units, pool.households
    print(
        f"England pool: {len(units):,} units ({int(units.size.sum()):,} children), {len(households):,} households; "
        f"loaded from PostgreSQL in {load_seconds:.2f} s"
    )
    seconds, result = best_of(3, lambda: propose(units, households, POLICY, declined=pool.declined))
    print(
        f"engine, mask + score + solve + shortlists (best of 3): {seconds:.3f} s "
        f"[mask+score {result.timings['mask_and_score_seconds']:.3f} s, solve {result.timings['solve_seconds']:.3f} s, "
        f"explain {result.timings['explain_seconds']:.3f} s; {result.method}; "
        f"{result.metrics['candidate_pairs']:,} eligible pairs]"
    )
    lex_seconds, lex = best_of(
        3, lambda: propose(units, households, POLICY, declined=pool.declined, lexicographic=True)
    )
    print(
        f"engine, lexicographic mode: {lex_seconds:.3f} s; long-waiting matched "
        f"{lex.metrics['long_waiting_matched']} vs {result.metrics['long_waiting_matched']} with points alone "
        f"(of {result.metrics['long_waiting_units']})"
    )
    whole = []
    for _ in range(3):
        started = time.perf_counter()
        summary = await national_match(engine, today=date.today(), requested_by="benchmark")
        whole.append(time.perf_counter() - started)
    print(f"whole run, load + compute + store (best of 3): {min(whole):.2f} s\n  {summary}")

    n = baseline_units or len(units)
    started = time.perf_counter()
    edges = naive_edges(units, households, n)
    naive_seconds = time.perf_counter() - started
    scale = len(units) / n
    solve_seconds, _ = best_of(
        1, lambda: solve(Edges(edges.rows, edges.cols, edges.scores, len(units), len(households)), method="dense")
    )
    baseline = naive_seconds * scale + solve_seconds
    note = f" (per-pair part measured on {n} units and scaled x{scale:.1f})" if n < len(units) else ""
    print(f"naive baseline, per-pair Python + dense solve: {baseline:.1f} s{note}")
    print(f"ratio: the engine is x{baseline / seconds:,.0f} faster than the baseline")
    await engine.dispose()


US_MAX_DISTANCE_KM = 250  # introductions within a day's reach; England's runs set no cap


def us_scale() -> None:
    rng = np.random.default_rng(2026)
    units = random_units(rng, 68_000, (US_LAT, US_LON))
    households = random_households(rng, 50_000, (US_LAT, US_LON))
    policy = ScoringPolicy(max_distance_km=US_MAX_DISTANCE_KM)
    started = time.perf_counter()
    result = propose(units, households, policy, shortlist_k=5)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"US scale (max {US_MAX_DISTANCE_KM} km for introductions, each unit's 50 best candidates): "
        f"{len(units):,} units ({int(units.size.sum()):,} children) x {len(households):,} households, "
        f"{result.method} path: {seconds:.1f} s [mask+score {result.timings['mask_and_score_seconds']:.1f} s, "
        f"solve {result.timings['solve_seconds']:.1f} s], {result.metrics['candidate_pairs']:,} candidate edges, "
        f"{result.metrics['matched']:,} matched; peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--us", action="store_true", help="also run the US-scale sparse benchmark")
    parser.add_argument(
        "--baseline-units",
        type=int,
        default=None,
        help="time the naive baseline on this many units and scale up (default: all)",
    )
    args = parser.parse_args()
    asyncio.run(england(args.baseline_units))
    if args.us:
        us_scale()
