"""The register's own problems (rendered like every other by `services/core/errors.py`)."""

from services.core.errors import ProblemError


class IllegalTransition(ProblemError):
    status, slug, title = 409, "illegal-status-transition", "That status change is not allowed"


class SiblingGroupSplit(ProblemError):
    status, slug, title = 409, "sibling-group-split", "Siblings placed together cannot be separated here"
