"""A household's own profile, in the adopters' words, for family finders of other agencies.

Versioned and never deleted like every record. The household's agency approves it (or returns
it with a reason); the approved text is kept beside the current one, so editing after
approval leaves the approved words visible to other agencies until the new ones are approved.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import TextEnum
from services.register.family_profiles.vocabulary import FamilyProfileState
from services.register.models import Record


class FamilyProfile(Record):
    __tablename__ = "family_profiles"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'submitted', 'approved', 'returned')", name="state_known"),
        CheckConstraint("length(narrative) <= 4000", name="narrative_length"),
        CheckConstraint("cardinality(what_we_offer) <= 12", name="what_we_offer_count"),
        CheckConstraint("(approved_at IS NULL) = (approved_narrative IS NULL)", name="approved_text_with_approval"),
    )

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), unique=True)
    narrative: Mapped[str] = mapped_column(Text, server_default="")
    what_we_offer: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    languages_spoken: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    state: Mapped[FamilyProfileState] = mapped_column(
        TextEnum(FamilyProfileState), server_default=FamilyProfileState.DRAFT.value
    )
    returned_reason: Mapped[str] = mapped_column(Text, server_default="")
    # The last approved text, what other agencies' family finders read.
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_narrative: Mapped[str | None] = mapped_column(Text)
    approved_what_we_offer: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    approved_languages_spoken: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    approved_version: Mapped[int | None] = mapped_column(Integer)


VERSIONED_TABLES = ("family_profiles",)
