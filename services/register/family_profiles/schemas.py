"""A household's profile in its adopters' own words: plain text only, bounded."""

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from services.core.http import STATED_TEXT, Language, RequestModel
from services.register.family_profiles.vocabulary import FamilyProfileState

NARRATIVE_MAX = 4000
OFFER_ITEMS_MAX = 12
OFFER_ITEM_MAX = 120
LANGUAGES_MAX = 10


def plain_text(value: str) -> str:
    """Line ends made `\\n`, control characters (NUL among them) dropped but for new lines and
    tabs, blanks around the whole trimmed. Markup is not interpreted: it is shown as typed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(c for c in value if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return re.sub(r"\n{3,}", "\n\n", value).strip()


def one_line(value: str) -> str:
    return " ".join(plain_text(value).split())


def _narrative(value: str) -> str:
    value = plain_text(value)
    if len(value) > NARRATIVE_MAX:
        raise ValueError(f"at most {NARRATIVE_MAX} characters")
    return value


def _offer_item(value: str) -> str:
    value = one_line(value)
    if not value:
        raise ValueError("must not be blank")
    if len(value) > OFFER_ITEM_MAX:
        raise ValueError(f"at most {OFFER_ITEM_MAX} characters")
    return value


# Raw ceilings first (a huge body is refused before it is cleaned), the real limits after.
Narrative = Annotated[str, Field(max_length=4 * NARRATIVE_MAX), AfterValidator(_narrative)]
OfferItem = Annotated[str, Field(max_length=4 * OFFER_ITEM_MAX), AfterValidator(_offer_item)]


class FamilyProfileWrite(RequestModel):
    narrative: Narrative = Field(description=f"Your family, in your own words (at most {NARRATIVE_MAX} characters)")
    what_we_offer: list[OfferItem] = Field(
        max_length=OFFER_ITEMS_MAX, description=f"Short things family finders look for (at most {OFFER_ITEMS_MAX})"
    )
    languages_spoken: list[Language] | None = Field(default=None, max_length=LANGUAGES_MAX)
    submit: bool = Field(default=False, description="Send it to your agency for approval")


class FamilyProfileReturn(RequestModel):
    reason: str = Field(
        min_length=3, max_length=2000, pattern=STATED_TEXT, description="What the adopters should change; they see it"
    )


class FamilyProfileRead(BaseModel):
    ref: str | None = Field(description="None until the adopters first save it")
    household_ref: str
    narrative: str
    what_we_offer: list[str]
    languages_spoken: list[str]
    state: FamilyProfileState
    returned_reason: str
    approved_at: datetime | None
    version: int
