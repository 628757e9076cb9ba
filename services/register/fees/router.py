"""HTTP for interagency fees (`fees:read`, `fees:write`); finance officers see only lines
their agency pays or is paid; the national finance team sees and reconciles all."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from services.core.clock import Today
from services.core.errors import ERROR_RESPONSES
from services.core.http import (
    DEFAULT_PAGE_SIZE,
    Page,
    PageCursor,
    PageLimit,
    PagingParams,
    expected_version,
    paging_of,
    set_etag,
)
from services.permissions import FeeAdmin, FeePayer, FeeReader, FeeWriter
from services.register.fees import repository, service
from services.register.fees.schemas import (
    AgedDebt,
    CoverageReport,
    CpihRateRead,
    CreditCreate,
    DisputeCreate,
    DisputeRead,
    DisputeResolve,
    IffClaims,
    LineRead,
    PaymentCreate,
    PaymentRead,
    PlacementFees,
    RaiseDue,
    RaiseDueResult,
    ReconciliationCreate,
    ReconciliationRead,
    ReconciliationSummary,
    ScheduleRead,
    ScheduleWrite,
    WaiverCreate,
)

router = APIRouter(prefix="/v1/fees", tags=["fees"], responses=ERROR_RESPONSES)

YearPath = Annotated[int, Path(ge=2000, le=2100, description="Financial year: 2025 is April 2025 to March 2026")]


@router.get("/schedules/{year}", response_model=list[ScheduleRead])
async def get_schedules(ctx: FeeReader, year: YearPath) -> list[ScheduleRead]:
    """Every schedule version of the financial year (1 April `year` to 31 March); amounts
    that are not published are listed in `not_set`."""
    return [await service.schedule_read(ctx, s) for s in await repository.schedules_of_year(ctx.session, year)]


@router.put(
    "/schedules/{year}",
    response_model=ScheduleRead,
    responses={201: {"model": ScheduleRead, "description": "A new schedule version"}},
)
async def put_schedule(ctx: FeeAdmin, year: YearPath, body: ScheduleWrite, response: Response) -> ScheduleRead:
    schedule, created = await service.put_schedule(ctx, year, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    set_etag(response, schedule.version)
    return schedule


# Date filters: a day in the schedules' range; beyond it is a typing error, not a query.
BoundedDate = Annotated[date | None, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


@router.get("/cpih-rates", response_model=list[CpihRateRead])
async def cpih_rates(ctx: FeeReader) -> list[CpihRateRead]:
    """The CPIH rates that uprate voluntary agencies' fees each April, with their sources;
    `published: false` marks a documented default (a rate not found or not yet published)."""
    return [CpihRateRead.model_validate(r, from_attributes=True) for r in await repository.cpih_rates(ctx.session)]


class InvoiceListQuery(BaseModel):
    """The invoice list's filters and page as one query-parameter model (one dependency node,
    one validation), each field a query parameter documented as before."""

    agency_ref: Annotated[str | None, Field(max_length=32, description="National team only: one agency's lines")] = None
    counterparty_ref: Annotated[str | None, Field(max_length=32)] = None
    due_from: BoundedDate = None
    due_to: BoundedDate = None
    status: Literal["open", "disputed", "settled"] | None = None
    placement_ref: Annotated[str | None, Field(max_length=32)] = None
    format: Literal["json", "csv"] | None = None
    cursor: PageCursor = None
    limit: PageLimit = DEFAULT_PAGE_SIZE


@router.get("/invoices", response_model=Page[LineRead], responses={200: {"content": {"text/csv": {}}}})
async def list_invoice_lines(ctx: FeeReader, request: Request, query: Annotated[InvoiceListQuery, Query()]) -> Response:
    """Invoice lines, as JSON pages or (`?format=csv` or `Accept: text/csv`) as one CSV
    page for a finance system: invoice number, dates, payer, payee, the placement reference
    (never the child's case reference), net amount, VAT status. Page with `cursor` as in JSON."""
    filters = service.LineFilters(
        agency_ref=query.agency_ref,
        counterparty_ref=query.counterparty_ref,
        due_from=query.due_from,
        due_to=query.due_to,
        status=query.status,
        placement_ref=query.placement_ref,
    )
    paging = paging_of(query)
    format = query.format
    rows = await service.list_lines(ctx, filters, paging)
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        headers = {"Content-Disposition": 'attachment; filename="invoice-lines.csv"'}
        if next_cursor := paging.next(rows, key=lambda row: [row[0]]):
            headers["Link"] = f'<?format=csv&cursor={next_cursor}>; rel="next"'
        return Response(service.invoices_csv(rows[: paging.limit]), media_type="text/csv", headers=headers)
    return paging.page_response(rows, key=lambda row: [row[0]], item=service.line_item)


@router.get("/coverage", response_model=CoverageReport)
async def coverage(
    ctx: FeeReader,
    paging: PagingParams,
    today: Today,
    year: Annotated[int, Query(ge=2000, le=2100, description="Financial year: 2025 is April 2025 to March 2026")],
) -> CoverageReport:
    """Every placement made in the financial year with its fee lines, or the reason it has
    none (same agency, waived by a recorded decision, due but its amount not set).
    `unaccounted` counts cross-agency placements with neither: it should be 0."""
    return await service.coverage(ctx, year, today, paging)


@router.post("/placements/{ref}/waiver", status_code=status.HTTP_201_CREATED)
async def waive(ctx: FeeAdmin, ref: str, body: WaiverCreate, today: Today) -> dict[str, str]:
    """Record a decision that no further fee is due for this placement (lines already raised
    are corrected with credit notes)."""
    return {"waiver_ref": await service.waive(ctx, ref, body.decision, body.decided_on, today)}


@router.get("/iff-claims", response_model=IffClaims, responses={200: {"content": {"text/csv": {}}}})
async def iff_claims(
    ctx: FeeReader,
    today: Today,
    request: Request,
    year: Annotated[int, Query(ge=2000, le=2100, description="Financial year: 2025 is April 2025 to March 2026")],
    quarter: Annotated[int | None, Query(ge=1, le=4, description="1 = April-June ... 4 = January-March")] = None,
    format: Literal["json", "csv"] | None = None,
) -> Response | IffClaims:
    """Inter-agency Fee Fund claims: per quarter and paying agency, the year's cross-agency
    placements of harder-to-place children (the year's rules, as data) and the amount to
    claim; `?format=csv` for submission."""
    report = await service.iff_claims(ctx, year, quarter, today)
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        name = f"iff-claims-{year}" + (f"-q{quarter}" if quarter else "")
        return Response(
            service.iff_claims_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return report


@router.get("/aged-debt", response_model=list[AgedDebt])
async def aged_debt(ctx: FeeReader, today: Today) -> list[AgedDebt]:
    """Per paying agency, unsettled lines by days since due (0-30, 31-60, 61-90, over 90);
    an agency's officer sees only its own."""
    return await service.aged_debt(ctx, today)


@router.get("/placements/{ref}", response_model=PlacementFees)
async def placement_fees(ctx: FeeReader, ref: str, today: Today) -> PlacementFees:
    """The fee lines of one placement, and any fee that is due but could not be raised
    because its amount is not set."""
    return await service.placement_fees(ctx, ref, today)


@router.post("/raise-due", response_model=RaiseDueResult)
async def raise_due(ctx: FeeAdmin, body: RaiseDue, today: Today) -> RaiseDueResult:
    """Raise every fee due by a date (12-month instalments, monthly fees); run nightly.
    Idempotent: a fee already raised is never raised again."""
    as_of = body.as_of or today
    checked, raised, missing = await service.raise_all_due(
        ctx.session, as_of=as_of, today=today, raised_by=ctx.principal.audit_name
    )
    return RaiseDueResult(as_of=as_of, placements_checked=checked, lines_raised=raised, not_raised=missing)


@router.post("/invoices/{ref}/credit", response_model=LineRead, status_code=status.HTTP_201_CREATED)
async def credit_line(ctx: FeeWriter, ref: str, body: CreditCreate) -> LineRead:
    """A credit note against a line (by its payee): lines are never edited."""
    return await service.credit_line(ctx, ref, body)


@router.post("/invoices/{ref}/disputes", response_model=DisputeRead, status_code=status.HTTP_201_CREATED)
async def dispute_line(ctx: FeeWriter, ref: str, body: DisputeCreate) -> DisputeRead:
    """The payer disputes a line; it is held out of settlement until resolved."""
    return await service.dispute_line(ctx, ref, body)


@router.post("/disputes/{ref}/resolve", response_model=DisputeRead)
async def resolve_dispute(ctx: FeeWriter, ref: str, body: DisputeResolve) -> DisputeRead:
    """The payee resolves a dispute, with a credit note if money is given back."""
    return await service.resolve_dispute(ctx, ref, body)


@router.post(
    "/reconciliations",
    response_model=ReconciliationRead,
    status_code=status.HTTP_201_CREATED,
)
async def create_reconciliation(
    ctx: FeeAdmin,
    body: ReconciliationCreate,
    response: Response,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key")],
    today: Today,
) -> ReconciliationRead:
    """A draft netting of the period. A retry with the same Idempotency-Key (one after
    another or concurrent) gets the same answer, 201 and the same body; the same key with
    another body is refused (422)."""
    reconciliation = await service.create_reconciliation(
        ctx, body.period_start, body.period_end, idempotency_key, today=today
    )
    response.headers["Location"] = f"/v1/fees/reconciliations/{reconciliation.ref}"
    set_etag(response, reconciliation.version)
    return service.reconciliation_read(reconciliation, ctx.principal)


@router.get("/reconciliations", response_model=Page[ReconciliationSummary])
async def list_reconciliations(
    ctx: FeeReader,
    paging: PagingParams,
    status_filter: Annotated[Literal["draft", "finalised", "settled"] | None, Query(alias="status")] = None,
) -> Page[ReconciliationSummary]:
    """Reconciliations, newest first: `finalised` ones still have unpaid transfers,
    `settled` ones are paid in full."""
    return await service.list_reconciliations(ctx, status_filter, paging)


@router.post(
    "/reconciliations/{ref}/transfers/{transfer}/payments",
    response_model=PaymentRead,
    status_code=status.HTTP_201_CREATED,
)
async def record_payment(
    ctx: FeePayer, ref: str, transfer: Annotated[int, Path(ge=0, le=100_000)], body: PaymentCreate, today: Today
) -> PaymentRead:
    """The paying agency records a payment (or part) of one netted transfer (its index in
    `transfers`); more than is outstanding is refused. When every transfer is paid the
    reconciliation is `settled`."""
    return await service.record_payment(ctx, ref, transfer, body, today)


@router.get("/reconciliations/{ref}", response_model=ReconciliationRead, responses={200: {"content": {"text/csv": {}}}})
async def get_reconciliation(
    ctx: FeeReader, ref: str, request: Request, format: Literal["json", "csv"] | None = None
) -> Response | ReconciliationRead:
    """As JSON, or as CSV for a spreadsheet (`?format=csv` or `Accept: text/csv`)."""
    read = service.reconciliation_read(await repository.get_reconciliation(ctx.session, ref), ctx.principal)
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        return Response(
            service.reconciliation_csv(read),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{ref}.csv"', "ETag": f'"{read.version}"'},
        )
    return read


@router.post("/reconciliations/{ref}/finalise", response_model=ReconciliationRead)
async def finalise(ctx: FeeAdmin, ref: str, request: Request, response: Response) -> ReconciliationRead:
    """Settle the draft's lines for good. Of two concurrent finalisations, one wins."""
    reconciliation = await service.finalise(ctx, ref, expected_version(request))
    set_etag(response, reconciliation.version)
    return service.reconciliation_read(reconciliation, ctx.principal)
