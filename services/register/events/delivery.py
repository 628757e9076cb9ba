"""The webhook delivery worker: sends due deliveries, signed as the Standard Webhooks
specification says (https://www.standardwebhooks.com), retried with exponential backoff.

Each delivery is claimed, sent and recorded in one transaction that holds its row lock
(`SELECT ... FOR UPDATE SKIP LOCKED`), so any number of worker processes may run: no two
ever send one delivery at the same time, and a delivery recorded as delivered is never
claimed again. A worker killed after the receiver answered but before its commit leaves the
delivery pending, and it is sent again: receivers deduplicate on `webhook-id` (the event's
ref, the same on every attempt), as the specification asks.
"""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from services.core.database import create_sessionmaker, transaction
from services.core.sealing import Unsealable
from services.core.settings import Settings
from services.register.events import repository
from services.register.events.models import ERROR_MAX_LENGTH
from services.register.events.repository import ClaimedDelivery
from services.register.events.service import not_public, open_secret, secret_key, to_event_read
from services.register.events.vocabulary import DeliveryStatus

log = logging.getLogger(__name__)

WORKER_PRINCIPAL = "worker:webhooks"
USER_AGENT = "adoption-register-webhooks/1"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's bytes."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def backoff(attempts: int, settings: Settings) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ... capped."""
    seconds = settings.webhook_retry_base_seconds * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.webhook_retry_max_seconds))


def payload(claimed: ClaimedDelivery) -> bytes:
    """The body, serialised once: the signature covers exactly these bytes."""
    event = to_event_read(claimed.event, claimed.agency_ref)
    body = {
        "type": event.kind.value,
        "timestamp": event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": event.model_dump(mode="json"),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def refused_address(url: str) -> str | None:
    """Why a production worker must not send to this URL, or None. Every address the name
    resolves to must be public: a receiver's DNS changed to point at the cluster, a private
    network or the cloud metadata address would otherwise receive signed payloads and let
    the worker probe inside (server-side request forgery). The NetworkPolicy
    (egress-webhooks) enforces the same below the application."""
    host = urlsplit(url).hostname or ""
    if not_public(host):
        return "refused: not a public address"
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"refused: the host does not resolve ({exc.strerror or exc})"[:ERROR_MAX_LENGTH]
    if any(not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global for info in infos):
        return "refused: the host resolves to a local or private address"
    return None


async def _send(
    client: httpx.AsyncClient, claimed: ClaimedDelivery, at: datetime, settings: Settings
) -> tuple[int | None, str | None]:
    """(HTTP status, error): an error is None only for a 2xx answer."""
    if settings.environment == "production" and (refusal := await refused_address(claimed.url)):
        return None, refusal
    try:
        secret = open_secret(settings, claimed.stored_secret)
    except Unsealable:  # retried as any failure: the operator may restore the right key
        return None, "not sent: the webhook's secret does not open with this WEBHOOK_SECRET_KEY"
    body = payload(claimed)
    timestamp = int(at.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": claimed.event.ref,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, claimed.event.ref, timestamp, body),
    }
    try:
        response = await client.post(claimed.url, content=body, headers=headers)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # The kind of failure and its message; never the request (it carries the signature).
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX_LENGTH]
    if response.is_success:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _record(claimed: ClaimedDelivery, at: datetime, status: int | None, error: str | None, settings: Settings) -> None:
    delivery = claimed.delivery
    delivery.attempts += 1
    delivery.last_attempt_at = at
    delivery.last_status_code = status
    delivery.last_error = error
    if error is None:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = at
    elif delivery.attempts >= settings.webhook_max_attempts:
        delivery.status = DeliveryStatus.FAILED
        log.warning("webhook delivery %s failed for good after %d attempts", delivery.id, delivery.attempts)
    else:
        delivery.next_attempt_at = at + backoff(delivery.attempts, settings)


async def deliver_due(engine: AsyncEngine, settings: Settings, *, now: datetime | None = None) -> int:
    """Attempt every delivery due at `now` (default: the time of the call) once, and return
    how many attempts were made. A failed attempt is due again later than `now`, so one call
    always ends; run it in a loop (`adoption-register webhooks deliver`) or from cron."""
    due_by = now or datetime.now(UTC)
    sessionmaker = create_sessionmaker(engine)
    run_id = uuid.uuid4().hex[:12]

    async def work(client: httpx.AsyncClient) -> int:
        attempts = 0
        while True:
            async with transaction(sessionmaker, principal=WORKER_PRINCIPAL, request_id=f"webhooks-{run_id}") as s:
                claimed = await repository.claim_due(s, due_by)
                if claimed is None:
                    return attempts
                at = now or datetime.now(UTC)
                status, error = await _send(client, claimed, at, settings)
                _record(claimed, at, status, error, settings)
                attempts += 1

    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    # Redirects are not followed: the registered URL is the receiver, and a redirect to
    # somewhere else would carry the signed payload there.
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        counts = await asyncio.gather(*(work(client) for _ in range(settings.webhook_worker_concurrency)))
    return sum(counts)


async def run_worker(engine: AsyncEngine, settings: Settings, *, interval: float, stop: asyncio.Event) -> None:
    """`deliver_due` every `interval` seconds until `stop` is set (SIGTERM): the deliveries in
    flight finish and are recorded first. A failed round (the database restarting, say) is
    logged and the next one tried: nothing is lost, what was due stays due."""
    while not stop.is_set():
        try:
            attempted = await deliver_due(engine, settings)
        except Exception:
            log.exception("webhook delivery round failed; trying again in %s s", interval)
        else:
            if attempted:
                log.info("%d webhook deliveries attempted", attempted)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
