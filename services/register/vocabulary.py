"""The register's fixed vocabularies.

Every enum here is also a PostgreSQL enum type (see the migrations), so the database
refuses a value the code does not know. Order matters where it says so: `NeedLevel` and
the `Need` taxonomy are read positionally by the matching engine.
"""

from enum import IntEnum, StrEnum


class Region(StrEnum):
    """England's nine regions (ITL1)."""

    NORTH_EAST = "north_east"
    NORTH_WEST = "north_west"
    YORKSHIRE_AND_THE_HUMBER = "yorkshire_and_the_humber"
    EAST_MIDLANDS = "east_midlands"
    WEST_MIDLANDS = "west_midlands"
    EAST_OF_ENGLAND = "east_of_england"
    LONDON = "london"
    SOUTH_EAST = "south_east"
    SOUTH_WEST = "south_west"


class AgencyKind(StrEnum):
    RAA = "raa"  # regional adoption agency
    LA = "la"  # local authority, always part of one RAA
    VAA = "vaa"  # voluntary adoption agency


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class Ethnicity(StrEnum):
    """ONS top-level ethnic groups, with White British apart because the published
    'minority ethnic' share counts every group except White British."""

    WHITE_BRITISH = "white_british"
    WHITE_OTHER = "white_other"
    MIXED = "mixed"
    ASIAN = "asian"
    BLACK = "black"
    OTHER = "other"

    @property
    def is_minority(self) -> bool:
        return self is not Ethnicity.WHITE_BRITISH


class Religion(StrEnum):
    NONE = "none"
    CHRISTIAN = "christian"
    MUSLIM = "muslim"
    HINDU = "hindu"
    SIKH = "sikh"
    JEWISH = "jewish"
    BUDDHIST = "buddhist"
    OTHER = "other"


