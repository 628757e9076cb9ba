"""The matching service's statuses."""

from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    UNMATCHED = "unmatched"  # no eligible household in this run


class Decision(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
