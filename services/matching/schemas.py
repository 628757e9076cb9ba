from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from services.core.http import STATED_TEXT, RecordDate, RefText, RequestModel
from services.matching.engine.policy import BOUNDS
from services.matching.vocabulary import Decision, ProposalStatus, RunStatus
from services.register.vocabulary import Region, SiblingGroupStatus


def _within_bounds(name: str) -> Any:
    """The range of one policy setting, read from the engine's BOUNDS (stated once)."""
    least, most = BOUNDS[name]
    return Field(ge=least, le=most)


class PolicyOverrides(RequestModel):
    """Settings of the scoring policy to change, each within its range (engine/policy.py,
    BOUNDS, which the engine enforces too): no weight can make a score overflow."""

    needs_points_per_level: Annotated[int | None, _within_bounds("needs_points_per_level")] = None
    needs_points_cap: Annotated[int | None, _within_bounds("needs_points_cap")] = None
    age_fit_points: Annotated[int | None, _within_bounds("age_fit_points")] = None
    distance_points: Annotated[int | None, _within_bounds("distance_points")] = None
    distance_half_points_km: Annotated[int | None, _within_bounds("distance_half_points_km")] = None
    contact_points: Annotated[int | None, _within_bounds("contact_points")] = None
    mutual_interest_points: Annotated[int | None, _within_bounds("mutual_interest_points")] = None
    culture_points: Annotated[int | None, _within_bounds("culture_points")] = None
    language_points: Annotated[int | None, _within_bounds("language_points")] = None
    religion_points: Annotated[int | None, _within_bounds("religion_points")] = None
    soft_fade_days: Annotated[int | None, _within_bounds("soft_fade_days")] = None
    wait_points_per_30_days: Annotated[int | None, _within_bounds("wait_points_per_30_days")] = None
    wait_points_cap: Annotated[int | None, _within_bounds("wait_points_cap")] = None
    sibling_group_points: Annotated[int | None, _within_bounds("sibling_group_points")] = None
    aged_five_plus_points: Annotated[int | None, _within_bounds("aged_five_plus_points")] = None
    disability_points: Annotated[int | None, _within_bounds("disability_points")] = None
    minority_ethnic_points: Annotated[int | None, _within_bounds("minority_ethnic_points")] = None
    aged_five_plus_months: Annotated[int | None, _within_bounds("aged_five_plus_months")] = None
    long_wait_days: Annotated[int | None, _within_bounds("long_wait_days")] = None
    max_distance_km: Annotated[int | None, _within_bounds("max_distance_km")] = None

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
    note: str = Field(min_length=3, max_length=500, pattern=STATED_TEXT)


class PolicyRead(BaseModel):
    version: int
    settings: dict[str, int]
    note: str
    created_by: str
    created_at: datetime
