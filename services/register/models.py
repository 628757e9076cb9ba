"""The register's tables: the system of record.

Rules the database itself guarantees (the API checks them first, for clear errors):
- no row of a record table is ever deleted (trigger `forbid_delete`);
- every insert and update is copied, whole, into `record_versions` (trigger
  `record_version`), with the principal and request that made it;
- `version` goes up by one on every update (SQLAlchemy's version counter, which also
  makes a concurrent update of the same row fail instead of overwriting it);
- codes, ranges and links are CHECK, UNIQUE and FOREIGN KEY constraints below.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from services.core.database import Base, TextEnum
from services.register.vocabulary import (
    NEEDS,
    AgencyKind,
    ContactPlan,
    Ethnicity,
    HouseholdStatus,
    InterestOutcome,
    InterestStatus,
    NeedLevel,
    Region,
    Religion,
    Sex,
    SiblingGroupStatus,
)


def pg_enum(enum_cls: type, name: str) -> Enum:
    """A native PostgreSQL enum that stores the members' values (not their names)."""
    return Enum(enum_cls, name=name, values_callable=lambda members: [m.value for m in members], validate_strings=True)


REGION = pg_enum(Region, "region")


class Record(Base):
    """A versioned, never-deleted record with a public reference."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


def need_column_name(need: str) -> str:
    return f"need_{need}"


def need_level_checks() -> tuple[CheckConstraint, ...]:
    return tuple(
        CheckConstraint(
            f"{need_column_name(n)} BETWEEN {NeedLevel.NONE} AND {NeedLevel.HIGH}", name=f"{need_column_name(n)}_level"
        )
        for n in NEEDS
    )


class NeedLevels:
    """One column per need in the taxonomy (levels 0-3, see `NeedLevel`): for a child the
    level of need, for a household the highest level it can meet."""

    need_physical_disability: Mapped[int] = mapped_column(SmallInteger)
    need_learning_disability: Mapped[int] = mapped_column(SmallInteger)
    need_developmental_uncertainty: Mapped[int] = mapped_column(SmallInteger)
    need_health_condition: Mapped[int] = mapped_column(SmallInteger)
    need_emotional_behavioural: Mapped[int] = mapped_column(SmallInteger)
    need_foetal_alcohol_exposure: Mapped[int] = mapped_column(SmallInteger)
    need_birth_family_history: Mapped[int] = mapped_column(SmallInteger)
    need_contact: Mapped[int] = mapped_column(SmallInteger)

    def needs(self) -> dict[str, NeedLevel]:
        return {n.value: NeedLevel(getattr(self, need_column_name(n))) for n in NEEDS}

    def set_needs(self, levels: dict[str, NeedLevel]) -> None:
        for need, level in levels.items():
            setattr(self, need_column_name(need), int(level))


class Agency(Record):
    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint("(kind = 'la') = (parent_raa_id IS NOT NULL)", name="la_has_parent_raa"),
        CheckConstraint("latitude BETWEEN 49 AND 56 AND longitude BETWEEN -7 AND 2", name="in_england"),
    )

    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[AgencyKind] = mapped_column(pg_enum(AgencyKind, "agency_kind"))
    region: Mapped[Region] = mapped_column(REGION)
    parent_raa_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    parent_raa: Mapped["Agency | None"] = relationship(remote_side="Agency.id", lazy="raise")


class SiblingGroup(Record):
    """The unit of matching: children who must be placed together (a single child is a
    group of one). Status lives here so a group's children can only move together."""

    __tablename__ = "sibling_groups"

    la_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # What adopters see instead of `ref`: a separate random reference, so nothing an
    # adopter holds can be linked to the case record.
    profile_ref: Mapped[str] = mapped_column(Text, unique=True)
    status: Mapped[SiblingGroupStatus] = mapped_column(
        pg_enum(SiblingGroupStatus, "sibling_group_status"), server_default=SiblingGroupStatus.WAITING.value
    )
    # The day of the match decision (scorecard A2), set when the group becomes matched.
    matched_on: Mapped[date | None] = mapped_column(Date)

    la: Mapped[Agency] = relationship(lazy="raise")
    children: Mapped[list["Child"]] = relationship(back_populates="sibling_group", lazy="raise", order_by="Child.id")


class Child(Record, NeedLevels):
    __tablename__ = "children"
    __table_args__ = (
        *need_level_checks(),
        CheckConstraint(
            "placement_order_on IS NOT NULL OR should_be_placed_on IS NOT NULL", name="has_authority_to_place"
        ),
        CheckConstraint("date_of_birth <= entered_care_on", name="born_before_care"),
        CheckConstraint(
            f"contact_plan BETWEEN {ContactPlan.NONE} AND {ContactPlan.DIRECT_BIRTH_FAMILY}", name="contact_plan_level"
        ),
        CheckConstraint("min_distance_km >= 0", name="min_distance_not_negative"),
        CheckConstraint("latitude BETWEEN 49 AND 56 AND longitude BETWEEN -7 AND 2", name="in_england"),
        CheckConstraint("length(first_name) > 0 AND length(surname) > 0", name="names_present"),
        Index("ix_children_waiting_since_id", "waiting_since", "id"),
    )

    sibling_group_id: Mapped[int] = mapped_column(ForeignKey("sibling_groups.id"), index=True)
    # Restricted fields: never shown to adopters, never logged.
    first_name: Mapped[str] = mapped_column(Text)
    surname: Mapped[str] = mapped_column(Text)
    date_of_birth: Mapped[date] = mapped_column(Date)
    birth_family_latitude: Mapped[float | None] = mapped_column(Float)
    birth_family_longitude: Mapped[float | None] = mapped_column(Float)
    contact_notes: Mapped[str] = mapped_column(Text, server_default="")

    sex: Mapped[Sex] = mapped_column(pg_enum(Sex, "sex"))
    ethnicity: Mapped[Ethnicity] = mapped_column(pg_enum(Ethnicity, "ethnicity"))
    religion: Mapped[Religion] = mapped_column(pg_enum(Religion, "religion"))
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    region: Mapped[Region] = mapped_column(REGION)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    entered_care_on: Mapped[date] = mapped_column(Date)
    placement_order_on: Mapped[date | None] = mapped_column(Date)
    should_be_placed_on: Mapped[date | None] = mapped_column(Date)
    # The day the child's wait for a family starts: the placement order, or for early
    # permanence the "should be placed" decision.
    waiting_since: Mapped[date] = mapped_column(
        Date, Computed("COALESCE(placement_order_on, should_be_placed_on)", persisted=True)
    )
    contact_plan: Mapped[int] = mapped_column(SmallInteger)
    excluded_regions: Mapped[list[Region]] = mapped_column(ARRAY(REGION), server_default="{}")
    min_distance_km: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    profile_text: Mapped[str] = mapped_column(Text, server_default="")
    profile_visible_to_adopters: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    sibling_group: Mapped[SiblingGroup] = relationship(back_populates="children", lazy="raise")


