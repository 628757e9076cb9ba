"""HTTP for matching: runs, proposals, live candidates, decisions and scoring policies."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select

from services.core.audit import AuditAction
from services.core.auth import Scope
from services.core.context import RequestContext, requires
from services.core.errors import Forbidden, InvalidInput
from services.core.http import Page, next_cursor, parse_cursor
from services.matching import service
from services.matching.loader import Scope as RunScope
from services.matching.models import MatchRun, ScoringPolicyVersion
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
from services.register.children.dependencies import Today

router = APIRouter(prefix="/v1/matching", tags=["matching"])

Reader = Annotated[RequestContext, requires(Scope.MATCHING_READ)]
Runner = Annotated[RequestContext, requires(Scope.MATCHING_RUN)]


def run_read(run: MatchRun) -> RunRead:
    return RunRead.model_validate(run, from_attributes=True)


def _staff_only(ctx: RequestContext) -> None:
    if ctx.principal.household_ref is not None:
        raise Forbidden("Matching is for agency staff.")


@router.post(
    "/runs",
    response_model=RunRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": RunRead, "description": "With wait=true: the finished run"}},
)
async def start_run(
    ctx: Runner,
    body: RunCreate,
    request: Request,
    response: Response,
    wait: Annotated[bool, Query(description="Answer when the run has finished")] = False,
) -> RunRead:
    """Start a national (or scoped, or what-if) run. One run at a time: 409 while another runs."""
    _staff_only(ctx)
    engine = request.app.state.engine
    run_request = service.RunRequest(
        scope=RunScope(regions=tuple(body.regions), agency_refs=tuple(body.agency_refs)),
        lexicographic=body.lexicographic,
        policy_overrides=body.policy_overrides.changes(),
    )
    run, lock = await service.start_run(engine, run_request, ctx.principal.audit_name)
    ctx.audit(AuditAction.CREATE, "match_run", run.ref)
    task = asyncio.create_task(service.execute_run(engine, run, lock))
    request.app.state.background_tasks.add(task)
    task.add_done_callback(request.app.state.background_tasks.discard)
    response.headers["Location"] = f"/v1/matching/runs/{run.ref}"
    if wait:
        await asyncio.shield(task)
        response.status_code = status.HTTP_200_OK
        async with request.app.state.sessionmaker() as session:
            return run_read(await service.get_run(session, run.ref))
    return run_read(run)


@router.get("/runs/{ref}", response_model=RunRead)
async def get_run(ctx: Reader, ref: str) -> RunRead:
    _staff_only(ctx)
    return run_read(await service.get_run(ctx.session, ref))


@router.get("/runs/{ref}/proposals", response_model=Page[ProposalRead])
async def list_proposals(
    ctx: Reader,
    ref: str,
    status_filter: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ProposalRead]:
    """Per unit: the proposed household, the score by component, and the next best households."""
    _staff_only(ctx)
    run = await service.get_run(ctx.session, ref)
    after = parse_cursor(cursor, int)[0] if cursor else None
    rows = await service.list_proposals(ctx.session, run, status=status_filter, after_id=after, limit=limit + 1)
    items = [
        ProposalRead(
            ref=p.ref,
            sibling_group_ref=g,
            household_ref=h,
            score=p.score,
            components=p.components,
            shortlist=p.shortlist,
            status=p.status,
            reason=p.reason,
            decided_by=p.decided_by,
            decided_at=p.decided_at,
        )
        for p, g, h in rows[:limit]
    ]
    cursor_after = next_cursor(rows, limit, lambda row: [row[0].id])
    return Page(items=items, next_cursor=cursor_after)


@router.get("/children/{ref}/candidates", response_model=CandidatesRead)
async def candidates(ctx: Reader, ref: str, today: Today, k: Annotated[int, Query(ge=1, le=50)] = 10) -> CandidatesRead:
    """A live ranked shortlist for a child (or sibling group ref), each score explained."""
    _staff_only(ctx)
    group, version, ranked = await service.live_candidates(ctx, ref, k, today)
    return CandidatesRead(
        sibling_group_ref=group.ref,
        status=group.status,
        policy_version=version,
        candidates=[Candidate(household_ref=h, score=sum(parts.values()), components=parts) for h, parts in ranked],
    )


@router.post("/proposals/{ref}/decision", response_model=ProposalRead)
async def decide(ctx: Runner, ref: str, body: DecisionCreate) -> ProposalRead:
    """Accept (the children and household become linked) or decline with a reason (the pair
    is never proposed again). Only the child's agency decides."""
    _staff_only(ctx)
    if body.decision == "decline" and len(body.reason.strip()) < 3:
        raise InvalidInput(
            "A decline needs a reason.",
            extra={"errors": [{"field": "body.reason", "message": "required when declining", "code": "missing"}]},
        )
    proposal, group_ref, household_ref = await service.decide(ctx, ref, body.decision, body.reason.strip())
    return ProposalRead(
        ref=proposal.ref,
        sibling_group_ref=group_ref,
        household_ref=household_ref,
        score=proposal.score,
        components=proposal.components,
        shortlist=proposal.shortlist,
        status=proposal.status,
        reason=proposal.reason,
        decided_by=proposal.decided_by,
        decided_at=proposal.decided_at,
    )


@router.get("/policies", response_model=list[PolicyRead])
async def list_policies(ctx: Reader) -> list[PolicyRead]:
    _staff_only(ctx)
    rows = await ctx.session.scalars(select(ScoringPolicyVersion).order_by(ScoringPolicyVersion.version))
    return [PolicyRead.model_validate(r, from_attributes=True) for r in rows]


@router.post("/policies", response_model=PolicyRead, status_code=status.HTTP_201_CREATED)
async def create_policy(ctx: Runner, body: PolicyCreate) -> PolicyRead:
    """A new version of the scoring policy (national team); later runs use it."""
    if ctx.principal.agency_ref is not None or ctx.principal.household_ref is not None:
        raise Forbidden("Only the national team changes the scoring policy.")
    return PolicyRead.model_validate(
        await service.new_policy_version(ctx, body.settings.changes(), body.note), from_attributes=True
    )
