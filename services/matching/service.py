"""Match runs, proposals and decisions: the rules around the engine.

- One run at a time across every process: a session-level PostgreSQL advisory lock is held
  for the whole run; a 'running' row left by a process that died is marked interrupted.
- The pool is read in one snapshot; scoring and solving run in a worker thread, off the
  event loop; proposals and the run's result are stored in one transaction, so a failed
  run leaves no partial proposals.
- The algorithm proposes, people decide: accepting links the unit and the household (the
  register's legal transitions apply); declining excludes the pair from later runs.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, InvalidInput, NotFound
from services.core.observability import MATCH_RUN_SECONDS, MATCH_RUN_UNITS
from services.core.refs import new_ref
from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.run import MatchResult, candidates_for_unit, propose
from services.matching.engine.scoring import COMPONENTS, pair_components
from services.matching.loader import Pool, Scope, load_pool
from services.matching.models import DeclinedPair, MatchProposal, MatchRun, ScoringPolicyVersion
from services.register.access import ensure_may_write_for
from services.register.children import repository as children
from services.register.lifecycle import HOUSEHOLD_TRANSITIONS, SIBLING_GROUP_TRANSITIONS, check_transition
from services.register.models import Household, SiblingGroup
from services.register.vocabulary import HouseholdStatus, SiblingGroupStatus

log = logging.getLogger(__name__)

RUN_LOCK_KEY = 20261122  # pg_advisory_lock key of "a match run is in progress"
SHORTLIST_LENGTH = 5


@dataclass(frozen=True)
class RunRequest:
    scope: Scope
    lexicographic: bool
    policy_overrides: dict[str, int]


# --- policies ---------------------------------------------------------------------------


async def latest_policy(session: AsyncSession) -> ScoringPolicyVersion:
    found = await session.scalar(select(ScoringPolicyVersion).order_by(ScoringPolicyVersion.version.desc()).limit(1))
    if found is None:
        raise Conflict("No scoring policy is stored; run the migrations.")
    return found


def policy_with(base: dict[str, Any], overrides: dict[str, Any]) -> ScoringPolicy:
    try:
        return ScoringPolicy.from_dict({**base, **overrides})
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"The policy is not valid: {exc}") from exc


async def new_policy_version(ctx: RequestContext, overrides: dict[str, int], note: str) -> ScoringPolicyVersion:
    latest = await latest_policy(ctx.session)
    policy = policy_with(latest.settings, overrides)
    version = ScoringPolicyVersion(
        version=latest.version + 1, settings=policy.to_dict(), note=note, created_by=ctx.principal.audit_name
    )
    ctx.session.add(version)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, "scoring_policy", str(version.version))
    return version


# --- runs -------------------------------------------------------------------------------


async def start_run(engine: AsyncEngine, request: RunRequest, requested_by: str) -> tuple[MatchRun, AsyncConnection]:
    """Take the run lock and record the run; the caller executes it with `execute_run`,
    which releases the lock. Refused with 409 while another run holds the lock."""
    lock = await engine.connect()
    try:
        got = await lock.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": RUN_LOCK_KEY})
        await lock.commit()  # the lock is the session's; the transaction need not stay open
        if not got:
            raise Conflict("A match run is in progress; try again when it has finished.")
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            # Holding the lock, any row still 'running' belongs to a process that died.
            await session.execute(
                update(MatchRun)
                .where(MatchRun.status == "running")
                .values(status="failed", error="interrupted: the process running it stopped", finished_at=func.now())
            )
            stored = await latest_policy(session)
            policy = policy_with(stored.settings, request.policy_overrides)
            run = MatchRun(
                ref=new_ref("MR"),
                status="running",
                requested_by=requested_by,
                scope={
                    "regions": [str(r) for r in request.scope.regions],
                    "agency_refs": list(request.scope.agency_refs),
                },
                lexicographic=request.lexicographic,
                policy_version=None if request.policy_overrides else stored.version,
                policy_settings=policy.to_dict(),
            )
            session.add(run)
        return run, lock
    except BaseException:
        await _release(lock)
        raise


async def _release(lock: AsyncConnection) -> None:
    try:
        await lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RUN_LOCK_KEY})
        await lock.commit()
    finally:
        await lock.close()


async def execute_run(engine: AsyncEngine, run: MatchRun, lock: AsyncConnection, *, today: date | None = None) -> None:
    """Load, compute off the event loop, store atomically; on any failure record why."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        started = datetime.now(UTC)
        async with sessions() as session, session.begin():
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            pool = await load_pool(
                session,
                today=today or date.today(),
                scope=Scope(regions=tuple(run.scope["regions"]), agency_refs=tuple(run.scope["agency_refs"])),
            )
        loaded = datetime.now(UTC)
        policy = ScoringPolicy.from_dict(run.policy_settings)
        result = await asyncio.to_thread(
            propose,
            pool.units,
            pool.households,
            policy,
            declined=pool.declined,
            lexicographic=run.lexicographic,
            shortlist_k=SHORTLIST_LENGTH,
        )
        async with sessions() as session, session.begin():
            await _store(session, run, pool, policy, result)
            stored = datetime.now(UTC)
            MATCH_RUN_SECONDS.observe((stored - started).total_seconds())
            MATCH_RUN_UNITS.observe(pool.counts["units"])
            await session.execute(
                update(MatchRun)
                .where(MatchRun.id == run.id)
                .values(
                    status="succeeded",
                    finished_at=func.now(),
                    inputs={**pool.counts, "hash": pool.fingerprint()},
                    metrics=result.metrics,
                    timings={
                        "load_seconds": (loaded - started).total_seconds(),
                        **result.timings,
                        "store_seconds": (datetime.now(UTC) - stored).total_seconds(),
                        "total_seconds": (datetime.now(UTC) - started).total_seconds(),
                    },
                )
            )
    except BaseException as exc:  # cancelled by a shutdown too: the run must not stay 'running'
        log.exception("match run %s failed", run.ref)
        async with sessions() as session, session.begin():
            await session.execute(
                update(MatchRun)
                .where(MatchRun.id == run.id)
                .values(status="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=func.now())
            )
        if not isinstance(exc, Exception):
            raise
    finally:
        await _release(lock)


async def _store(session: AsyncSession, run: MatchRun, pool: Pool, policy: ScoringPolicy, result: MatchResult) -> None:
    short_rows = np.array([i for i, s in enumerate(result.shortlists) for _ in s], dtype=np.int64)
    short_cols = np.array([j for s in result.shortlists for j, _ in s], dtype=np.int64)
    parts = pair_components(pool.units, pool.households, policy, short_rows, short_cols)
    explained: dict[tuple[int, int], dict[str, int]] = {
        (int(i), int(j)): dict(zip(COMPONENTS, map(int, row), strict=True))
        for i, j, row in zip(short_rows, short_cols, parts, strict=True)
    }
    rows = []
    for i, household in enumerate(result.assignment.tolist()):
        if household < 0 and not result.shortlists[i]:
            continue  # no eligible household at all: nothing to propose or show
        rows.append(
            {
                "ref": new_ref("MP"),
                "run_id": run.id,
                "sibling_group_id": int(pool.group_ids[i]),
                "household_id": int(pool.household_ids[household]) if household >= 0 else None,
                "score": int(result.scores[i]),
                "components": dict(zip(COMPONENTS, map(int, result.components[i]), strict=True)),
                "shortlist": [
                    {"household_ref": pool.household_refs[j], "score": score, "components": explained[(i, j)]}
                    for j, score in result.shortlists[i]
                ],
                "status": "proposed" if household >= 0 else "unmatched",
            }
        )
    if rows:
        await session.execute(insert(MatchProposal), rows)


async def get_run(session: AsyncSession, ref: str) -> MatchRun:
    run = await session.scalar(select(MatchRun).where(MatchRun.ref == ref))
    if run is None:
        raise NotFound(f"No match run {ref}.")
    return run


# --- live candidates --------------------------------------------------------------------


async def live_candidates(ctx: RequestContext, ref: str, k: int, today: date) -> tuple[SiblingGroup, int, list]:
    """A ranked, explained shortlist for one child's sibling group, computed now."""
    group = await _group_of(ctx, ref)
    stored = await latest_policy(ctx.session)
    if group.status is not SiblingGroupStatus.WAITING:
        return group, stored.version, []
    pool = await load_pool(ctx.session, today=today, group_ids=[group.id])
    if len(pool.units) == 0:
        return group, stored.version, []
    policy = ScoringPolicy.from_dict(stored.settings)
    ranked = await asyncio.to_thread(
        candidates_for_unit, pool.units, pool.households, policy, 0, k=k, declined=pool.declined
    )
    return group, stored.version, [(pool.household_refs[j], parts) for j, parts in ranked]


async def _group_of(ctx: RequestContext, ref: str) -> SiblingGroup:
    if ref.startswith("C-"):
        return (await children.get_child(ctx.session, ref)).group
    return await children.get_group(ctx.session, ref)


# --- decisions --------------------------------------------------------------------------


async def decide(ctx: RequestContext, ref: str, decision: str, reason: str) -> tuple[MatchProposal, str, str | None]:
    proposal = await ctx.session.scalar(select(MatchProposal).where(MatchProposal.ref == ref).with_for_update())
    if proposal is None:
        raise NotFound(f"No proposal {ref}.")
    if proposal.status != "proposed":
        raise Conflict(f"The proposal is {proposal.status}; only a proposed pairing can be decided.")
    group = await children.get_group_by_id(ctx.session, proposal.sibling_group_id)
    la, raa_ref = await children.group_agencies(ctx.session, group)
    ensure_may_write_for(ctx.principal, la, raa_ref)
    household = await ctx.session.scalar(
        select(Household).where(Household.id == proposal.household_id).with_for_update()
    )
    if decision == "accept":
        check_transition("sibling group", SIBLING_GROUP_TRANSITIONS, group.status, SiblingGroupStatus.LINKED)
        check_transition("household", HOUSEHOLD_TRANSITIONS, household.status, HouseholdStatus.LINKED)
        if group.status is not SiblingGroupStatus.WAITING or household.status is not HouseholdStatus.APPROVED:
            raise Conflict("The children or the household are no longer available for a new link.")
        group.status, household.status = SiblingGroupStatus.LINKED, HouseholdStatus.LINKED
        ctx.audit(AuditAction.TRANSITION, "sibling_group", group.ref)
        ctx.audit(AuditAction.TRANSITION, "household", household.ref)
    else:
        await ctx.session.execute(
            pg_insert(DeclinedPair)
            .values(
                sibling_group_id=group.id,
                household_id=household.id,
                proposal_id=proposal.id,
                reason=reason,
                declined_by=ctx.principal.audit_name,
            )
            .on_conflict_do_nothing(index_elements=["sibling_group_id", "household_id"])
        )
    proposal.status = "accepted" if decision == "accept" else "declined"
    proposal.reason, proposal.decided_by, proposal.decided_at = reason, ctx.principal.audit_name, datetime.now(UTC)
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, "match_proposal", proposal.ref)
    return proposal, group.ref, household.ref


async def list_proposals(
    session: AsyncSession, run: MatchRun, *, status: str | None, after_id: int | None, limit: int
) -> list[tuple[MatchProposal, str, str | None]]:
    query = (
        select(MatchProposal, SiblingGroup.ref, Household.ref)
        .join(SiblingGroup, MatchProposal.sibling_group_id == SiblingGroup.id)
        .outerjoin(Household, MatchProposal.household_id == Household.id)
        .where(MatchProposal.run_id == run.id)
    )
    if status:
        query = query.where(MatchProposal.status == status)
    if after_id is not None:
        query = query.where(MatchProposal.id > after_id)
    rows = await session.execute(query.order_by(MatchProposal.id).limit(limit))
    return [(p, g, h) for p, g, h in rows.all()]
