"""The kinds of record the audit trail names: one list, used by every `ctx.audit(...)` call
and by the record-history endpoint."""

from enum import StrEnum


class AuditResource(StrEnum):
    AGENCY = "agency"
    CHILD = "child"
    SIBLING_GROUP = "sibling_group"
    HOUSEHOLD = "household"
    PLACEMENT = "placement"
    LINK = "link"
    PROFILE = "profile"
    EXPRESSION_OF_INTEREST = "expression_of_interest"
    FEE_SCHEDULE = "fee_schedule"
    FEE_LINE = "fee_line"
    FEE_DISPUTE = "fee_dispute"
    RECONCILIATION = "reconciliation"
    MATCH_RUN = "match_run"
    MATCH_PROPOSAL = "match_proposal"
    SCORING_POLICY = "scoring_policy"
    AUDIT_TRAIL = "audit_trail"
    WEBHOOK = "webhook"
