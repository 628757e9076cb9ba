"""Responses of the audit trail and the record history."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class VersionedRecord(StrEnum):
    """The records whose history `GET /v1/audit/versions/{type}/{ref}` shows."""

    AGENCY = "agency"
    SIBLING_GROUP = "sibling_group"
    CHILD = "child"
    HOUSEHOLD = "household"
    PLACEMENT = "placement"
    LINK = "link"
    SUPPORT_ASSESSMENT = "support_assessment"
    ASF_LIMITS = "asf_limits"
    SUPPORT_BUDGET = "support_budget"
    PASSPORT_ENTITLEMENT = "passport_entitlement"
    ADOPTION_BREAKDOWN = "adoption_breakdown"
    FAMILY_PROFILE = "family_profile"


class AuditEventRead(BaseModel):
    occurred_at: datetime
    principal: str
    action: str
    resource_type: str
    resource_ref: str
    request_id: str
    route: str


class RecordVersionRead(BaseModel):
    version: int
    changed_at: datetime
    principal: str
    request_id: str
    data: dict[str, Any]
