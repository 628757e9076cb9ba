"""HTTP for matching: runs, proposals, live candidates, decisions and scoring policies."""

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from services.core.audit import AuditAction
from services.core.clock import Today
from services.core.database import create_sessionmaker
from services.core.errors import ERROR_RESPONSES
from services.core.http import DEFAULT_PAGE_SIZE, Page, PageCursor, PageLimit, PagingParams, paging_of
from services.matching import repository, service
from services.matching.live_pool import LivePool
from services.matching.loader import Scope as PoolScope
from services.matching.models import MatchRun
from services.matching.repository import ProposalRow
from services.matching.schemas import (
    Candidate,
    CandidatesRead,
    DecisionCreate,
    PolicyCreate,
    PolicyRead,
    ProposalRead,
    RunCreate,
    RunRead,
)
from services.matching.vocabulary import ProposalStatus, RunStatus
from services.permissions import MatchingReader, MatchingRunner, PolicyAdmin
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource

router = APIRouter(prefix="/v1/matching", tags=["matching"], responses=ERROR_RESPONSES)


def run_read(run: MatchRun) -> RunRead:
    return RunRead.model_validate(run, from_attributes=True)


def proposal_read(row: ProposalRow) -> ProposalRead:
    p = row.proposal
    return ProposalRead(
        ref=p.ref,
        sibling_group_ref=row.sibling_group_ref,
        household_ref=row.household_ref,
        score=p.score,
        components=p.components,
        shortlist=p.shortlist,
        status=p.status,
        reason=p.reason,
        decided_by=p.decided_by,
        decided_at=p.decided_at,
        no_eligible_household=p.no_eligible_household,
        not_top=p.not_top,
    )


def live_pool(request: Request) -> LivePool:
    """The process's in-memory households for live candidates (made on first use)."""
    pool = getattr(request.app.state, "matching_live_pool", None)
    if pool is None:
        pool = request.app.state.matching_live_pool = LivePool()
    return pool


def _stored_json(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text)


def proposal_item(row: Any) -> dict[str, Any]:
    """ProposalRead's fields from `repository.PROPOSAL_COLUMNS`; the stored JSON documents
    (components, shortlist, no_eligible_household, not_top) are sent as stored."""
    return {
        "ref": row["ref"],
        "sibling_group_ref": row["sibling_group_ref"],
        "household_ref": row["household_ref"],
        "score": row["score"],
        "components": _stored_json(row["components"]),
        "shortlist": _stored_json(row["shortlist"]),
        "status": row["status"],
        "reason": row["reason"],
        "decided_by": row["decided_by"],
        "decided_at": row["decided_at"],
        "link_ref": None,
        "no_eligible_household": _stored_json(row["no_eligible_household"]),
        "not_top": _stored_json(row["not_top"]),
    }


@router.post(
    "/runs",
    response_model=RunRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": RunRead, "description": "With wait=true: the finished run"}},
)
async def start_run(
    ctx: MatchingRunner,
    body: RunCreate,
    request: Request,
    response: Response,
    today: Today,
    wait: Annotated[bool, Query(description="Answer when the run has finished")] = False,
) -> RunRead:
    """Start a national (or scoped, or what-if) run. One run at a time: 409 while another runs."""
    engine = request.app.state.engine
    run_request = service.RunRequest(
        scope=PoolScope(regions=tuple(body.regions), agency_refs=tuple(body.agency_refs)),
        lexicographic=body.lexicographic,
        policy_overrides=body.policy_overrides.changes(),
    )
    run, lock = await service.start_run(engine, run_request, ctx.principal.audit_name)
    ctx.audit(AuditAction.CREATE, AuditResource.MATCH_RUN, run.ref)
    task = asyncio.create_task(service.execute_run(engine, run, lock, today=today))
    request.app.state.background_tasks.add(task)
    task.add_done_callback(request.app.state.background_tasks.discard)
    response.headers["Location"] = f"/v1/matching/runs/{run.ref}"
    if wait:
        await asyncio.shield(task)
        response.status_code = status.HTTP_200_OK
        # The run committed in its own transactions; this request's one began before them.
        async with create_sessionmaker(engine)() as session:
            return run_read(await service.get_run(session, run.ref))
    return run_read(run)


