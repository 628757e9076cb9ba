from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from services.core.http import STORABLE_TEXT, RecordDate, RefText, RequestModel
from services.matching.vocabulary import Decision, ProposalStatus, RunStatus
from services.register.vocabulary import Region, SiblingGroupStatus

Points = Annotated[int | None, Field(ge=0, le=1_000)]


class PolicyOverrides(RequestModel):
    """Settings of the scoring policy to change, each within its range (engine/policy.py,
    BOUNDS, which the engine enforces too): no weight can make a score overflow."""

    needs_points_per_level: Points = None
    needs_points_cap: Annotated[int | None, Field(ge=0, le=10_000)] = None
    age_fit_points: Points = None
    distance_points: Points = None
    distance_half_points_km: Annotated[int | None, Field(ge=1, le=2_000)] = None
    contact_points: Points = None
    mutual_interest_points: Points = None
    culture_points: Points = None
    language_points: Points = None
    religion_points: Points = None
    soft_fade_days: Annotated[int | None, Field(ge=1, le=3_650)] = None
    wait_points_per_30_days: Points = None
    wait_points_cap: Annotated[int | None, Field(ge=0, le=10_000)] = None
    sibling_group_points: Points = None
    aged_five_plus_points: Points = None
    disability_points: Points = None
    minority_ethnic_points: Points = None
    aged_five_plus_months: Annotated[int | None, Field(ge=0, le=216)] = None
    long_wait_days: Annotated[int | None, Field(ge=0, le=3_650)] = None
    max_distance_km: Annotated[int | None, Field(ge=0, le=2_000)] = None

    def changes(self) -> dict[str, int]:
        return self.model_dump(exclude_none=True)


class RunCreate(RequestModel):
    regions: list[Region] = Field(default_factory=list, max_length=9, description="Limit to these regions")
    agency_refs: list[RefText] = Field(default_factory=list, max_length=50, description="Limit to these agencies")
    lexicographic: bool = Field(default=False, description="First match as many 18-month waiters as possible")
    policy_overrides: PolicyOverrides = Field(
        default_factory=PolicyOverrides, description="A what-if run: settings that differ from the current policy"
    )


class RunRead(BaseModel):
    ref: str
    status: RunStatus
    requested_by: str
    scope: dict[str, list[str]]
    lexicographic: bool
    policy_version: int | None = Field(description="None for a what-if run; see policy_settings")
    policy_settings: dict[str, int]
    inputs: dict[str, Any] = Field(description="What the run saw: counts and a hash of every input")
    metrics: dict[str, Any]
    timings: dict[str, Any]
    error: str
    created_at: datetime
    finished_at: datetime | None


class ShortlistEntry(BaseModel):
    household_ref: str
    score: int
    components: dict[str, int]


class NotTopRead(BaseModel):
    top_household_ref: str
    top_score: int
    proposed_for_sibling_group_ref: str | None = Field(description="The unit that household was proposed for")
    swap_loss_points: int = Field(
        description="How far the national total of scores falls if the two units swap households"
    )


class ProposalRead(BaseModel):
    ref: str
    sibling_group_ref: str
    household_ref: str | None = Field(description="None: no household could be proposed in this run")
    score: int
    components: dict[str, int] = Field(description="The score, component by component")
    shortlist: list[ShortlistEntry] = Field(description="The best households for this unit, ranked")
    status: ProposalStatus
    reason: str
    decided_by: str | None
    decided_at: datetime | None
    link_ref: str | None = Field(default=None, description="Accepted now: the link requested from it")
    no_eligible_household: dict[str, int] | None = Field(
        default=None,
        description="No household could take this unit: how many households each hard rule rules out "
        "(a household failing several rules counts under each)",
    )
    not_top: NotTopRead | None = Field(
        default=None, description="The unit's top-scoring household went elsewhere: where, and what it would cost"
    )


class DecisionCreate(RequestModel):
    decision: Decision
    reason: str = Field(default="", max_length=2000)
    on: RecordDate | None = Field(default=None, description="The day of the decision (default: today)")


class Candidate(BaseModel):
    household_ref: str
    score: int
    components: dict[str, int]


class CandidatesRead(BaseModel):
    sibling_group_ref: str
    status: SiblingGroupStatus
    policy_version: int
    candidates: list[Candidate]
    no_eligible_household: dict[str, int] | None = Field(
        default=None, description="When there is no candidate: how many households each hard rule rules out"
    )


class PolicyCreate(RequestModel):
    settings: PolicyOverrides = Field(description="Settings that change from the current version")
    note: str = Field(min_length=3, max_length=500, pattern=STORABLE_TEXT)


class PolicyRead(BaseModel):
    version: int
    settings: dict[str, int]
    note: str
    created_by: str
    created_at: datetime
