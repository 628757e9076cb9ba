"""The words of adoption support. Each is stored as text with a CHECK constraint listing
the same values (see the migration), so the database refuses a value the code does not know."""

from enum import StrEnum


class AssessmentOutcome(StrEnum):
    SUPPORT_PLAN = "support_plan"  # needs found: a support plan says what will be provided
    NO_SUPPORT_NEEDED = "no_support_needed"


class AsfCategory(StrEnum):
    """What an Adoption Support Fund application pays for."""

    THERAPY = "therapy"
    SPECIALIST_ASSESSMENT = "specialist_assessment"  # needed before therapy can begin


class Allowance(StrEnum):
    """Which part of the fund a line of spend uses."""

    FAIR_ACCESS = "fair_access"  # the fair-access limit per child per year
    SPECIALIST_ASSESSMENT = "specialist_assessment"  # a separate allowance, in the years that have one
    MATCH_FUNDING = "match_funding"  # above the limit: shared between the fund and the authority


class Payer(StrEnum):
    FUND = "fund"
    AUTHORITY = "authority"


class MatchFundingCriterion(StrEnum):
    """The four criteria on which an authority may seek match funding above the limit
    (minister's letter of 25 January 2017)."""

    HIGH_RISK_OF_BREAKDOWN = "high_risk_of_breakdown"
    MANY_COMPLEX_CASES = "many_complex_cases"
    HARD_TO_PLACE = "hard_to_place"
    NO_AFFORDABLE_LOCAL_PROVISION = "no_affordable_local_provision"


class BudgetManager(StrEnum):
    """Who holds a personal budget and pays from it."""

    AUTHORITY = "authority"
    PROVIDER = "provider"
    FAMILY = "family"


class SupportCategory(StrEnum):
    """Types of support a personal budget pays for."""

    THERAPY = "therapy"
    SPECIALIST_ASSESSMENT = "specialist_assessment"
    PARENTING_SUPPORT = "parenting_support"
    PEER_SUPPORT = "peer_support"
    RESPITE = "respite"
    TRAINING = "training"
    EDUCATION_SUPPORT = "education_support"
    OTHER = "other"


class BreakdownReason(StrEnum):
    """Why a child returned to care after an adoption order."""

    CHILD_BEHAVIOUR = "child_behaviour"  # including child-to-parent violence
    FAMILY_RELATIONSHIPS = "family_relationships"
    PARENT_HEALTH = "parent_health"
    CHILD_NEEDS_RESIDENTIAL_CARE = "child_needs_residential_care"
    SAFEGUARDING = "safeguarding"
    OTHER = "other"


def check_in(column: str, values: type[StrEnum]) -> str:
    """The SQL of a CHECK that `column` holds one of the enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"
