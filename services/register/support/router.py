"""HTTP for adoption support: needs assessments, the Adoption Support Fund, personal
budgets, the Adoption Passport, breakdowns after the order, and the fund's reports."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status

from services.core.clock import Today
from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, set_etag
from services.permissions import SupportAdmin, SupportReader, SupportRequester, SupportWriter
from services.register.support import repository, service
from services.register.support.dependencies import AssessmentForUpdate, BudgetForUpdate, EntitlementForUpdate
from services.register.support.schemas import (
    ApplicationCreate,
    ApplicationRead,
    AsfReportRow,
    AssessmentOpen,
    AssessmentOutcomeWrite,
    AssessmentRead,
    AssessmentRequest,
    BreakdownCreate,
    BreakdownRead,
    BudgetCreate,
    BudgetRead,
    ChildAllowances,
    EntitlementCreate,
    EntitlementRead,
    EntitlementUpdate,
    FamilyAssessment,
    FamilySupport,
    LimitsRead,
    LimitsWrite,
    Passport,
    Reversal,
    SpendCreate,
)

router = APIRouter(tags=["adoption support"], responses=ERROR_RESPONSES)

Year = Annotated[int, Path(ge=2015, le=2100, description="Financial year: 2025 = April 2025 to March 2026")]


# --- families (adopter tokens) ---------------------------------------------------------------


@router.post("/v1/support/me/assessments", response_model=FamilyAssessment, status_code=status.HTTP_201_CREATED)
async def request_assessment(ctx: SupportRequester, body: AssessmentRequest, today: Today) -> FamilyAssessment:
    """Ask for an assessment of your family's support needs (the authority must assess)."""
    return await service.request_assessment(ctx, today)


@router.get("/v1/support/me", response_model=FamilySupport)
async def my_support(ctx: SupportRequester) -> FamilySupport:
    """Your family's assessments, personal budgets with their spend, and fund applications."""
    return await service.family_support(ctx)


@router.get("/v1/passport", response_model=Passport)
async def my_passport(ctx: SupportRequester, today: Today) -> Passport:
    """The Adoption Passport: national entitlements with their sources, and your
    responsible authority's own additions."""
    return await service.passport(ctx, today)


# --- assessments (authorities) -----------------------------------------------------------------


@router.get("/v1/support/assessments", response_model=Page[AssessmentRead])
async def list_assessments(ctx: SupportReader, paging: PagingParams, open_only: bool = False) -> Page[AssessmentRead]:
    """Your authority's assessments (an RAA's include its authorities'); oldest first."""
    rows = await service.list_assessments(ctx, paging, open_only=open_only)
    page = paging.page(rows, key=lambda a: [a.id], item=lambda a: a)
    return Page(items=[await service.assessment_read(ctx.session, a) for a in page.items], next_cursor=page.next_cursor)


@router.post("/v1/support/assessments", response_model=AssessmentRead, status_code=status.HTTP_201_CREATED)
async def open_assessment(ctx: SupportWriter, body: AssessmentOpen, today: Today, response: Response) -> AssessmentRead:
    created = await service.open_assessment(ctx, body, today)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/support/assessments/{created.ref}"
    return created


@router.get("/v1/support/assessments/{ref}", response_model=AssessmentRead)
async def get_assessment(ctx: SupportReader, ref: str, response: Response) -> AssessmentRead:
    read = await service.read_assessment(ctx, await repository.get_assessment(ctx.session, ref))
    set_etag(response, read.version)
    return read


@router.patch("/v1/support/assessments/{ref}", response_model=AssessmentRead)
async def record_outcome(
    ctx: SupportWriter, assessment: AssessmentForUpdate, body: AssessmentOutcomeWrite, today: Today, response: Response
) -> AssessmentRead:
    """Record the outcome and the support plan (once)."""
    read = await service.record_outcome(ctx, assessment, body, today)
    set_etag(response, read.version)
    return read


# --- the fund -------------------------------------------------------------------------------------


@router.get("/v1/support/asf/limits", response_model=list[LimitsRead])
async def list_limits(ctx: SupportReader) -> list[LimitsRead]:
    """The fund's rules per financial year, with where each comes from."""
    return [service.limits_read(limits) for limits in await repository.all_limits(ctx.session)]