@router.get("/runs", response_model=Page[RunRead])
async def list_runs(
    ctx: MatchingReader,
    paging: PagingParams,
    status_filter: Annotated[RunStatus | None, Query(alias="status")] = None,
) -> Page[RunRead]:
    """Newest first."""
    before = paging.after(int)
    rows = await repository.list_runs(
        ctx.session, status=status_filter, before_id=before[0] if before else None, limit=paging.fetch
    )
    return paging.page(rows, key=lambda run: [run.id], item=run_read)


@router.get("/runs/{ref}", response_model=RunRead)
async def get_run(ctx: MatchingReader, ref: str) -> RunRead:
    return run_read(await service.get_run(ctx.session, ref))


class ProposalListQuery(BaseModel):
    """A proposal page's filters and page as one query-parameter model (one dependency node,
    one validation), each field a query parameter documented as before."""

    status: ProposalStatus | None = None
    sibling_group_ref: Annotated[str | None, Field(max_length=32)] = None
    household_ref: Annotated[str | None, Field(max_length=32)] = None
    agency_ref: Annotated[
        str | None, Field(max_length=32, description="Proposals for this agency's children or households")
    ] = None
    cursor: PageCursor = None
    limit: PageLimit = DEFAULT_PAGE_SIZE


@router.get("/runs/{ref}/proposals", response_model=Page[ProposalRead])
async def list_proposals(ctx: MatchingReader, ref: str, query: Annotated[ProposalListQuery, Query()]) -> Response:
    """Per unit: the proposed household, the score by component, and the next best households."""
    filters = repository.ProposalFilters(
        status=query.status,
        sibling_group_ref=query.sibling_group_ref,
        household_ref=query.household_ref,
        agency_ids=await agencies.acted_for(ctx.session, query.agency_ref) if query.agency_ref else None,
    )
    paging = paging_of(query)
    after = paging.after(int)
    async with ctx.connection() as connection:
        rows = await repository.list_proposals(
            connection, ref, filters, after_id=after[0] if after else None, limit=paging.fetch
        )
    if not rows:
        await service.get_run(ctx.session, ref)  # 404 for a run that does not exist
    return paging.page_response(rows, key=lambda row: [row["id"]], item=proposal_item)


@router.get("/children/{ref}/candidates", response_model=CandidatesRead)
async def candidates(
    ctx: MatchingReader, ref: str, today: Today, request: Request, k: Annotated[int, Query(ge=1, le=50)] = 10
) -> CandidatesRead:
    """A live ranked shortlist for a child (or sibling group ref), each score explained."""
    group, version, ranked, reasons = await service.live_candidates(ctx, live_pool(request), ref, k, today)
    return CandidatesRead(
        sibling_group_ref=group.group_ref,
        status=group.status,
        policy_version=version,
        candidates=[Candidate(household_ref=h, score=sum(parts.values()), components=parts) for h, parts in ranked],
        no_eligible_household=reasons,
    )


@router.post("/proposals/{ref}/decision", response_model=ProposalRead)
async def decide(ctx: MatchingRunner, ref: str, body: DecisionCreate, today: Today) -> ProposalRead:
    """Accept (the household's agency is asked for a link: `link_ref`) or decline with a
    reason (the pair is never proposed again). Only the child's agency decides."""
    row, link_ref = await service.decide(ctx, ref, body.decision, body.reason.strip(), on=body.on or today, today=today)
    return proposal_read(row).model_copy(update={"link_ref": link_ref})


@router.get("/policies", response_model=list[PolicyRead])
async def list_policies(ctx: MatchingReader) -> list[PolicyRead]:
    return [PolicyRead.model_validate(r, from_attributes=True) for r in await repository.list_policies(ctx.session)]


@router.post("/policies", response_model=PolicyRead, status_code=status.HTTP_201_CREATED)
async def create_policy(ctx: PolicyAdmin, body: PolicyCreate) -> PolicyRead:
    """A new version of the scoring policy (national team); later runs use it."""
    return PolicyRead.model_validate(
        await service.new_policy_version(ctx, body.settings.changes(), body.note), from_attributes=True
    )
