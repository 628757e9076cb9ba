from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.core.http import STATED_TEXT, RequestModel
from services.register.vocabulary import InterestOutcome, InterestStatus


class InterestAnswer(RequestModel):
    status: Literal["accepted", "declined"]
    reason: str = Field(
        min_length=3, max_length=2000, pattern=STATED_TEXT, description="Shown to the adopters and their agency"
    )


class InterestStaffRead(BaseModel):
    """What agency staff see: the child's agency and the household's own agency."""

    ref: str
    sibling_group_ref: str
    household_ref: str
    status: InterestStatus
    message: str
    answer_reason: str
    outcome: InterestOutcome | None = Field(description="Why the register closed it (status closed)")
    created_at: datetime
    answered_at: datetime | None
    version: int
