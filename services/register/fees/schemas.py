from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from services.core.http import RecordDate, RequestModel
from services.register.vocabulary import FeeEvent, FeeKind, ReconciliationStatus

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


class ReconciliationRead(BaseModel):
    ref: str
    period_start: date
    period_end: date
    status: ReconciliationStatus
    created_at: datetime
    finalised_at: datetime | None
    version: int
    totals: dict[str, int]
    positions: list[dict]
    transfers: list[dict]
    settled_line_refs: list[str]
    held_line_refs: list[str]
