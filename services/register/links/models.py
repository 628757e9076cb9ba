"""Links: one sibling group and one household, from the request to the adoption order.

The database guarantees what must never be wrong whatever the code does: at most one
active link per sibling group (a partial unique index), step dates in order (CHECKs),
nothing deleted (triggers), every state kept (`record_versions`), and the steps
append-only.
"""

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Identity, Index, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base, TextEnum
from services.register.models import Record
from services.register.vocabulary import (
    ACTIVE_LINK_STATUSES,
    DisruptionReason,
    LinkOrigin,
    LinkStatus,
    PanelRecommendation,
)


def _values(members: Iterable[StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in members)


ACTIVE = f"status IN ({_values(ACTIVE_LINK_STATUSES)})"


class Link(Record):
    __tablename__ = "links"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(LinkStatus)})", name="status_known"),
        CheckConstraint(f"origin IN ({_values(LinkOrigin)})", name="origin_known"),
        CheckConstraint("origin = 'family_finder' OR origin_ref IS NOT NULL", name="origin_named"),
        CheckConstraint(
            f"panel_recommendation IS NULL OR panel_recommendation IN ({_values(PanelRecommendation)})",
            name="panel_recommendation_known",
        ),
        CheckConstraint(
            f"disruption_reason IS NULL OR disruption_reason IN ({_values(DisruptionReason)})",
            name="disruption_reason_known",
        ),
        # Each step on or after the one before it.
        CheckConstraint("agreed_on IS NULL OR agreed_on >= requested_on", name="agreed_after_request"),
        CheckConstraint("refused_on IS NULL OR refused_on >= requested_on", name="refused_after_request"),
        CheckConstraint("panel_on IS NULL OR panel_on >= agreed_on", name="panel_after_agreement"),
        CheckConstraint("decided_on IS NULL OR decided_on >= panel_on", name="decision_after_panel"),
        CheckConstraint("placed_on IS NULL OR placed_on >= decided_on", name="placement_after_decision"),
        CheckConstraint("adoption_order_on IS NULL OR adoption_order_on >= placed_on", name="order_after_placement"),
        CheckConstraint("disrupted_on IS NULL OR disrupted_on >= placed_on", name="disruption_after_placement"),
        CheckConstraint("withdrawn_on IS NULL OR withdrawn_on >= requested_on", name="withdrawal_after_request"),
        Index("uq_links_active_group", "sibling_group_id", unique=True, postgresql_where=text(ACTIVE)),
        Index("ix_links_household_active", "household_id", postgresql_where=text(ACTIVE)),
    )

    sibling_group_id: Mapped[int] = mapped_column(ForeignKey("sibling_groups.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    # The two sides, as agencies that pay and are paid (an LA's RAA): copied when the link
    # is requested, so the link and its fees name who was responsible then.
    child_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    household_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    status: Mapped[LinkStatus] = mapped_column(TextEnum(LinkStatus))
    origin: Mapped[LinkOrigin] = mapped_column(TextEnum(LinkOrigin))
    origin_ref: Mapped[str | None] = mapped_column(Text)
    origin_reason: Mapped[str] = mapped_column(Text, server_default="")
    requested_on: Mapped[date] = mapped_column(Date)
    agreed_on: Mapped[date | None] = mapped_column(Date)
    refused_on: Mapped[date | None] = mapped_column(Date)
    panel_on: Mapped[date | None] = mapped_column(Date)
    panel_recommendation: Mapped[PanelRecommendation | None] = mapped_column(TextEnum(PanelRecommendation))
    decided_on: Mapped[date | None] = mapped_column(Date)
    placed_on: Mapped[date | None] = mapped_column(Date)
    adoption_order_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    disrupted_on: Mapped[date | None] = mapped_column(Date)
    disruption_reason: Mapped[DisruptionReason | None] = mapped_column(TextEnum(DisruptionReason))
    end_reason: Mapped[str] = mapped_column(Text, server_default="")  # refusal, withdrawal or disruption
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"), unique=True)


class LinkStep(Base):
    """Each step of a link as it was recorded: append-only (trigger `forbid_change`)."""

    __tablename__ = "link_steps"
    __table_args__ = (CheckConstraint(f"step IN ({_values(LinkStatus)})", name="step_known"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), index=True)
    step: Mapped[LinkStatus] = mapped_column(TextEnum(LinkStatus))
    occurred_on: Mapped[date] = mapped_column(Date)
    by_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str] = mapped_column(Text, server_default="")
