"""Legal status transitions of the register's records: the one place they are decided.

Sibling groups and households change status only through links (`register/links/`), apart
from what an agency decides about its own records directly: putting a household on hold,
withdrawing a plan or an approval, taking a plan up again.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from services.register.errors import IllegalTransition
from services.register.vocabulary import HouseholdStatus, LinkStatus, SiblingGroupStatus

G = SiblingGroupStatus
SIBLING_GROUP_TRANSITIONS: dict[SiblingGroupStatus, frozenset[SiblingGroupStatus]] = {
    G.WAITING: frozenset({G.LINKED, G.WITHDRAWN}),
    # A link or a match can fall through: the children go back to waiting.
    G.LINKED: frozenset({G.MATCHED, G.WAITING, G.WITHDRAWN}),
    G.MATCHED: frozenset({G.PLACED, G.WAITING, G.WITHDRAWN}),
    # A placement that breaks down before the adoption order: the children wait again.
    G.PLACED: frozenset({G.WAITING}),
    # A plan can change back to adoption.
    G.WITHDRAWN: frozenset({G.WAITING}),
}
# What an agency may set on its own group directly (the rest follows its links).
SIBLING_GROUP_DIRECT = frozenset({G.WAITING, G.WITHDRAWN})

H = HouseholdStatus
HOUSEHOLD_TRANSITIONS: dict[HouseholdStatus, frozenset[HouseholdStatus]] = {
    H.APPROVED: frozenset({H.ON_HOLD, H.LINKED, H.WITHDRAWN}),
    H.ON_HOLD: frozenset({H.APPROVED, H.WITHDRAWN}),
    H.LINKED: frozenset({H.MATCHED, H.APPROVED, H.WITHDRAWN}),
    # After a disruption the household is put on hold while its agency reviews.
    H.MATCHED: frozenset({H.APPROVED, H.ON_HOLD, H.WITHDRAWN}),
    H.WITHDRAWN: frozenset(),
}
HOUSEHOLD_DIRECT = frozenset({H.APPROVED, H.ON_HOLD, H.WITHDRAWN})

L = LinkStatus
LINK_STEPS: dict[LinkStatus, frozenset[LinkStatus]] = {
    L.REQUESTED: frozenset({L.AGREED, L.REFUSED, L.WITHDRAWN}),
    L.AGREED: frozenset({L.PANEL, L.WITHDRAWN}),
    L.PANEL: frozenset({L.DECIDED, L.WITHDRAWN}),
    L.DECIDED: frozenset({L.PLACED, L.WITHDRAWN}),
    L.PLACED: frozenset({L.ADOPTED, L.DISRUPTED}),
    L.ADOPTED: frozenset(),
    L.REFUSED: frozenset(),
    L.WITHDRAWN: frozenset(),
    L.DISRUPTED: frozenset(),
}


S = TypeVar("S", bound=StrEnum)


def check_transition(kind: str, table: Mapping[S, frozenset[S]], current: S, new: S) -> None:
    if new == current:
        return
    if new not in table[current]:
        allowed = ", ".join(sorted(str(s) for s in table[current])) or "none"
        raise IllegalTransition(
            f"A {kind} cannot go from {current} to {new}; from {current} it can go to: {allowed}.",
            extra={"current_status": str(current), "requested_status": str(new)},
        )
