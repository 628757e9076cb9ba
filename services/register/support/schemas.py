from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.core.http import RecordDate, RefText, RequestModel
from services.register.support.vocabulary import (
    Allowance,
    AsfCategory,
    AssessmentOutcome,
    BreakdownReason,
    BudgetManager,
    MatchFundingCriterion,
    Payer,
    SupportCategory,
)

PENCE = Field(gt=0, le=100_000_000, description="Integer pence")
PROVIDER = Field(min_length=1, max_length=200)
YEAR = Field(ge=2015, le=2100, description="Financial year: 2025 = 1 April 2025 to 31 March 2026")


# --- assessments -------------------------------------------------------------------------


class AssessmentOpen(RequestModel):
    """An authority opens an assessment for a family (one of its placements)."""

    placement_ref: str = Field(max_length=32)
    requested_on: date | None = Field(default=None, description="Default: today")


class AssessmentRequest(RequestModel):
    """A family asks for an assessment of its support needs (nothing else to say: the
    register knows the family from the token)."""


class AssessmentOutcomeWrite(RequestModel):
    outcome: AssessmentOutcome
    outcome_on: date
    support_plan: str = Field(default="", max_length=8000)


class AssessmentRead(BaseModel):
    ref: str
    household_ref: str
    placement_ref: str
    responsible_agency_ref: str
    responsibility_basis: str
    requested_on: date
    requested_by_family: bool
    outcome: AssessmentOutcome | None
    outcome_on: date | None
    days_to_outcome: int | None
    support_plan: str
    version: int


# --- the fund -----------------------------------------------------------------------------


class LimitsWrite(RequestModel):
    fair_access_pence: int = PENCE
    specialist_assessment_pence: int | None = Field(
        default=None, gt=0, le=100_000_000, description="None: assessments come out of the fair-access limit"
    )
    match_funding: bool
    fund_share_num: int = Field(default=1, ge=1, le=100)
    fund_share_den: int = Field(default=2, ge=1, le=100)
    source: str = Field(min_length=1, max_length=1000)


class LimitsRead(BaseModel):
    financial_year: int
    fair_access_pence: int
    specialist_assessment_pence: int | None
    match_funding: bool
    fund_share_num: int
    fund_share_den: int
    source: str
    version: int


class ApplicationCreate(RequestModel):
    assessment_ref: str = Field(max_length=32)
    child_ref: str = Field(max_length=32)
    category: AsfCategory
    provider: str = PROVIDER
    amount_pence: int = PENCE
    financial_year: int = YEAR
    match_funding_criterion: MatchFundingCriterion | None = None


class LineRead(BaseModel):
    id: int
    allowance: Allowance
    payer: Payer
    amount_pence: int
    reverses_line_id: int | None
    reason: str


class ApplicationRead(BaseModel):
    ref: str
    assessment_ref: str
    child_ref: str
    agency_ref: str
    financial_year: int
    category: AsfCategory
    provider: str
    amount_pence: int
    match_funding_criterion: MatchFundingCriterion | None
    fund_pence: int = Field(description="What the fund pays, net of reversals")
    authority_pence: int = Field(description="The authority's share of match funding, net of reversals")
    reversed: bool
    lines: list[LineRead]


class Reversal(RequestModel):
    reason: str = Field(min_length=1, max_length=1000)


class ChildAllowances(BaseModel):
    child_ref: str
    financial_year: int
    limits: LimitsRead
    used_pence: dict[str, int]
    remaining_pence: dict[str, int]


# --- budgets -------------------------------------------------------------------------------


class BudgetCreate(RequestModel):
    assessment_ref: str = Field(max_length=32)
    amount_pence: int = PENCE
    period_start: date
    period_end: date
    managed_by: BudgetManager
    manager_name: str = Field(default="", max_length=200, description="The provider's name, when a provider holds it")


class SpendCreate(RequestModel):
    spent_on: date
    provider: str = PROVIDER
    category: SupportCategory
    amount_pence: int = PENCE


class SpendRead(BaseModel):
    ref: str
    spent_on: date
    provider: str
    category: SupportCategory
    amount_pence: int


class BudgetRead(BaseModel):
    ref: str
    assessment_ref: str
    household_ref: str
    agency_ref: str
    amount_pence: int
    spent_pence: int
    balance_pence: int
    period_start: date
    period_end: date
    managed_by: BudgetManager
    manager_name: str
    spend: list[SpendRead]
    version: int


# --- the passport ---------------------------------------------------------------------------


class EntitlementWrite(RequestModel):
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=4000)
    source: str = Field(min_length=1, max_length=1000)
    position: int = Field(default=0, ge=0, le=1000)


class EntitlementCreate(EntitlementWrite):
    agency_ref: str = Field(max_length=32, description="The authority whose addition this is")


class EntitlementUpdate(RequestModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, min_length=1, max_length=4000)
    source: str | None = Field(default=None, min_length=1, max_length=1000)
    position: int | None = Field(default=None, ge=0, le=1000)
    withdrawn: bool | None = None


class EntitlementRead(BaseModel):
    ref: str
    scope: Literal["national", "local"]
    agency_ref: str | None
    title: str
    summary: str
    source: str
    position: int
    withdrawn: bool
    version: int


class Passport(BaseModel):
    national: list[EntitlementRead]
    local: list[EntitlementRead] = Field(description="Your responsible authority's own additions (duty to inform)")
    responsible_agency_refs: list[str]


# --- breakdowns -----------------------------------------------------------------------------


class BreakdownCreate(RequestModel):
    returned_to_care_on: RecordDate
    reason: BreakdownReason
    child_refs: list[RefText] | None = Field(
        default=None, min_length=1, max_length=10, description="Default: every child of the placement"
    )


class BreakdownRead(BaseModel):
    ref: str
    placement_ref: str
    child_ref: str
    returned_to_care_on: RecordDate
    reason: BreakdownReason


# --- reports ---------------------------------------------------------------------------------


class AsfReportRow(BaseModel):
    financial_year: int
    agency_ref: str | None = Field(description="None: every authority together")
    agency_name: str | None
    region: str | None
    applications: int
    children_supported: int
    families_supported: int
    fund_pence: int
    authority_match_pence: int
    average_fund_pence_per_child: int
    match_funded_percent: float
    assessments_decided: int
    mean_days_request_to_outcome: float | None


class FamilyAssessment(BaseModel):
    ref: str
    responsible_agency_ref: str
    requested_on: date
    outcome: AssessmentOutcome | None
    outcome_on: date | None
    support_plan: str


class FamilyApplication(BaseModel):
    """An ASF application as the family sees it: no child's case reference."""

    ref: str
    financial_year: int
    category: AsfCategory
    provider: str
    fund_pence: int
    reversed: bool


class FamilySupport(BaseModel):
    """What a family sees of its own support."""

    household_ref: str
    assessments: list[FamilyAssessment]
    budgets: list[BudgetRead]
    asf_applications: list[FamilyApplication]
