"""Tables of adoption support. Money is integer pence (BIGINT).

- `support_assessments`: a family's request for an assessment of support needs and its
  outcome (versioned, never deleted); `days_to_outcome` is computed by the database.
- `asf_limits`: the Adoption Support Fund's rules per financial year (versioned data).
- `asf_applications` and `asf_lines`: approved applications and how each is paid, line by
  line; written once, never changed (trigger `forbid_change`): a correction is a
  reversing line.
- `asf_allowances`: per child, year and allowance, the limit and what is used of it; the
  CHECK `used_pence <= limit_pence` is the database's guarantee that no limit is broken,
  and the row lock taken on it serialises parallel applications for one child.
- `support_budgets` and `support_budget_lines`: personal budgets and their spend; the
  CHECK on `spent_pence` keeps a balance from going below zero.
- `passport_entitlements`: the Adoption Passport, national (no agency) and each
  authority's own additions.
- `adoption_breakdowns`: a child returning to care after an adoption order.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base
from services.register.models import Record
from services.register.support.vocabulary import (
    Allowance,
    AsfCategory,
    AssessmentOutcome,
    BreakdownReason,
    BudgetManager,
    MatchFundingCriterion,
    Payer,
    SupportCategory,
    check_in,
)


class SupportAssessment(Record):
    __tablename__ = "support_assessments"
    __table_args__ = (
        CheckConstraint(check_in("outcome", AssessmentOutcome), name="outcome_known"),
        CheckConstraint("(outcome IS NULL) = (outcome_on IS NULL)", name="outcome_dated"),
        CheckConstraint("outcome_on IS NULL OR outcome_on >= requested_on", name="outcome_after_request"),
    )

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    # The responsible authority on the day of the request (see rules.responsible_authority).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    responsibility_basis: Mapped[str] = mapped_column(Text)
    requested_on: Mapped[date] = mapped_column(Date)
    requested_by_family: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(Text)
    outcome_on: Mapped[date | None] = mapped_column(Date)
    support_plan: Mapped[str] = mapped_column(Text, server_default="")
    days_to_outcome: Mapped[int | None] = mapped_column(Integer, Computed("outcome_on - requested_on", persisted=True))


class AsfLimits(Record):
    __tablename__ = "asf_limits"
    __table_args__ = (
        CheckConstraint("financial_year BETWEEN 2015 AND 2100", name="year_range"),
        CheckConstraint("fair_access_pence > 0", name="limit_positive"),
        CheckConstraint(
            "specialist_assessment_pence IS NULL OR specialist_assessment_pence > 0", name="assessment_positive"
        ),
        CheckConstraint("fund_share_num > 0 AND fund_share_num <= fund_share_den", name="share_range"),
    )

    financial_year: Mapped[int] = mapped_column(Integer, unique=True)  # 2025 = April 2025 to March 2026
    fair_access_pence: Mapped[int] = mapped_column(BigInteger)
    # NULL: specialist assessments are paid from the fair-access limit.
    specialist_assessment_pence: Mapped[int | None] = mapped_column(BigInteger)
    match_funding: Mapped[bool] = mapped_column(Boolean)
    # The fund's share of a match-funded excess (1/2: equal shares).
    fund_share_num: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    fund_share_den: Mapped[int] = mapped_column(SmallInteger, server_default=text("2"))
    source: Mapped[str] = mapped_column(Text)


class AsfApplication(Base):
    __tablename__ = "asf_applications"
    __table_args__ = (
        CheckConstraint(check_in("category", AsfCategory), name="category_known"),
        CheckConstraint(check_in("match_funding_criterion", MatchFundingCriterion), name="criterion_known"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        Index("ix_asf_applications_agency_year", "agency_id", "financial_year"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("support_assessments.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))  # the applying (responsible) authority
    financial_year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    match_funding_criterion: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    applied_by: Mapped[str] = mapped_column(Text)


class AsfLine(Base):
    __tablename__ = "asf_lines"
    __table_args__ = (
        CheckConstraint(check_in("allowance", Allowance), name="allowance_known"),
        CheckConstraint(check_in("payer", Payer), name="payer_known"),
        CheckConstraint("(allowance = 'match_funding') OR payer = 'fund'", name="authority_pays_only_match"),
        CheckConstraint(
            "(reverses_line_id IS NULL AND amount_pence > 0) OR (reverses_line_id IS NOT NULL AND amount_pence < 0)",
            name="reversal_negative",
        ),
        Index("uq_asf_lines_reverses", "reverses_line_id", unique=True),
        Index("ix_asf_lines_child_year", "child_id", "financial_year"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("asf_applications.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    financial_year: Mapped[int] = mapped_column(Integer)
    allowance: Mapped[str] = mapped_column(Text)
    payer: Mapped[str] = mapped_column(Text)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    reverses_line_id: Mapped[int | None] = mapped_column(ForeignKey("asf_lines.id"))
    reason: Mapped[str] = mapped_column(Text, server_default="")
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    raised_by: Mapped[str] = mapped_column(Text)


class AsfAllowance(Base):
    __tablename__ = "asf_allowances"
    __table_args__ = (
        CheckConstraint("allowance IN ('fair_access', 'specialist_assessment')", name="allowance_capped"),
        CheckConstraint("used_pence >= 0 AND used_pence <= limit_pence", name="within_limit"),
    )

    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), primary_key=True)
    financial_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    allowance: Mapped[str] = mapped_column(Text, primary_key=True)
    limit_pence: Mapped[int] = mapped_column(BigInteger)
    used_pence: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class SupportBudget(Record):
    __tablename__ = "support_budgets"
    __table_args__ = (
        CheckConstraint(check_in("managed_by", BudgetManager), name="manager_known"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("spent_pence >= 0 AND spent_pence <= amount_pence", name="balance_not_negative"),
        CheckConstraint("period_start <= period_end", name="period_ordered"),
    )

    assessment_id: Mapped[int] = mapped_column(ForeignKey("support_assessments.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    spent_pence: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    managed_by: Mapped[str] = mapped_column(Text)
    manager_name: Mapped[str] = mapped_column(Text, server_default="")


class SupportBudgetLine(Base):
    __tablename__ = "support_budget_lines"
    __table_args__ = (
        CheckConstraint(check_in("category", SupportCategory), name="category_known"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("support_budgets.id"), index=True)
    spent_on: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    raised_by: Mapped[str] = mapped_column(Text)


class PassportEntitlement(Record):
    __tablename__ = "passport_entitlements"
    __table_args__ = (
        CheckConstraint("length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("length(summary) BETWEEN 1 AND 4000", name="summary_length"),
    )

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)  # NULL: national
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    withdrawn: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class AdoptionBreakdown(Record):
    __tablename__ = "adoption_breakdowns"
    __table_args__ = (
        CheckConstraint(check_in("reason", BreakdownReason), name="reason_known"),
        Index("uq_adoption_breakdowns_placement_child", "placement_id", "child_id", unique=True),
    )

    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    returned_to_care_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)


VERSIONED_TABLES = (
    "support_assessments",
    "asf_limits",
    "support_budgets",
    "passport_entitlements",
    "adoption_breakdowns",
)
IMMUTABLE_TABLES = ("asf_applications", "asf_lines", "support_budget_lines")
