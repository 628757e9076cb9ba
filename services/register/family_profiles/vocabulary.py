from enum import StrEnum


class FamilyProfileState(StrEnum):
    DRAFT = "draft"  # being written by the adopters
    SUBMITTED = "submitted"  # sent to their agency for approval
    APPROVED = "approved"  # other agencies' family finders may read it
    RETURNED = "returned"  # the agency asked for changes (returned_reason)
