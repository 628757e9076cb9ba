"""All SQL of the matching service: its own tables (policies, runs, proposals, declined
pairs), and the SELECTs of its read-only view of the register (the pool, `loader.py`)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Exists,
    Row,
    Text,
    any_,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.types import UserDefinedType

from services.core.database import DriverStatement, Queryable, driver_statement, fetch
from services.core.errors import Conflict, NotFound
from services.matching.models import DeclinedPair, MatchingPoolChange, MatchProposal, MatchRun, ScoringPolicyVersion
from services.matching.vocabulary import ProposalStatus, RunStatus
from services.register.links.models import Link
from services.register.models import Agency, Child, ExpressionOfInterest, Household, SiblingGroup
from services.register.vocabulary import (
    ACTIVE_LINK_STATUSES,
    NEEDS,
    HouseholdStatus,
    InterestStatus,
    LinkStatus,
    Region,
    SiblingGroupStatus,
)


class _PgType(UserDefinedType[Any]):
    """A PostgreSQL type SQLAlchemy does not name, for casts only."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


XID8, PG_SNAPSHOT = _PgType("xid8"), _PgType("pg_snapshot")

RUN_LOCK_KEY = 20261122  # pg_advisory_lock key of "a match run is in progress"


@dataclass(frozen=True)
class ProposalRow:
    proposal: MatchProposal
    sibling_group_ref: str
    household_ref: str | None


# --- policies ---------------------------------------------------------------------------


async def latest_policy(session: AsyncSession) -> ScoringPolicyVersion:
    found = await session.scalar(select(ScoringPolicyVersion).order_by(ScoringPolicyVersion.version.desc()).limit(1))
    if found is None:
        raise Conflict("No scoring policy is stored; run the migrations.")
    return found


async def list_policies(session: AsyncSession) -> list[ScoringPolicyVersion]:
    return list(await session.scalars(select(ScoringPolicyVersion).order_by(ScoringPolicyVersion.version)))


# --- the run lock -----------------------------------------------------------------------


async def try_run_lock(lock: AsyncConnection) -> bool:
    """Take the session-level advisory lock on `lock`'s connection, if free."""
    got = await lock.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": RUN_LOCK_KEY})
    await lock.commit()  # the lock is the session's; the transaction need not stay open
    return bool(got)


async def release_run_lock(lock: AsyncConnection) -> None:
    await lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RUN_LOCK_KEY})
    await lock.commit()


# --- runs -------------------------------------------------------------------------------


async def mark_interrupted_runs(session: AsyncSession) -> None:
    """Holding the run lock, any row still 'running' belongs to a process that died."""
    await session.execute(
        update(MatchRun)
        .where(MatchRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.FAILED, error="interrupted: the process running it stopped", finished_at=func.now())
    )


async def finish_run(
    session: AsyncSession, run_id: int, *, inputs: dict[str, Any], metrics: dict[str, Any], timings: dict[str, Any]
) -> None:
    await session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id)
        .values(status=RunStatus.SUCCEEDED, finished_at=func.now(), inputs=inputs, metrics=metrics, timings=timings)
    )


async def fail_run(session: AsyncSession, run_id: int, error: str) -> None:
    await session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id)
        .values(status=RunStatus.FAILED, error=error[:500], finished_at=func.now())
    )


async def list_runs(
    session: AsyncSession, *, status: RunStatus | None, before_id: int | None, limit: int
) -> list[MatchRun]:
    """Newest first."""
    query = select(MatchRun)
    if status:
        query = query.where(MatchRun.status == status)
    if before_id is not None:
        query = query.where(MatchRun.id < before_id)
    return list(await session.scalars(query.order_by(MatchRun.id.desc()).limit(limit)))


async def get_run(session: AsyncSession, ref: str) -> MatchRun:
    run = await session.scalar(select(MatchRun).where(MatchRun.ref == ref))
    if run is None:
        raise NotFound(f"No match run {ref}.")
    return run


# --- proposals --------------------------------------------------------------------------


# A run's proposals in ONE statement: each column sent as one array and zipped back into
# rows by unnest, so a national run (~2,000 rows, three JSON documents each) is one round
# trip with no per-row parameter processing (executemany took 0.15-0.18 s of a ~1 s run).
_PROPOSAL_ARRAYS = {
    "ref": "text[]",
    "run_id": "bigint[]",
    "sibling_group_id": "bigint[]",
    "household_id": "bigint[]",
    "score": "integer[]",
    "components": "jsonb[]",
    "shortlist": "jsonb[]",
    "status": "text[]",
    "no_eligible_household": "jsonb[]",
    "not_top": "jsonb[]",
}
_INSERT_PROPOSALS = text(
    f"INSERT INTO {MatchProposal.__tablename__} ({', '.join(_PROPOSAL_ARRAYS)}) SELECT * FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind})" for name, kind in _PROPOSAL_ARRAYS.items())
    + ")"
)
_JSON_COLUMNS = frozenset(name for name, kind in _PROPOSAL_ARRAYS.items() if kind == "jsonb[]")


