"""What adopters may see. These schemas are separate from the staff ones on purpose and
contain no restricted field: no names, no date of birth, no local authority or address,
no birth-family details, no case notes, no reference that links to a case record."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.core.http import RequestModel
from services.register.needs import ContactLabel, Needs
from services.register.vocabulary import Ethnicity, InterestOutcome, InterestStatus, Region, Sex

AgeBand = Literal["0-1", "2-4", "5-7", "8-10", "11-17"]
WaitBand = Literal["under 6 months", "6-12 months", "12-18 months", "18 months or more"]


class ChildProfile(BaseModel):
    age_band: AgeBand
    sex: Sex
    ethnicity: Ethnicity
    needs: Needs
    about: str = Field(description="Written by the family finder for adopters")


class ProfileRead(BaseModel):
    ref: str = Field(description="The profile's own reference (not a case reference)")
    region: Region
    sibling_group_size: int
    waiting: WaitBand
    contact_plan: ContactLabel
    children: list[ChildProfile]


class InterestCreate(RequestModel):
    message: str = Field(default="", max_length=2000, description="A short note to the child's family finder")


class InterestRead(BaseModel):
    ref: str
    profile_ref: str
    status: InterestStatus
    answer_reason: str = Field(description="The child's agency's reason, in its words, when it answered")
    outcome: InterestOutcome | None = Field(description="Why the register closed it (status closed)")
    outcome_explanation: str | None
    created_at: datetime
    answered_at: datetime | None
    version: int
