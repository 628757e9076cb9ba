from datetime import date
from typing import Self

from pydantic import BaseModel, Field, model_validator

from services.core.http import Language, RecordDate, RefText, RequestModel
from services.register.needs import ContactLabel, Needs
from services.register.vocabulary import Ethnicity, Region, Religion, Sex, SiblingGroupStatus

NAME = Field(min_length=1, max_length=100)
LANGUAGES: list[str] = Field(default_factory=list, max_length=10)


class ChildFields(RequestModel):
    date_of_birth: RecordDate
    sex: Sex
    ethnicity: Ethnicity
    religion: Religion = Religion.NONE
    languages: list[Language] = LANGUAGES
    region: Region
    latitude: float = Field(ge=49, le=56, description="Approximate (about 1 km): rounded on storage")
    longitude: float = Field(ge=-7, le=2)
    entered_care_on: RecordDate
    placement_order_on: RecordDate | None = None
    should_be_placed_on: RecordDate | None = Field(default=None, description="Early permanence decision")
    needs: Needs
    contact_plan: ContactLabel = "letterbox"
    contact_notes: str = Field(default="", max_length=4000)
    birth_family_latitude: float | None = Field(default=None, ge=49, le=56)
    birth_family_longitude: float | None = Field(default=None, ge=-7, le=2)
    excluded_regions: list[Region] = Field(default_factory=list, max_length=9)
    min_distance_km: int = Field(default=0, ge=0, le=500)
    profile_text: str = Field(default="", max_length=4000)
    profile_visible_to_adopters: bool = False


class ChildCreate(ChildFields):
    first_name: str = NAME
    surname: str = NAME
    la_ref: RefText | None = Field(default=None, description="Responsible local authority (new group of one)")
    sibling_group_ref: RefText | None = Field(default=None, description="Join this waiting sibling group")

    @model_validator(mode="after")
    def _one_home(self) -> Self:
        if (self.la_ref is None) == (self.sibling_group_ref is None):
            raise ValueError("give exactly one of la_ref (a new group of one) or sibling_group_ref")
        return self


class ChildUpdate(RequestModel):
    """Only the fields sent change. Status is the sibling group's: change it there."""

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    surname: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: RecordDate | None = None
    sex: Sex | None = None
    ethnicity: Ethnicity | None = None
    religion: Religion | None = None
    languages: list[Language] | None = Field(default=None, max_length=10)
    region: Region | None = None
    latitude: float | None = Field(default=None, ge=49, le=56)
    longitude: float | None = Field(default=None, ge=-7, le=2)
    entered_care_on: RecordDate | None = None
    placement_order_on: RecordDate | None = None
    should_be_placed_on: RecordDate | None = None
    needs: Needs | None = None
    contact_plan: ContactLabel | None = None
    contact_notes: str | None = Field(default=None, max_length=4000)
    birth_family_latitude: float | None = Field(default=None, ge=49, le=56)
    birth_family_longitude: float | None = Field(default=None, ge=-7, le=2)
    excluded_regions: list[Region] | None = Field(default=None, max_length=9)
    min_distance_km: int | None = Field(default=None, ge=0, le=500)
    profile_text: str | None = Field(default=None, max_length=4000)
    profile_visible_to_adopters: bool | None = None
    sibling_group_ref: RefText | None = Field(default=None, description="Move to this waiting group")


class ChildSummary(BaseModel):
    """A row of the family finder's list: no names, no date of birth, no birth family."""

    ref: str
    sibling_group_ref: str
    sibling_group_size: int
    status: SiblingGroupStatus
    la_ref: str
    raa_ref: str
    region: Region
    age_years: int
    sex: Sex
    ethnicity: Ethnicity
    needs: Needs
    waiting_since: date
    days_waiting: int = Field(description="From the placement order to today, or to the placement once placed")
    profile_visible_to_adopters: bool


class ChildRead(ChildSummary):
    """The full record. Every read of it is audited."""

    first_name: str
    surname: str
    date_of_birth: date
    religion: Religion
    languages: list[str]
    latitude: float
    longitude: float
    entered_care_on: date
    placement_order_on: date | None
    should_be_placed_on: date | None
    contact_plan: ContactLabel
    contact_notes: str
    birth_family_latitude: float | None
    birth_family_longitude: float | None
    excluded_regions: list[Region]
    min_distance_km: int
    profile_text: str
    version: int


class SiblingGroupCreate(RequestModel):
    child_refs: list[RefText] = Field(min_length=2, max_length=8, description="Waiting children of one LA")


class SiblingGroupUpdate(RequestModel):
    status: SiblingGroupStatus


class SiblingGroupRead(BaseModel):
    ref: str
    status: SiblingGroupStatus
    la_ref: str
    raa_ref: str
    child_refs: list[str]
    size: int
    version: int