def _column(rows: list[dict[str, Any]], name: str) -> list[Any]:
    if name in _JSON_COLUMNS:
        return [None if r[name] is None else orjson.dumps(r[name]).decode() for r in rows]
    if name == "status":
        return [ProposalStatus(r[name]).value for r in rows]
    return [r[name] for r in rows]


async def insert_proposals(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Rows of `_PROPOSAL_ARRAYS`' columns."""
    if rows:
        await session.execute(_INSERT_PROPOSALS, {name: _column(rows, name) for name in _PROPOSAL_ARRAYS})


async def proposal_for_update(session: AsyncSession, ref: str) -> MatchProposal:
    proposal = await session.scalar(select(MatchProposal).where(MatchProposal.ref == ref).with_for_update())
    if proposal is None:
        raise NotFound(f"No proposal {ref}.")
    return proposal


async def proposal_row(session: AsyncSession, proposal: MatchProposal) -> ProposalRow:
    group_ref = await session.scalar(select(SiblingGroup.ref).where(SiblingGroup.id == proposal.sibling_group_id))
    household_ref = (
        await session.scalar(select(Household.ref).where(Household.id == proposal.household_id))
        if proposal.household_id is not None
        else None
    )
    assert group_ref is not None  # a foreign key
    return ProposalRow(proposal, group_ref, household_ref)


async def record_decision(
    session: AsyncSession, proposal: MatchProposal, status: ProposalStatus, reason: str, decided_by: str
) -> None:
    proposal.status = status
    proposal.reason, proposal.decided_by, proposal.decided_at = reason, decided_by, datetime.now(UTC)
    await session.flush()


async def add_declined_pair(session: AsyncSession, proposal: MatchProposal, reason: str, declined_by: str) -> None:
    """Later runs never propose this pair again (once is enough: a repeat is ignored)."""
    await session.execute(
        pg_insert(DeclinedPair)
        .values(
            sibling_group_id=proposal.sibling_group_id,
            household_id=proposal.household_id,
            proposal_id=proposal.id,
            reason=reason,
            declined_by=declined_by,
        )
        .on_conflict_do_nothing(index_elements=["sibling_group_id", "household_id"])
    )


@dataclass(frozen=True)
class ProposalFilters:
    status: ProposalStatus | None = None
    sibling_group_ref: str | None = None
    household_ref: str | None = None
    # Proposals for this agency's children or its households (an RAA: and its LAs').
    agency_ids: tuple[int, ...] | None = None


# A proposal page's columns: its JSON documents come as text, sent on as they are stored.
PROPOSAL_COLUMNS = (
    MatchProposal.id,
    MatchProposal.ref,
    SiblingGroup.ref.label("sibling_group_ref"),
    Household.ref.label("household_ref"),
    MatchProposal.score,
    cast(MatchProposal.components, Text).label("components"),
    cast(MatchProposal.shortlist, Text).label("shortlist"),
    MatchProposal.status,
    MatchProposal.reason,
    MatchProposal.decided_by,
    MatchProposal.decided_at,
    cast(MatchProposal.no_eligible_household, Text).label("no_eligible_household"),
    cast(MatchProposal.not_top, Text).label("not_top"),
)


@lru_cache(maxsize=64)
def _proposals_statement(present: tuple[str, ...]) -> DriverStatement:
    """The page query for one combination of filters, compiled once; values are parameters.
    The run is found by its ref in the same statement."""
    run_id = select(MatchRun.id).where(MatchRun.ref == bindparam("run_ref")).scalar_subquery()
    query = (
        select(*PROPOSAL_COLUMNS)
        .join(SiblingGroup, MatchProposal.sibling_group_id == SiblingGroup.id)
        .outerjoin(Household, MatchProposal.household_id == Household.id)
        .where(MatchProposal.run_id == run_id)
    )
    conditions = {
        "status": lambda: MatchProposal.status == bindparam("status", type_=MatchProposal.status.type),
        "sibling_group_ref": lambda: SiblingGroup.ref == bindparam("sibling_group_ref"),
        "household_ref": lambda: Household.ref == bindparam("household_ref"),
        "agency_ids": lambda: or_(
            SiblingGroup.la_id == any_(bindparam("agency_ids", type_=ARRAY(SiblingGroup.la_id.type))),
            Household.approving_agency_id == any_(bindparam("agency_ids", type_=ARRAY(SiblingGroup.la_id.type))),
        ),
        "after_id": lambda: MatchProposal.id > bindparam("after_id"),
    }
    for name in present:
        query = query.where(conditions[name]())
    return driver_statement(query.order_by(MatchProposal.id).limit(bindparam("limit")))


async def list_proposals(
    db: Queryable, run_ref: str, filters: ProposalFilters, *, after_id: int | None, limit: int
) -> list[Any]:
    """A page of the run's proposals (PROPOSAL_COLUMNS); empty for an unknown run too."""
    values: dict[str, Any] = {
        "status": filters.status,
        "sibling_group_ref": filters.sibling_group_ref,
        "household_ref": filters.household_ref,
        "agency_ids": list(filters.agency_ids) if filters.agency_ids is not None else None,
        "after_id": after_id,
    }
    params = {name: value for name, value in values.items() if value is not None and value != ""}
    return await fetch(db, _proposals_statement(tuple(params)), {**params, "run_ref": run_ref, "limit": limit})


# --- the pool: read-only queries over the register --------------------------------------

LA = aliased(Agency, name="la")
RAA = aliased(Agency, name="raa")


def in_active_link(column: InstrumentedAttribute[int], key: InstrumentedAttribute[int]) -> Exists:
    """Units and households in an active link are out of the pool."""
    return exists().where(column == key, Link.status.in_(ACTIVE_LINK_STATUSES))


async def pool_groups(
    session: AsyncSession, *, regions: tuple[Region, ...], agency_refs: tuple[str, ...], group_ids: list[int] | None
) -> list[tuple[int, str]]:
    """(id, ref) of the waiting groups in scope that are in no active link (or exactly
    `group_ids`, for one child's live candidates), in id order."""
    if group_ids is not None:
        query = select(SiblingGroup.id, SiblingGroup.ref).where(SiblingGroup.id.in_(group_ids))
    else:
        query = (
            select(SiblingGroup.id, SiblingGroup.ref)
            .join(LA, SiblingGroup.la_id == LA.id)
            .join(RAA, LA.parent_raa_id == RAA.id)
            .where(SiblingGroup.status == SiblingGroupStatus.WAITING)
            .where(~in_active_link(Link.sibling_group_id, SiblingGroup.id))
        )
        if regions:
            query = query.where(LA.region.in_(regions))
        if agency_refs:
            query = query.where(LA.ref.in_(agency_refs) | RAA.ref.in_(agency_refs))
    return [(gid, ref) for gid, ref in (await session.execute(query.order_by(SiblingGroup.id))).all()]


# What the engine reads of a child and of a household (loader.child_record and
# household_record): never a name, never the case notes or applicants' names.
POOL_CHILD_COLUMNS = (
    Child.id,
    Child.sibling_group_id,
    Child.date_of_birth,
    Child.waiting_since,
    *(getattr(Child, f"need_{need}") for need in NEEDS),
    Child.ethnicity,
    Child.religion,
    Child.languages,
    Child.latitude,
    Child.longitude,
    Child.contact_plan,
    Child.excluded_regions,
    Child.birth_family_latitude,
    Child.birth_family_longitude,
    Child.min_distance_km,
)
POOL_HOUSEHOLD_COLUMNS = (
    Household.id,
    Household.ref,
    Household.approved_children,
    Household.age_min_years,
    Household.age_max_years,
    *(getattr(Household, f"need_{need}") for need in NEEDS),
    Household.accepts_sibling_group,
    Household.region,
    Household.latitude,
    Household.longitude,
    Household.ethnicity,
    Household.religion,
    Household.languages,
    Household.contact_openness,
)


async def pool_children(db: Queryable, group_ids: list[int]) -> list[Any]:
    """POOL_CHILD_COLUMNS of the groups' children, by group then id (asyncpg Records)."""
    return await fetch(db, _POOL_CHILDREN, {"group_ids": group_ids})


# Compiled once; the ids one array parameter (= ANY), so one prepared statement serves a
# single group and the national run's thousands alike.
_POOL_CHILDREN = driver_statement(
    select(*POOL_CHILD_COLUMNS)
    .where(Child.sibling_group_id == any_(bindparam("group_ids", type_=ARRAY(BigInteger))))
    .order_by(Child.sibling_group_id, Child.id)
)


async def pool_households(
    session: AsyncSession, *, regions: tuple[Region, ...], agency_refs: tuple[str, ...]
) -> list[Row[Any]]:
    """POOL_HOUSEHOLD_COLUMNS of the approved households in scope that are in no active
    link, in id order."""
    query = (
        select(*POOL_HOUSEHOLD_COLUMNS)
        .join(Agency, Household.approving_agency_id == Agency.id)
        .where(Household.status == HouseholdStatus.APPROVED, ~in_active_link(Link.household_id, Household.id))
    )
    if regions:
        query = query.where(Household.region.in_(regions))
    if agency_refs:
        query = query.where(Agency.ref.in_(agency_refs))
    return list((await session.execute(query.order_by(Household.id))).all())


async def never_again_pairs(session: AsyncSession) -> list[tuple[int, int]]:
    """(group id, household id): declined by a family finder or refused by a household's agency."""
    declined = await session.execute(select(DeclinedPair.sibling_group_id, DeclinedPair.household_id))
    refused = await session.execute(
        select(Link.sibling_group_id, Link.household_id).where(Link.status == LinkStatus.REFUSED)
    )
    return [(g, h) for g, h in [*declined.all(), *refused.all()]]


async def interest_pairs(session: AsyncSession) -> list[tuple[int, int]]:
    """(group id, household id) where the household's interest is open or was answered yes."""
    rows = await session.execute(
        select(ExpressionOfInterest.sibling_group_id, ExpressionOfInterest.household_id).where(
            ExpressionOfInterest.status.in_((InterestStatus.OPEN, InterestStatus.ACCEPTED))
        )
    )
    return [(g, h) for g, h in rows.all()]


# --- live candidates: one unit against the households kept in memory ----------------------


@dataclass(frozen=True)
class CandidateContext:
    group_id: int
    group_ref: str
    status: SiblingGroupStatus
    policy_version: int | None
    policy_settings: dict[str, Any] | None
    stale: bool  # the households kept in memory missed a change (or there are none)


def _latest_policy_column(column: InstrumentedAttribute[Any]) -> Any:
    return select(column).order_by(ScoringPolicyVersion.version.desc()).limit(1).scalar_subquery()


def _changed_since(snapshot: Any) -> Any:
    """A transaction the snapshot did not see has changed the pool (migration 0013)."""
    return exists().where(
        MatchingPoolChange.xid >= cast(func.pg_snapshot_xmin(snapshot), Text).cast(BigInteger),
        ~func.pg_visible_in_snapshot(cast(cast(MatchingPoolChange.xid, Text), XID8), snapshot),
    )


@lru_cache(maxsize=2)
def _candidate_context_statement(by_child: bool) -> DriverStatement:
    snapshot = cast(bindparam("snapshot", type_=Text), PG_SNAPSHOT)
    group_id = (
        select(Child.sibling_group_id).where(Child.ref == bindparam("ref")).scalar_subquery()
        if by_child
        else select(SiblingGroup.id).where(SiblingGroup.ref == bindparam("ref")).scalar_subquery()
    )
    return driver_statement(
        select(
            SiblingGroup.id,
            SiblingGroup.ref,
            SiblingGroup.status,
            _latest_policy_column(ScoringPolicyVersion.version).label("policy_version"),
            _latest_policy_column(ScoringPolicyVersion.settings).label("policy_settings"),
            _changed_since(snapshot).label("stale"),
        ).where(SiblingGroup.id == group_id)
    )


async def candidate_context(db: Queryable, ref: str, *, snapshot: str | None) -> CandidateContext | None:
    """In one statement: the sibling group of a child ref ("C-...") or a group ref, the
    latest scoring policy, and whether the pool changed since `snapshot` (None: not loaded)."""
    statement = _candidate_context_statement(ref.startswith("C-"))
    rows = await fetch(db, statement, {"ref": ref, "snapshot": snapshot})
    if not rows:
        return None
    group_id, group_ref, status, policy_version, policy_settings, stale = rows[0]
    return CandidateContext(
        group_id=group_id,
        group_ref=group_ref,
        status=SiblingGroupStatus(status),
        policy_version=policy_version,
        policy_settings=policy_settings,
        stale=snapshot is None or bool(stale),
    )


async def current_snapshot(session: AsyncSession) -> str:
    """The snapshot of the session's next statement, as text (see live_pool)."""
    return str(await session.scalar(select(cast(func.pg_current_snapshot(), Text))))
