from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class Figure(BaseModel):
    value: float | None = Field(description="None when suppressed or when no child counts towards it")
    children: int = Field(description="How many children the figure is computed from")
    suppressed: bool = Field(description="Too few children to show without risk of recognising one")
    threshold: float | None = None
    meets_threshold: bool | None = None


class WaitingStock(BaseModel):
    as_of: date
    children: int | None
    suppressed: bool
    days_waited: dict[str, int | None] = Field(description="Children by time waited; small counts suppressed")
    sibling_groups_percent: float | None
    aged_five_plus_percent: float | None
    disabled_percent: float | None
    minority_ethnic_percent: float | None


class Breakdowns(BaseModel):
    """Share of placed children whose placement ended (disrupted before the adoption order,
    or broke down after it) within 1, 2 and 5 years: of the children whose placement reached
    that anniversary in the period, so every child counted was followed for the whole time."""

    ended_within_1_year_percent: Figure
    ended_within_2_years_percent: Figure
    ended_within_5_years_percent: Figure


class Scorecard(BaseModel):
    level: Literal["national", "raa", "la"]
    agency_ref: str | None
    agency_name: str | None
    period: Literal["rolling_three_years", "financial_year"]
    period_start: date
    period_end: date
    a1_days_care_to_placement: Figure
    a2_days_authority_to_match: Figure
    a3_percent_placed_within_14_months: Figure
    waiting: WaitingStock
    breakdowns: Breakdowns
