"""The kinds of record the audit trail names: one list, used by every `ctx.audit(...)` call
and by the record-history endpoint."""

from enum import StrEnum


class AuditResource(StrEnum):
    AGENCY = "agency"
    CHILD = "child"
    SIBLING_GROUP = "sibling_group"
    HOUSEHOLD = "household"
    ADOPTER_ACCOUNT = "adopter_account"
    FAMILY_PROFILE = "family_profile"
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
    AUDIT_TRAIL = "audit_events"  # a read of the trail itself (ref: the filter used)
    WEBHOOK = "webhook"
    SUPPORT_ASSESSMENT = "support_assessment"
    SUPPORT_RECORD = "support_record"  # a family's whole support record, as the family sees it
    ASF_LIMITS = "asf_limits"
    ASF_APPLICATION = "asf_application"
    ASF_ALLOWANCE = "asf_allowance"  # a child's use of the fund in a year (ref: the child's)
    SUPPORT_BUDGET = "support_budget"
    PASSPORT_ENTITLEMENT = "passport_entitlement"
    ADOPTION_BREAKDOWN = "adoption_breakdown"
    SUPPORT_REPORT = "support_report"
