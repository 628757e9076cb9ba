"""Scorecard thresholds: data per financial year (the published ones are loaded by the
migration); a figure for a later year is judged against the latest year's threshold."""

from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, Integer, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base


class ScorecardThreshold(Base):
    __tablename__ = "scorecard_thresholds"
    __table_args__ = (
        Index("uq_scorecard_thresholds_year_indicator", "financial_year", "indicator", unique=True),
        CheckConstraint("indicator IN ('A1', 'A2', 'A3')", name="indicator_known"),
        CheckConstraint("direction IN ('at_most', 'at_least')", name="direction_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    financial_year: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(Text)
    threshold: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    direction: Mapped[str] = mapped_column(Text)  # the figure meets it when at most / at least this
    source: Mapped[str] = mapped_column(Text)