@router.put(
    "/v1/support/asf/limits/{year}",
    response_model=LimitsRead,
    responses={201: {"model": LimitsRead, "description": "The year's limits, set for the first time"}},
)
async def put_limits(ctx: SupportAdmin, year: Year, body: LimitsWrite, response: Response) -> LimitsRead:
    """Set a year's limits (national team); refused once applications were approved under them."""
    limits, created = await service.put_limits(ctx, year, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return limits


@router.post("/v1/support/asf/applications", response_model=ApplicationRead, status_code=status.HTTP_201_CREATED)
async def apply(ctx: SupportWriter, body: ApplicationCreate, today: Today, response: Response) -> ApplicationRead:
    """Apply for one child: approved within the remaining limit; above it match-funded only
    where the year allows and a criterion is given; otherwise 409 naming what remains."""
    created = await service.apply(ctx, body, today)
    response.headers["Location"] = f"/v1/support/asf/applications/{created.ref}"
    return created


@router.get("/v1/support/asf/applications/{ref}", response_model=ApplicationRead)
async def get_application(ctx: SupportReader, ref: str) -> ApplicationRead:
    return await service.read_application(ctx, ref)


@router.post("/v1/support/asf/applications/{ref}/reversal", response_model=ApplicationRead)
async def reverse_application(ctx: SupportWriter, ref: str, body: Reversal) -> ApplicationRead:
    """Withdraw an approved application with reversing lines; its use of the limit returns."""
    return await service.reverse(ctx, ref, body)


@router.get("/v1/support/asf/children/{child_ref}/{year}", response_model=ChildAllowances)
async def child_allowances(ctx: SupportReader, child_ref: str, year: Year, today: Today) -> ChildAllowances:
    return await service.child_allowances(ctx, child_ref, year, today)


@router.get(
    "/v1/support/reports/asf", response_model=list[AsfReportRow], responses={200: {"content": {"text/csv": {}}}}
)
async def asf_report(
    ctx: SupportReader,
    request: Request,
    year: Annotated[int | None, Query(ge=2015, le=2100)] = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Response | list[AsfReportRow]:
    """ASF spend per authority and year (England's total first): children and families
    supported, average per child, share match-funded, days from request to outcome."""
    rows = await service.asf_report(ctx, year)
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        return Response(
            service.report_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="asf-{year or "all"}.csv"'},
        )
    return rows


# --- personal budgets ------------------------------------------------------------------------------


@router.post("/v1/support/budgets", response_model=BudgetRead, status_code=status.HTTP_201_CREATED)
async def create_budget(ctx: SupportWriter, body: BudgetCreate, response: Response) -> BudgetRead:
    created = await service.create_budget(ctx, body)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/support/budgets/{created.ref}"
    return created


@router.get("/v1/support/budgets/{ref}", response_model=BudgetRead)
async def get_budget(ctx: SupportReader, ref: str, response: Response) -> BudgetRead:
    read = await service.read_budget(ctx, ref)
    set_etag(response, read.version)
    return read


@router.post("/v1/support/budgets/{ref}/spend", response_model=BudgetRead, status_code=status.HTTP_201_CREATED)
async def add_spend(
    ctx: SupportWriter, budget: BudgetForUpdate, body: SpendCreate, today: Today, response: Response
) -> BudgetRead:
    """A line of spend (provider, category); refused when it would take the balance below zero."""
    read = await service.add_spend(ctx, budget, body, today)
    set_etag(response, read.version)
    return read


# --- the passport (authorities) ---------------------------------------------------------------------


@router.get("/v1/passport/entitlements", response_model=list[EntitlementRead])
async def list_entitlements(
    ctx: SupportReader, agency_ref: Annotated[str | None, Query(max_length=32)] = None
) -> list[EntitlementRead]:
    """The national entitlements, and an authority's own additions (withdrawn ones too)."""
    return await service.list_entitlements(ctx, agency_ref)


@router.post("/v1/passport/entitlements", response_model=EntitlementRead, status_code=status.HTTP_201_CREATED)
async def create_entitlement(ctx: SupportWriter, body: EntitlementCreate, response: Response) -> EntitlementRead:
    created = await service.create_entitlement(ctx, body)
    set_etag(response, created.version)
    return created


@router.patch("/v1/passport/entitlements/{ref}", response_model=EntitlementRead)
async def update_entitlement(
    ctx: SupportWriter, entitlement: EntitlementForUpdate, body: EntitlementUpdate, response: Response
) -> EntitlementRead:
    """Change or withdraw an entitlement (never deleted)."""
    updated = await service.update_entitlement(ctx, entitlement, body)
    set_etag(response, updated.version)
    return updated


# --- breakdowns ----------------------------------------------------------------------------------------


@router.post("/v1/placements/{ref}/breakdown", response_model=list[BreakdownRead], status_code=status.HTTP_201_CREATED)
async def record_breakdown(ctx: SupportWriter, ref: str, body: BreakdownCreate, today: Today) -> list[BreakdownRead]:
    """Children returning to care after the adoption order (one record per child)."""
    return await service.record_breakdown(ctx, ref, body, today)
