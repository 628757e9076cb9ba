"""Requests and responses of the events feed and the webhooks."""

from datetime import datetime

from pydantic import BaseModel, Field

from services.core.http import Page, RequestModel
from services.register.events.models import SUBJECT_MAX_LENGTH, URL_MAX_LENGTH
from services.register.events.vocabulary import DeliveryStatus, EventKind

# A Standard Webhooks secret: "whsec_" and the base64 of 24 to 64 random bytes.
SECRET_PATTERN = r"^whsec_[A-Za-z0-9+/]{32,88}={0,2}$"


class EventRead(BaseModel):
    """References and codes only: what happened to which record, never who (no names,
    no dates of birth). Read the record itself, with your scopes, for the rest."""

    ref: str
    kind: EventKind
    agency_ref: str = Field(description="The agency the event is addressed to")
    subject_type: str = Field(max_length=SUBJECT_MAX_LENGTH, examples=["link"])
    subject_ref: str = Field(max_length=SUBJECT_MAX_LENGTH)
    data: dict[str, str | int | None]
    occurred_at: datetime


class EventFeed(Page[EventRead]):
    """A page of the feed, oldest first. Unlike other lists, `next_cursor` is set whenever
    the page has events (and echoes the cursor sent when it has none): keep it and send it
    back to receive only what is new. `has_more`: more events are ready now."""

    has_more: bool


class WebhookCreate(RequestModel):
    url: str = Field(min_length=8, max_length=URL_MAX_LENGTH, examples=["https://case-system.example/hooks/register"])
    secret: str | None = Field(
        default=None,
        max_length=100,
        pattern=SECRET_PATTERN,
        description="Standard Webhooks form, whsec_<base64 of 24-64 random bytes>; generated when absent",
    )
    agency_ref: str | None = Field(
        default=None, max_length=32, description="Whose events it receives; default: the caller's agency"
    )


class WebhookRead(BaseModel):
    ref: str
    agency_ref: str
    url: str
    active: bool
    created_at: datetime
    disabled_at: datetime | None
    version: int


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once, now: store it to verify the signatures")


class DeliveryRead(BaseModel):
    event_ref: str
    event_kind: EventKind
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When it will be tried next (pending deliveries only)")
    delivered_at: datetime | None
    created_at: datetime