class Household(Record, NeedLevels):
    __tablename__ = "households"
    __table_args__ = (
        *need_level_checks(),
        CheckConstraint("cardinality(applicant_names) BETWEEN 1 AND 2", name="one_or_two_applicants"),
        CheckConstraint("approved_children BETWEEN 1 AND 6", name="approved_children_range"),
        CheckConstraint(
            "age_min_years >= 0 AND age_min_years <= age_max_years AND age_max_years <= 17", name="age_range"
        ),
        CheckConstraint(
            f"contact_openness BETWEEN {ContactPlan.NONE} AND {ContactPlan.DIRECT_BIRTH_FAMILY}",
            name="contact_openness_level",
        ),
        CheckConstraint("latitude BETWEEN 49 AND 56 AND longitude BETWEEN -7 AND 2", name="in_england"),
    )

    applicant_names: Mapped[list[str]] = mapped_column(ARRAY(Text))  # restricted
    approving_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    approved_on: Mapped[date] = mapped_column(Date)
    approved_children: Mapped[int] = mapped_column(SmallInteger)
    age_min_years: Mapped[int] = mapped_column(SmallInteger)
    age_max_years: Mapped[int] = mapped_column(SmallInteger)
    accepts_sibling_group: Mapped[bool] = mapped_column(Boolean)
    contact_openness: Mapped[int] = mapped_column(SmallInteger)
    region: Mapped[Region] = mapped_column(REGION)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    ethnicity: Mapped[Ethnicity] = mapped_column(pg_enum(Ethnicity, "ethnicity"))
    religion: Mapped[Religion] = mapped_column(pg_enum(Religion, "religion"))
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    profile_live: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[HouseholdStatus] = mapped_column(
        pg_enum(HouseholdStatus, "household_status"), server_default=HouseholdStatus.APPROVED.value
    )

    approving_agency: Mapped[Agency] = relationship(lazy="raise")


class Placement(Record):
    """A sibling group placed with a household. The agencies are copied at placement time:
    they say who was responsible then, whatever changes later (the fee depends on it)."""

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("adoption_order_on IS NULL OR adoption_order_on >= placed_on", name="order_after_placement"),
        CheckConstraint("ended_on IS NULL OR ended_on >= placed_on", name="ends_after_start"),
        # A group is in at most one current placement.
        Index(
            "uq_placements_current_group", "sibling_group_id", unique=True, postgresql_where=text("ended_on IS NULL")
        ),
    )

    sibling_group_id: Mapped[int] = mapped_column(ForeignKey("sibling_groups.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    child_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    household_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    placed_on: Mapped[date] = mapped_column(Date)
    adoption_order_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    sibling_group: Mapped[SiblingGroup] = relationship(lazy="raise")
    household: Mapped[Household] = relationship(lazy="raise")
    child_agency: Mapped[Agency] = relationship(foreign_keys=[child_agency_id], lazy="raise")
    household_agency: Mapped[Agency] = relationship(foreign_keys=[household_agency_id], lazy="raise")


class ExpressionOfInterest(Record):
    """An adopter household's interest in a child's (anonymised) profile. Answered by the
    child's agency; visible to the household's own agency too."""

    __tablename__ = "expressions_of_interest"
    __table_args__ = (
        # One open expression of interest per household and sibling group.
        Index(
            "uq_expressions_of_interest_open",
            "household_id",
            "sibling_group_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        CheckConstraint("length(message) <= 2000", name="message_length"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN "
            "('linked_with_you', 'linked_elsewhere', 'no_longer_looking', 'left_register')",
            name="outcome_known",
        ),
    )

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    sibling_group_id: Mapped[int] = mapped_column(ForeignKey("sibling_groups.id"), index=True)
    status: Mapped[InterestStatus] = mapped_column(
        pg_enum(InterestStatus, "interest_status"), server_default=InterestStatus.OPEN.value
    )
    message: Mapped[str] = mapped_column(Text, server_default="")
    answer_reason: Mapped[str] = mapped_column(Text, server_default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the register closes the interest (status closed): what the adopters are told.
    outcome: Mapped[InterestOutcome | None] = mapped_column(TextEnum(InterestOutcome))


VERSIONED_TABLES = ("agencies", "sibling_groups", "children", "households", "placements", "expressions_of_interest")
