"""Legal status transitions of the register's records: the one place they are decided."""

from services.register.errors import IllegalTransition
from services.register.vocabulary import HouseholdStatus, SiblingGroupStatus

G = SiblingGroupStatus
SIBLING_GROUP_TRANSITIONS: dict[SiblingGroupStatus, frozenset[SiblingGroupStatus]] = {
    G.WAITING: frozenset({G.LINKED, G.WITHDRAWN}),
    # A link or a match can fall through: the children go back to waiting.
    G.LINKED: frozenset({G.MATCHED, G.WAITING, G.WITHDRAWN}),
    G.MATCHED: frozenset({G.PLACED, G.WAITING, G.WITHDRAWN}),
    # Placed is reached only by recording a placement, and is final in this register.
    G.PLACED: frozenset(),
    # A plan can change back to adoption.
    G.WITHDRAWN: frozenset({G.WAITING}),
}

H = HouseholdStatus
HOUSEHOLD_TRANSITIONS: dict[HouseholdStatus, frozenset[HouseholdStatus]] = {
    H.APPROVED: frozenset({H.ON_HOLD, H.LINKED, H.WITHDRAWN}),
    H.ON_HOLD: frozenset({H.APPROVED, H.WITHDRAWN}),
    H.LINKED: frozenset({H.MATCHED, H.APPROVED, H.WITHDRAWN}),
    H.MATCHED: frozenset({H.APPROVED, H.WITHDRAWN}),
    H.WITHDRAWN: frozenset(),
}


def check_transition(kind: str, table: dict, current: object, new: object) -> None:
    if new == current:
        return
    if new not in table[current]:
        allowed = ", ".join(sorted(str(s) for s in table[current])) or "none"
        raise IllegalTransition(
            f"A {kind} cannot go from {current} to {new}; from {current} it can go to: {allowed}.",
            extra={"current_status": str(current), "requested_status": str(new)},
        )
