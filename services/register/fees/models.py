"""Tables of interagency fees. Money is integer pence (BIGINT), never floating point.

- `fee_schedules`: the published amounts, per financial year and fee kind; versioned; a
  schedule with lines raised against it is never changed, only superseded from a later date.
- `fee_lines`: invoice lines; immutable (trigger `forbid_change`); corrections are credit
  notes. `(placement_id, event, month)` is unique, so a fee is raised exactly once however
  often the request is retried or by however many processes.
- `fee_disputes`: a payer's dispute of a line; an open dispute holds the line out of
  settlement.
- `reconciliations` and `reconciliation_lines`: a period's netting; a line belongs to at
  most one finalised reconciliation (unique), and finalised periods never overlap
  (exclusion constraint).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base
from services.register.models import Record, pg_enum
from services.register.vocabulary import FeeEvent, FeeKind, ReconciliationStatus


class FeeSchedule(Record):
    __tablename__ = "fee_schedules"
    __table_args__ = (
        Index("uq_fee_schedules_year_kind_from", "financial_year", "kind", "effective_from", unique=True),
        CheckConstraint("financial_year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("placement_share_num > 0 AND placement_share_num <= placement_share_den", name="share_range"),
        CheckConstraint(
            "one_child_pence > 0 AND two_children_pence > 0 AND three_children_pence > 0 "
            "AND four_or_more_children_pence > 0 AND monthly_pence > 0",
            name="amounts_positive",
        ),
        CheckConstraint(
            "effective_from >= make_date(financial_year, 4, 1) "
            "AND effective_from < make_date(financial_year + 1, 4, 1)",
            name="effective_in_year",
        ),
        CheckConstraint("london_weighting_percent BETWEEN 0 AND 100", name="london_weighting_range"),
    )

    financial_year: Mapped[int] = mapped_column(Integer)  # 2025 = 1 April 2025 to 31 March 2026
    kind: Mapped[FeeKind] = mapped_column(pg_enum(FeeKind, "fee_kind"))
    effective_from: Mapped[date] = mapped_column(Date)
    # Whole fee for the group, by number of children placed together; NULL = not published.
    one_child_pence: Mapped[int | None] = mapped_column(BigInteger)
    two_children_pence: Mapped[int | None] = mapped_column(BigInteger)
    three_children_pence: Mapped[int | None] = mapped_column(BigInteger)
    four_or_more_children_pence: Mapped[int | None] = mapped_column(BigInteger)
    # Share paid at placement, as an exact fraction (1/1 = in full; 2/3 = £18,000 of
    # £27,000); the rest at the adoption order or 12 months after placement, whichever first.
    placement_share_num: Mapped[int] = mapped_column(SmallInteger)
    placement_share_den: Mapped[int] = mapped_column(SmallInteger)
    monthly_pence: Mapped[int | None] = mapped_column(BigInteger)
    # Whether a monthly fee is owed from month 13 without an adoption order: it compensates
    # voluntary agencies, so only their schedules charge it.
    charges_monthly: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Added to the group fee when the payee agency is in London (councils: +10% since 2011).
    london_weighting_percent: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    # Amount fields that are documented defaults, not published figures (see `source`).
    defaulted: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    source: Mapped[str] = mapped_column(Text, server_default="")


class CpihRate(Base):
    """ONS CPIH 12-month rate to December, which uprates voluntary agencies' fees the next
    April; `applied` is the rate the rule used (the 2023 rise capped at 5%)."""

    __tablename__ = "fee_cpih_rates"

    calendar_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    december_rate_tenths: Mapped[int] = mapped_column(SmallInteger)
    applied_rate_tenths: Mapped[int] = mapped_column(SmallInteger)
    published: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)


class IffRule(Base):
    """The Inter-agency Fee Fund's rules for one financial year: which children are harder to
    place, and what share of the fee (up to a cap per child) is claimed back from the DfE."""

    __tablename__ = "iff_rules"
    __table_args__ = (
        CheckConstraint("share_num >= 0 AND share_num <= share_den AND share_den > 0", name="share_range"),
        CheckConstraint("cap_per_child_pence IS NULL OR cap_per_child_pence > 0", name="cap_positive"),
    )

    financial_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    min_age_years: Mapped[int] = mapped_column(SmallInteger)
    min_wait_months: Mapped[int] = mapped_column(SmallInteger)  # from entering care to placement
    counts_disabled: Mapped[bool] = mapped_column(Boolean)
    counts_sibling_group: Mapped[bool] = mapped_column(Boolean)
    counts_minority_ethnic: Mapped[bool] = mapped_column(Boolean)
    share_num: Mapped[int] = mapped_column(SmallInteger)
    share_den: Mapped[int] = mapped_column(SmallInteger)
    cap_per_child_pence: Mapped[int | None] = mapped_column(BigInteger)
    defaulted: Mapped[bool] = mapped_column(Boolean)  # the amounts are a documented default
    source: Mapped[str] = mapped_column(Text)


class FeeWaiver(Base):
    """A recorded decision that no fee is due for one placement (never changed)."""

    __tablename__ = "fee_waivers"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), unique=True)
    decision: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FeePayment(Base):
    """A payment (or part payment) of one netted transfer of a finalised reconciliation,
    recorded by the paying agency; never changed."""

    __tablename__ = "fee_payments"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("transfer_index >= 0", name="index_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    transfer_index: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    payment_reference: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FeeLine(Base):
    __tablename__ = "fee_lines"
    __table_args__ = (
        Index(
            "uq_fee_lines_event",
            "placement_id",
            "event",
            "month",
            unique=True,
            postgresql_where=text("event <> 'credit'"),
        ),
        CheckConstraint("(event = 'monthly') = (month > 0)", name="month_for_monthly"),
        CheckConstraint("payer_agency_id <> payee_agency_id", name="between_two_agencies"),
        CheckConstraint("(event = 'credit') = (credits_line_id IS NOT NULL)", name="credit_names_its_line"),
        CheckConstraint(
            "(event = 'credit' AND amount_pence < 0) OR (event <> 'credit' AND amount_pence > 0)",
            name="sign_matches_event",
        ),
        Index("ix_fee_lines_due_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("fee_schedules.id"))
    event: Mapped[FeeEvent] = mapped_column(pg_enum(FeeEvent, "fee_event"))
    # The month after placement a monthly fee is for (13, 14, ...); 0 for other events, so
    # the unique index treats "no month" as one value (NULLs would all be distinct).
    month: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    payer_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    payee_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[date] = mapped_column(Date)
    credits_line_id: Mapped[int | None] = mapped_column(ForeignKey("fee_lines.id"))
    reason: Mapped[str] = mapped_column(Text, server_default="")
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    raised_by: Mapped[str] = mapped_column(Text)


class FeeDispute(Base):
    __tablename__ = "fee_disputes"
    __table_args__ = (
        Index("uq_fee_disputes_open", "line_id", unique=True, postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("fee_lines.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str] = mapped_column(Text, server_default="")
    resolved_by: Mapped[str | None] = mapped_column(Text)


class Reconciliation(Record):
    __tablename__ = "reconciliations"
    __table_args__ = (
        CheckConstraint("period_start <= period_end", name="period_ordered"),
        CheckConstraint("(status = 'finalised') = (finalised_at IS NOT NULL)", name="finalised_when"),
        CheckConstraint("settled_at IS NULL OR status = 'finalised'", name="settled_when_finalised"),
    )

    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[ReconciliationStatus] = mapped_column(
        pg_enum(ReconciliationStatus, "reconciliation_status"), server_default=ReconciliationStatus.DRAFT.value
    )
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    request_hash: Mapped[str] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(Text)
    finalised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the last of its transfers was paid in full (shown as status `settled`).
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReconciliationLine(Base):
    """Which lines a reconciliation settles. Rows exist only for finalised ones, and a
    line is settled once: the primary key is the line."""

    __tablename__ = "reconciliation_lines"

    line_id: Mapped[int] = mapped_column(ForeignKey("fee_lines.id"), primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
