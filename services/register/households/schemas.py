from datetime import date
from typing import Self

from pydantic import BaseModel, Field, model_validator

from services.core.http import Language, PersonName, RecordDate, RefText, RequestModel
from services.register.needs import ContactLabel, Needs
from services.register.vocabulary import Ethnicity, HouseholdStatus, Region, Religion

NAMES = Field(min_length=1, max_length=2, description="One or two applicants")


class HouseholdCreate(RequestModel):
    applicant_names: list[PersonName] = NAMES
    approving_agency_ref: RefText
    approved_on: RecordDate
    approved_children: int = Field(ge=1, le=6)
    age_min_years: int = Field(ge=0, le=17)
    age_max_years: int = Field(ge=0, le=17)
    can_meet: Needs
    accepts_sibling_group: bool
    contact_openness: ContactLabel = "letterbox"
    region: Region
    latitude: float = Field(ge=49, le=56)
    longitude: float = Field(ge=-7, le=2)
    ethnicity: Ethnicity
    religion: Religion = Religion.NONE
    languages: list[Language] = Field(default_factory=list, max_length=10)
    profile_live: bool = False

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if self.age_min_years > self.age_max_years:
            raise ValueError("age_min_years must not exceed age_max_years")
        if any(not n.strip() for n in self.applicant_names):
            raise ValueError("applicant names must not be blank")
        return self


class HouseholdUpdate(RequestModel):
    applicant_names: list[PersonName] | None = Field(default=None, min_length=1, max_length=2)
    approved_children: int | None = Field(default=None, ge=1, le=6)
    age_min_years: int | None = Field(default=None, ge=0, le=17)
    age_max_years: int | None = Field(default=None, ge=0, le=17)
    can_meet: Needs | None = None
    accepts_sibling_group: bool | None = None
    contact_openness: ContactLabel | None = None
    region: Region | None = None
    latitude: float | None = Field(default=None, ge=49, le=56)
    longitude: float | None = Field(default=None, ge=-7, le=2)
    ethnicity: Ethnicity | None = None
    religion: Religion | None = None
    languages: list[Language] | None = Field(default=None, max_length=10)
    profile_live: bool | None = None
    status: HouseholdStatus | None = None


class HouseholdSummary(BaseModel):
    ref: str
    approving_agency_ref: str
    status: HouseholdStatus
    approved_on: date
    approved_children: int
    age_min_years: int
    age_max_years: int
    can_meet: Needs
    accepts_sibling_group: bool
    contact_openness: ContactLabel
    region: Region
    profile_live: bool


class HouseholdRead(HouseholdSummary):
    applicant_names: list[str]
    latitude: float
    longitude: float
    ethnicity: Ethnicity
    religion: Religion
    languages: list[str]
    version: int
