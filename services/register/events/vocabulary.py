"""The codes of events and webhook deliveries (the tables' CHECK constraints list the same values)."""

from enum import StrEnum


class EventKind(StrEnum):
    """What happened that another agency must act on."""

    PROPOSAL_RECEIVED = "proposal_received"
    INTEREST_RECEIVED = "interest_received"
    LINK_REQUESTED = "link_requested"
    LINK_AGREED = "link_agreed"
    LINK_REFUSED = "link_refused"
    LINK_WITHDRAWN = "link_withdrawn"
    LINK_PANEL = "link_panel"
    LINK_DECIDED = "link_decided"
    PLACEMENT_RECORDED = "placement_recorded"
    PLACEMENT_DISRUPTED = "placement_disrupted"
    ADOPTION_ORDER_RECORDED = "adoption_order_recorded"
    INVOICE_RAISED = "invoice_raised"
    FAMILY_PROFILE_SUBMITTED = "family_profile_submitted"  # adopters sent it for approval


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # WEBHOOK_MAX_ATTEMPTS attempts, none answered 2xx
    CANCELLED = "cancelled"  # its webhook was disabled before it was delivered


def sql_values(enum: type[StrEnum]) -> str:
    """`'a', 'b'` for a CHECK constraint's IN list."""
    return ", ".join(f"'{member.value}'" for member in enum)
