from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from services.core.http import STATED_TEXT, RecordDate, RequestModel
from services.register.vocabulary import FeeEvent, FeeKind

# Integer pence: 1.5 or "100" is refused, never rounded; at most £10 million, far above any fee.
Pence = Annotated[StrictInt, Field(le=1_000_000_000)]


class ScheduleWrite(RequestModel):
    kind: FeeKind
    effective_from: RecordDate | None = Field(default=None, description="Default: 1 April of the year")
    one_child_pence: Pence | None = Field(default=None, gt=0)
    two_children_pence: Pence | None = Field(default=None, gt=0)
    three_children_pence: Pence | None = Field(default=None, gt=0)
    four_or_more_children_pence: Pence | None = Field(default=None, gt=0)
    placement_share_num: StrictInt = Field(default=1, gt=0, le=100)
    placement_share_den: StrictInt = Field(default=1, gt=0, le=100)
    monthly_pence: Pence | None = Field(default=None, gt=0)
    charges_monthly: bool | None = Field(
        default=None, description="Monthly fee from month 13 without an order. Default: voluntary agencies only"
    )
    london_weighting_percent: StrictInt = Field(default=0, ge=0, le=100)
    source: str = Field(default="", max_length=500)


class ScheduleRead(BaseModel):
    ref: str
    financial_year: int
    kind: FeeKind
    effective_from: date
    one_child_pence: int | None
    two_children_pence: int | None
    three_children_pence: int | None
    four_or_more_children_pence: int | None
    placement_share_num: int
    placement_share_den: int
    monthly_pence: int | None
    charges_monthly: bool
    london_weighting_percent: int
    defaulted: list[str] = Field(description="Amounts that are documented defaults, not published figures")
    not_set: list[str] = Field(description="Amounts this schedule does not set (no fee is invented for them)")
    source: str
    has_invoices: bool
    version: int


class LineRead(BaseModel):
    ref: str
    placement_ref: str
    event: FeeEvent
    month: int
    payer_ref: str
    payee_ref: str
    amount_pence: int
    due_on: date
    credits_ref: str | None
    reason: str
    status: Literal["open", "disputed", "settled"]
    settled_by: str | None
    raised_at: datetime


class CreditCreate(RequestModel):
    amount_pence: Pence = Field(gt=0, description="How much to credit back, in pence")
    reason: str = Field(min_length=3, max_length=1000)


class DisputeCreate(RequestModel):
    reason: str = Field(min_length=3, max_length=2000)


class DisputeResolve(RequestModel):
    resolution: str = Field(min_length=3, max_length=2000)
    credit_pence: Pence | None = Field(default=None, gt=0, description="Raise a credit note for this much")


class DisputeRead(BaseModel):
    ref: str
    line_ref: str
    reason: str
    raised_at: datetime
    resolved_at: datetime | None
    resolution: str


class MissingFee(BaseModel):
    event: FeeEvent
    month: int
    due_on: date | None
    reason: str


class PlacementFees(BaseModel):
    placement_ref: str
    cross_agency: bool
    lines: list[LineRead]
    not_raised: list[MissingFee]


class RaiseDue(RequestModel):
    as_of: RecordDate | None = Field(default=None, description="Default: today")


class RaiseDueResult(BaseModel):
    as_of: date
    placements_checked: int
    lines_raised: int
    not_raised: int


class ReconciliationCreate(RequestModel):
    period_start: RecordDate
    period_end: RecordDate


class Totals(BaseModel):
    gross_invoice_by_invoice_pence: int
    transfers_invoice_by_invoice: int
    netted_pence: int
    transfers_netted: int


class PositionRead(BaseModel):
    agency_ref: str
    receivable_pence: int
    payable_pence: int
    net_pence: int


class TransferRead(BaseModel):
    index: int = Field(description="Its place in the reconciliation: payments name the transfer by it")
    payer_ref: str
    payee_ref: str
    amount_pence: int
    line_refs: list[str]
    payer_allocations: list[tuple[str, int]]
    payee_allocations: list[tuple[str, int]]


class ReconciliationRead(BaseModel):
    ref: str
    period_start: date
    period_end: date
    status: Literal["draft", "finalised", "settled"]
    created_at: datetime
    finalised_at: datetime | None
    version: int
    # Typed, so that the first answer and every retry are the same bytes (the stored JSONB
    # does not keep key order).
    totals: Totals
    positions: list[PositionRead]
    transfers: list[TransferRead]
    settled_line_refs: list[str]
    held_line_refs: list[str]
    settled_at: datetime | None = None


class ReconciliationSummary(BaseModel):
    ref: str
    period_start: date
    period_end: date
    status: Literal["draft", "finalised", "settled"]
    created_at: datetime
    finalised_at: datetime | None
    settled_at: datetime | None
    transfers: int
    transfers_paid: int
    netted_pence: int
    paid_pence: int


class PaymentCreate(RequestModel):
    paid_on: date
    amount_pence: Pence = Field(gt=0, le=10**12)
    payment_reference: str = Field(min_length=1, max_length=100)


class PaymentRead(BaseModel):
    ref: str
    reconciliation_ref: str
    transfer: int
    payer_ref: str
    payee_ref: str
    paid_on: date
    amount_pence: int
    payment_reference: str
    transfer_amount_pence: int
    transfer_paid_pence: int
    transfer_outstanding_pence: int
    reconciliation_status: Literal["draft", "finalised", "settled"]


class WaiverCreate(RequestModel):
    decision: str = Field(
        min_length=3, max_length=2000, pattern=STATED_TEXT, description="The recorded decision, and who took it"
    )
    decided_on: date


class CoverageLine(BaseModel):
    ref: str
    event: FeeEvent
    month: int
    amount_pence: int
    due_on: date


class CoveragePlacement(BaseModel):
    placement_ref: str
    placed_on: date
    payer_ref: str
    payee_ref: str
    lines: list[CoverageLine]
    reason: str = Field(description="Why no line is due, or what is due but not raised; empty when lines exist")


class CoverageReport(BaseModel):
    financial_year: int
    placements: int
    cross_agency: int
    with_lines: int
    with_reason: dict[str, int]
    unaccounted: int = Field(description="Cross-agency placements with neither a line nor a reason: always 0")
    lines: int
    amount_pence: int
    items: list[CoveragePlacement]
    next_cursor: str | None


class AgedDebt(BaseModel):
    agency_ref: str
    days_0_30_pence: int
    days_31_60_pence: int
    days_61_90_pence: int
    days_over_90_pence: int
    total_pence: int


class IffClaimLine(BaseModel):
    placement_ref: str
    placed_on: date
    payer_ref: str
    payee_ref: str
    children: int
    criteria: list[str]
    fee_pence: int = Field(description="Placement and completion lines, net of credits (monthly fees excluded)")
    claim_pence: int


class IffClaim(BaseModel):
    financial_year: int
    quarter: int
    payer_ref: str
    placements: int
    claim_pence: int
    lines: list[IffClaimLine]


class IffClaims(BaseModel):
    financial_year: int
    rules_source: str
    rules_defaulted: bool
    claims: list[IffClaim]


class CpihRateRead(BaseModel):
    calendar_year: int
    december_rate_tenths: int = Field(description="ONS CPIH 12-month rate to December, in tenths of a percent")
    applied_rate_tenths: int = Field(description="The rate the uprating rule applied the next April (2023: capped)")
    published: bool
    source: str
