from datetime import date

from pydantic import BaseModel, Field

from services.core.http import RecordDate, RequestModel


class PlacementCreate(RequestModel):
    sibling_group_ref: str = Field(max_length=32)
    household_ref: str = Field(max_length=32)
    placed_on: RecordDate


class PlacementUpdate(RequestModel):
    adoption_order_on: RecordDate


class PlacementRead(BaseModel):
    ref: str
    sibling_group_ref: str
    household_ref: str
    child_agency_ref: str
    household_agency_ref: str
    cross_agency: bool
    placed_on: date
    adoption_order_on: date | None
    version: int
