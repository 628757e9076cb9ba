"""Requests and responses of links. Every step carries the day it happened (`on`): not in
the future and not before the step before it."""

from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from services.core.http import RecordDate, RequestModel
from services.register.vocabulary import DisruptionReason, LinkOrigin, LinkStatus, PanelRecommendation

REF = Field(max_length=32, pattern=r"^[A-Za-z0-9-]+$")
REASON = Field(min_length=3, max_length=2000)
NOTE = Field(default="", max_length=2000)


class LinkCreate(RequestModel):
    """A link the child's agency asks for. (Accepting a match proposal makes one too:
    `POST /v1/matching/proposals/{ref}/decision`.)"""

    sibling_group_ref: str = REF
    household_ref: str = REF
    origin: Literal[LinkOrigin.INTEREST, LinkOrigin.FAMILY_FINDER] = Field(
        description="interest: the household's expression of interest, answered yes (name it in origin_ref); "
        "family_finder: your own choice, for example from the live candidates (give a reason)"
    )
    origin_ref: str | None = Field(default=None, max_length=32, description="The expression of interest's ref")
    reason: str = Field(default="", max_length=2000, description="Why this family (required for family_finder)")
    requested_on: RecordDate

    @model_validator(mode="after")
    def _origin_explained(self) -> Self:
        if self.origin is LinkOrigin.INTEREST and not self.origin_ref:
            raise ValueError("origin interest needs origin_ref: the expression of interest")
        if self.origin is LinkOrigin.FAMILY_FINDER and len(self.reason) < 3:
            raise ValueError("origin family_finder needs a reason")
        return self


class StepOn(RequestModel):
    on: RecordDate = Field(description="The day it happened")
    note: str = NOTE


class StepWithReason(RequestModel):
    on: RecordDate
    reason: str = REASON


class PanelStep(RequestModel):
    on: RecordDate = Field(description="The day the matching panel met")
    recommendation: PanelRecommendation
    note: str = NOTE


class DisruptionStep(RequestModel):
    on: RecordDate = Field(description="The day the placement ended")
    reason: DisruptionReason
    note: str = NOTE


class LinkStepRead(BaseModel):
    step: LinkStatus
    on: date
    by_agency_ref: str | None
    recorded_by: str
    recorded_at: datetime
    note: str


class LinkOriginRead(BaseModel):
    kind: LinkOrigin
    ref: str | None
    reason: str


class LinkRead(BaseModel):
    ref: str
    status: LinkStatus
    sibling_group_ref: str
    household_ref: str
    child_agency_ref: str = Field(description="The child's side (the agency that pays an interagency fee)")
    household_agency_ref: str = Field(description="The household's side")
    origin: LinkOriginRead
    requested_on: RecordDate
    agreed_on: date | None
    panel_on: date | None
    panel_recommendation: PanelRecommendation | None
    decided_on: date | None = Field(description="The agency decision maker's match decision (scorecard A2)")
    placed_on: date | None
    adoption_order_on: date | None
    ended_on: date | None = Field(description="Refused, withdrawn or disrupted on")
    disruption_reason: DisruptionReason | None
    end_reason: str
    placement_ref: str | None
    version: int
    steps: list[LinkStepRead]
