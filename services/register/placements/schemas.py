from datetime import date

from pydantic import BaseModel, Field


class PlacementRead(BaseModel):
    ref: str
    sibling_group_ref: str
    household_ref: str
    child_agency_ref: str
    household_agency_ref: str
    cross_agency: bool
    placed_on: date
    adoption_order_on: date | None
    ended_on: date | None = Field(description="Set when the placement ended before the adoption order")
    version: int
