"""Match runs, proposals and decisions: the rules around the engine.

- One run at a time across every process: a session-level PostgreSQL advisory lock is held
  for the whole run; a 'running' row left by a process that died is marked interrupted.
- The pool is read in one snapshot; scoring and solving run in a worker thread, off the
  event loop; proposals and the run's result are stored in one transaction, so a failed
  run leaves no partial proposals.
- The algorithm proposes, people decide: accepting hands the pairing to the register's link
  service (matching never writes register tables); declining excludes the pair from later
  runs.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.database import create_sessionmaker, transaction
from services.core.errors import Conflict, InvalidInput, NotFound
from services.core.refs import new_ref
from services.matching import repository
from services.matching.engine.arrays import Pairs
from services.matching.engine.eligibility import ruled_out_by
from services.matching.engine.encode import units_from_children
from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.run import MatchResult, candidates_for_unit, propose
from services.matching.engine.scoring import COMPONENTS, pair_components
from services.matching.live_pool import LivePool
from services.matching.loader import Pool, child_record, load_pool
from services.matching.loader import Scope as PoolScope
from services.matching.metrics import MATCH_RUN_SECONDS, MATCH_RUN_UNITS
from services.matching.models import MatchRun, ScoringPolicyVersion
from services.matching.repository import ProposalRow
from services.matching.vocabulary import Decision, ProposalStatus, RunStatus
from services.register.audit.resources import AuditResource
from services.register.children import repository as children
from services.register.events import service as events
from services.register.events.vocabulary import EventKind
from services.register.links import service as links
from services.register.vocabulary import NEEDS, SiblingGroupStatus

log = logging.getLogger(__name__)

SHORTLIST_LENGTH = 5


@dataclass(frozen=True)
class RunRequest:
    scope: PoolScope
    lexicographic: bool
    policy_overrides: dict[str, int]


# --- policies ---------------------------------------------------------------------------


def policy_with(base: dict[str, Any], overrides: dict[str, Any]) -> ScoringPolicy:
    try:
        return ScoringPolicy.from_dict({**base, **overrides})
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"The policy is not valid: {exc}") from exc


async def new_policy_version(ctx: RequestContext, overrides: dict[str, int], note: str) -> ScoringPolicyVersion:
    latest = await repository.latest_policy(ctx.session)
    policy = policy_with(latest.settings, overrides)
    version = ScoringPolicyVersion(
        version=latest.version + 1, settings=policy.to_dict(), note=note, created_by=ctx.principal.audit_name
    )
    ctx.session.add(version)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.SCORING_POLICY, str(version.version))
    return version


# --- runs -------------------------------------------------------------------------------


async def start_run(engine: AsyncEngine, request: RunRequest, requested_by: str) -> tuple[MatchRun, AsyncConnection]:
    """Take the run lock and record the run; the caller executes it with `execute_run`,
    which releases the lock. Refused with 409 while another run holds the lock."""
    lock = await engine.connect()
    try:
        if not await repository.try_run_lock(lock):
            raise Conflict("A match run is in progress; try again when it has finished.")
        ref = new_ref("MR")
        async with transaction(create_sessionmaker(engine), principal=requested_by, request_id=ref) as session:
            await repository.mark_interrupted_runs(session)
            stored = await repository.latest_policy(session)
            policy = policy_with(stored.settings, request.policy_overrides)
            run = MatchRun(
                ref=ref,
                status=RunStatus.RUNNING,
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
        await repository.release_run_lock(lock)
    finally:
        await lock.close()


async def execute_run(engine: AsyncEngine, run: MatchRun, lock: AsyncConnection, *, today: date) -> None:
    """Load, compute off the event loop, store atomically; on any failure record why."""
    sessions = create_sessionmaker(engine)
    try:
        started = datetime.now(UTC)
        async with transaction(sessions, principal=run.requested_by, request_id=run.ref, snapshot=True) as session:
            pool = await load_pool(
                session,
                today=today,
                scope=PoolScope(regions=tuple(run.scope["regions"]), agency_refs=tuple(run.scope["agency_refs"])),
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
            interests=pool.interests,
            need_names=NEEDS,
        )
        async with transaction(sessions, principal=run.requested_by, request_id=run.ref) as session:
            rows = _proposal_rows(run, pool, policy, result)
            await repository.insert_proposals(session, rows)
            await _tell_childrens_agencies(session, run, rows)
            stored = datetime.now(UTC)
            MATCH_RUN_SECONDS.observe((stored - started).total_seconds())
            MATCH_RUN_UNITS.observe(pool.counts["units"])
            await repository.finish_run(
                session,
                run.id,
                inputs={**pool.counts, "hash": pool.fingerprint()},
                metrics=result.metrics,
                timings={
                    "load_seconds": (loaded - started).total_seconds(),
                    **result.timings,
                    "store_seconds": (datetime.now(UTC) - stored).total_seconds(),
                    "total_seconds": (datetime.now(UTC) - started).total_seconds(),
                },
            )
    except BaseException as exc:  # cancelled by a shutdown too: the run must not stay 'running'
        log.exception("match run %s failed", run.ref)
        async with transaction(sessions, principal=run.requested_by, request_id=run.ref) as session:
            await repository.fail_run(session, run.id, f"{type(exc).__name__}: {exc}")
        if not isinstance(exc, Exception):
            raise
    finally:
        await _release(lock)


def _proposal_rows(run: MatchRun, pool: Pool, policy: ScoringPolicy, result: MatchResult) -> list[dict[str, Any]]:
    short_rows = np.array([i for i, s in enumerate(result.shortlists) for _ in s], dtype=np.int64)
    short_cols = np.array([j for s in result.shortlists for j, _ in s], dtype=np.int64)
    parts = pair_components(pool.units, pool.households, policy, short_rows, short_cols, pool.interests)
    explained: dict[tuple[int, int], dict[str, int]] = {
        (int(i), int(j)): dict(zip(COMPONENTS, map(int, row), strict=True))
        for i, j, row in zip(short_rows, short_cols, parts, strict=True)
    }
    rows = []
    for i, household in enumerate(result.assignment.tolist()):
        not_top = result.not_top.get(i)
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
                "status": ProposalStatus.PROPOSED if household >= 0 else ProposalStatus.UNMATCHED,
                # A unit no household can take is stored too, with how many each rule rules out.
                "no_eligible_household": result.no_eligible.get(i),
                "not_top": None
                if not_top is None
                else {
                    "top_household_ref": pool.household_refs[not_top.top_household],
                    "top_score": not_top.top_score,
                    "proposed_for_sibling_group_ref": pool.group_refs[not_top.taken_by]
                    if not_top.taken_by >= 0
                    else None,
                    "swap_loss_points": not_top.swap_loss_points,
                },
            }
        )
    return rows


async def _tell_childrens_agencies(session: AsyncSession, run: MatchRun, rows: list[dict[str, Any]]) -> None:
    """Each child's agency learns of its proposal (an event, in the run's transaction)."""
    proposed = [r for r in rows if r["status"] is ProposalStatus.PROPOSED]
    agency_of = await children.la_ids_of_groups(session, [r["sibling_group_id"] for r in proposed])
    await events.emit_many(
        session,
        [
            events.NewEvent(
                agency_id=agency_of[r["sibling_group_id"]],
                kind=EventKind.PROPOSAL_RECEIVED,
                subject_type="match_proposal",
                subject_ref=r["ref"],
                data={"run_ref": run.ref, "score": r["score"]},
            )
            for r in proposed
        ],
    )


async def get_run(session: AsyncSession, ref: str) -> MatchRun:
    return await repository.get_run(session, ref)


# --- live candidates --------------------------------------------------------------------


async def live_candidates(
    ctx: RequestContext, live: LivePool, ref: str, k: int, today: date
) -> tuple[repository.CandidateContext, int, list[tuple[str, dict[str, int]]], dict[str, int] | None]:
    """A ranked, explained shortlist for one child's sibling group, computed now: the unit
    read from the register, the households from the process's `LivePool` (read again first
    if the register changed since, the caller's own writes included)."""
    asked_at = time.monotonic()
    async with ctx.connection() as connection:
        found = await repository.candidate_context(connection, ref, snapshot=live.snapshot)
        waiting = found is not None and found.status is SiblingGroupStatus.WAITING
        rows = await repository.pool_children(connection, [found.group_id]) if found is not None and waiting else []
    if found is None:
        raise NotFound(f"No child {ref}." if ref.startswith("C-") else f"No sibling group {ref}.")
    if found.policy_version is None or found.policy_settings is None:
        raise Conflict("No scoring policy is stored; run the migrations.")
    if not waiting:
        return found, found.policy_version, [], None
    children = [child_record(c) for c in rows]
    if not children:  # an empty group is never matched
        return found, found.policy_version, [], None
    side = await live.households(ctx.session, stale=found.stale, asked_at=asked_at)
    languages, households = side.encoded(children)
    units = units_from_children([children], today, languages)
    policy = ScoringPolicy.from_dict(found.policy_settings)

    def pairs(by_group: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        cols = by_group.get(found.group_id, np.empty(0, dtype=np.int64))
        return np.zeros(len(cols), dtype=np.int64), cols

    declined = pairs(side.declined)
    ranked = candidates_for_unit(
        units, households, policy, 0, k=k, declined=declined, interests=Pairs(*pairs(side.interests))
    )
    if not ranked:
        reasons = ruled_out_by(units, households, 0, declined, max_distance_km=policy.max_distance_km, need_names=NEEDS)
        return found, found.policy_version, [], reasons
    return found, found.policy_version, [(side.refs[j], parts) for j, parts in ranked], None


# --- decisions --------------------------------------------------------------------------


async def decide(
    ctx: RequestContext, ref: str, decision: Decision, reason: str, *, on: date, today: date
) -> tuple[ProposalRow, str | None]:
    """Accept: the register asks the household's agency for a link (returned); decline: the
    pair is excluded from later runs."""
    proposal = await repository.proposal_for_update(ctx.session, ref)
    if proposal.status is not ProposalStatus.PROPOSED or proposal.household_id is None:
        raise Conflict(f"The proposal is {proposal.status}; only a proposed pairing can be decided.")
    link_ref = None
    if decision is Decision.ACCEPT:
        link_ref = await links.request_from_proposal(
            ctx,
            sibling_group_id=proposal.sibling_group_id,
            household_id=proposal.household_id,
            proposal_ref=proposal.ref,
            on=on,
            today=today,
        )
        await repository.record_decision(
            ctx.session, proposal, ProposalStatus.ACCEPTED, reason, ctx.principal.audit_name
        )
    else:
        if len(reason) < 3:
            raise InvalidInput(
                "A decline needs a reason.",
                extra={"errors": [{"field": "body.reason", "message": "required when declining", "code": "missing"}]},
            )
        await links.ensure_child_side(ctx, proposal.sibling_group_id)
        await repository.add_declined_pair(ctx.session, proposal, reason, ctx.principal.audit_name)
        await repository.record_decision(
            ctx.session, proposal, ProposalStatus.DECLINED, reason, ctx.principal.audit_name
        )
    ctx.audit(AuditAction.TRANSITION, AuditResource.MATCH_PROPOSAL, proposal.ref)
    return await repository.proposal_row(ctx.session, proposal), link_ref
