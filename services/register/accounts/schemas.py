from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from services.core.http import RequestModel

# Enough to refuse what is plainly not an address (the invitation proves the rest).
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")
]
AccountState = Literal["invited", "active", "disabled"]


class AdopterInvite(RequestModel):
    email: Email


class AdopterAccountRead(BaseModel):
    """An adopter's account as the household's agency sees it (never a password or a token)."""

    ref: str
    email: str
    household_ref: str
    state: AccountState
    invited_at: datetime
    activated_at: datetime | None
    disabled_at: datetime | None