class NeedLevel(IntEnum):
    """Ordered: a household that can meet `MEDIUM` can meet `LOW` and `NONE` too."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> "NeedLevel":
        return cls[label.upper()]


class Need(StrEnum):
    """The needs taxonomy, in a fixed order (column order of the engine's need arrays)."""

    PHYSICAL_DISABILITY = "physical_disability"
    LEARNING_DISABILITY = "learning_disability"
    DEVELOPMENTAL_UNCERTAINTY = "developmental_uncertainty"
    HEALTH_CONDITION = "health_condition"
    EMOTIONAL_BEHAVIOURAL = "emotional_behavioural"
    FOETAL_ALCOHOL_EXPOSURE = "foetal_alcohol_exposure"
    BIRTH_FAMILY_HISTORY = "birth_family_history"
    CONTACT = "contact"


NEEDS: tuple[Need, ...] = tuple(Need)

# A child counts as disabled (a published priority group) when either disability need is
# at least this level.
DISABILITY_NEEDS: tuple[Need, ...] = (Need.PHYSICAL_DISABILITY, Need.LEARNING_DISABILITY)
DISABILITY_THRESHOLD = NeedLevel.MEDIUM


class ContactPlan(IntEnum):
    """Ordered by how much the adoptive family takes on; a household states the most it
    is open to."""

    NONE = 0
    LETTERBOX = 1  # indirect, letters through the agency
    DIRECT_SIBLINGS = 2  # direct contact with siblings placed elsewhere
    DIRECT_BIRTH_FAMILY = 3  # direct contact with birth parents or relatives

    @property
    def label(self) -> str:
        return self.name.lower()


class SiblingGroupStatus(StrEnum):
    """Status of the unit of matching; every child of a group shares it."""

    WAITING = "waiting"
    LINKED = "linked"
    MATCHED = "matched"
    PLACED = "placed"
    WITHDRAWN = "withdrawn"


class HouseholdStatus(StrEnum):
    APPROVED = "approved"
    ON_HOLD = "on_hold"
    LINKED = "linked"
    MATCHED = "matched"
    WITHDRAWN = "withdrawn"


class InterestStatus(StrEnum):
    OPEN = "open"
    WITHDRAWN = "withdrawn"  # by the adopters
    ACCEPTED = "accepted"  # the child's agency will consider the household
    DECLINED = "declined"
    CLOSED = "closed"  # by the register, when the children are linked or leave it (see outcome)


class InterestOutcome(StrEnum):
    """Why the register closed an open expression of interest, in words adopters see."""

    LINKED_WITH_YOU = "linked_with_you"
    LINKED_ELSEWHERE = "linked_elsewhere"
    NO_LONGER_LOOKING = "no_longer_looking"  # kept for interests closed before left_register
    LEFT_REGISTER = "left_register"

    @property
    def explanation(self) -> str:
        return {
            InterestOutcome.LINKED_WITH_YOU: "Your agency and the child's agency are now talking about your family.",
            InterestOutcome.LINKED_ELSEWHERE: "These children are now linked with another family.",
            InterestOutcome.NO_LONGER_LOOKING: "The children's agency is no longer looking for a family for them.",
            InterestOutcome.LEFT_REGISTER: "These children are no longer waiting on the register.",
        }[self]


class LinkStatus(StrEnum):
    """Where a link between a sibling group and a household has got to (the rules of
    moving between them are `register/lifecycle.LINK_STEPS`)."""

    REQUESTED = "requested"  # the child's agency asked the household's agency
    AGREED = "agreed"  # the household's agency agreed: group and household linked
    REFUSED = "refused"  # the household's agency said no (the pair is not proposed again)
    PANEL = "panel"  # the matching panel has met
    DECIDED = "decided"  # the agency decision maker's match decision (scorecard A2)
    PLACED = "placed"  # the children moved in: the placement exists
    ADOPTED = "adopted"  # the adoption order is made
    WITHDRAWN = "withdrawn"  # stopped by either agency before the placement
    DISRUPTED = "disrupted"  # the placement ended before the adoption order


# A sibling group has at most one link in these; a household's are limited by its approval.
ACTIVE_LINK_STATUSES = (
    LinkStatus.REQUESTED,
    LinkStatus.AGREED,
    LinkStatus.PANEL,
    LinkStatus.DECIDED,
    LinkStatus.PLACED,
)


class LinkOrigin(StrEnum):
    """Who proposed the pairing."""

    PROPOSAL = "proposal"  # a match run's proposal, accepted
    INTEREST = "interest"  # the household's expression of interest, answered yes
    FAMILY_FINDER = "family_finder"  # a family finder's own choice (from the candidates), with a reason


class PanelRecommendation(StrEnum):
    RECOMMENDED = "recommended"
    NOT_RECOMMENDED = "not_recommended"


class DisruptionReason(StrEnum):
    """Why a placement ended before the adoption order (a short vocabulary, for the data)."""

    CHILD_NEEDS_NOT_MET = "child_needs_not_met"
    FAMILY_CIRCUMSTANCES = "family_circumstances"
    RELATIONSHIP_BREAKDOWN = "relationship_breakdown"
    SAFEGUARDING = "safeguarding"
    OTHER = "other"


class FeeKind(StrEnum):
    """Which published fee applies: by the kind of agency that approved the adopters."""

    LA_TO_LA = "la_to_la"  # to a local authority or RAA
    LA_TO_VAA = "la_to_vaa"  # to a voluntary adoption agency


class FeeEvent(StrEnum):
    """What raises a fee line. Each happens at most once per placement (monthly fees once
    per month number)."""

    PLACEMENT = "placement"  # the placement: the first instalment, or the whole fee
    COMPLETION = "completion"  # the rest: at the adoption order or 12 months, whichever first
    MONTHLY = "monthly"  # each month from the 13th while no adoption order is made
    CREDIT = "credit"  # a credit note correcting an earlier line


class ReconciliationStatus(StrEnum):
    DRAFT = "draft"
    FINALISED = "finalised"
