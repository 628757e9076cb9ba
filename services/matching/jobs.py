"""The matching service's scheduled work: the nightly national match (also run by `demo`)."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from services.core.database import create_sessionmaker
from services.matching.loader import Scope
from services.matching.service import RunRequest, execute_run, get_run, start_run
from services.matching.vocabulary import RunStatus


async def national_match(
    engine: AsyncEngine, *, today: date, lexicographic: bool = False, requested_by: str = "cli"
) -> str:
    """Run a national match as of `today` and describe it in one paragraph."""
    run, lock = await start_run(
        engine, RunRequest(scope=Scope(), lexicographic=lexicographic, policy_overrides={}), requested_by
    )
    await execute_run(engine, run, lock, today=today)
    async with create_sessionmaker(engine)() as session:
        done = await get_run(session, run.ref)
    if done.status is not RunStatus.SUCCEEDED:
        return f"National match {done.ref} failed: {done.error}"
    m, t = done.metrics, done.timings
    return (
        f"National match {done.ref} (policy v{done.policy_version}{', lexicographic' if lexicographic else ''}): "
        f"{m['units']:,} units ({m['children_matched']:,} children matched), {m['matched']:,} matched; "
        f"long-waiting (18+ months) matched {m['long_waiting_matched']:,} of {m['long_waiting_units']:,}; "
        f"sibling groups matched {m['sibling_groups_matched']:,} of {m['sibling_groups']:,}; "
        f"{t['total_seconds']:.2f} s (mask+score {t['mask_and_score_seconds']:.2f} s, "
        f"solve {t['solve_seconds']:.2f} s)."
    )
