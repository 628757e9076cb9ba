"""Webhook deliveries to real receivers on loopback, against a database whose writes commit:
signatures checked as the Standard Webhooks specification says, retries with backoff, a
disabled webhook left alone, and two worker processes delivering each event once."""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
import uuid
from asyncio.subprocess import PIPE
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from services.core.errors import InvalidInput
from services.core.settings import Settings
from services.register.events.delivery import deliver_due, sign
from services.register.events.service import EventKind, check_url, emit, not_public, seal_stored_secrets
from tests.factories import add_agencies
from tests.fixtures.database import Databases
from tests.fixtures.tokens import PRODUCTION

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

ROOT = Path(__file__).resolve().parents[3]
TOLERANCE_SECONDS = 5 * 60  # the specification's suggested replay window


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> bool:
    """A receiver's check, written from the specification (not from the sender's code):
    HMAC-SHA256 keyed with the base64-decoded secret over "{id}.{timestamp}.{body}", any of
    the space-separated "v1,<base64>" signatures, and a timestamp within the window."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    signatures = [s.split(",", 1) for s in headers["webhook-signature"].split(" ")]
    valid = any(v == "v1" and hmac.compare_digest(sig.encode(), expected) for v, sig in signatures)
    return valid and abs(now - int(timestamp)) <= TOLERANCE_SECONDS


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that verifies every request and answers from a script
    (then 200): a receiver that fails and then recovers."""

    secret: str
    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = verify(receiver.secret, headers, body, time.time())
                time.sleep(receiver.delay)
                with lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.received.append(
                        {"id": headers["webhook-id"], "verified": verified, "body": json.loads(body), "status": status}
                    )
                self.send_response(status if verified else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/register"

    def ids(self) -> list[str]:
        return [r["id"] for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook_database(databases: Databases) -> Iterator[str]:
    """A database of this module's own: the workers deliver everything due in it."""
    url = databases.create("migrated", "webhooks")
    yield url
    databases.drop(url)


@dataclass
class World:
    client: httpx.AsyncClient
    engine: AsyncEngine
    agencies: dict[str, int]
    prefix: str
    receivers: list[Receiver]

    async def webhook(self, auth, agency: str = "RAA-N", **receiver_args: Any) -> tuple[dict[str, Any], Receiver]:
        receiver = Receiver(secret="", **receiver_args)
        self.receivers.append(receiver)
        response = await self.client.post(
            "/v1/webhooks", json={"url": receiver.url}, headers=auth("webhooks:write", agency=self.prefix + agency)
        )
        assert response.status_code == 201, response.text
        created = response.json()
        receiver.secret = created["secret"]  # the one the register made, as an agency would store it
        return created, receiver

    async def emit(self, agency: str, count: int = 1, kind: EventKind = EventKind.LINK_REQUESTED) -> list[str]:
        async with AsyncSession(self.engine) as s, s.begin():
            for i in range(count):
                await emit(
                    s,
                    agency_id=self.agencies[self.prefix + agency],
                    kind=kind,
                    subject_type="link",
                    subject_ref=f"LK-{agency}-{i}",
                    data={"sibling_group_ref": "SG-1", "household_ref": "H-1"},
                )
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT ref FROM events WHERE agency_id = :a ORDER BY id DESC LIMIT :n"),
                {"a": self.agencies[self.prefix + agency], "n": count},
            )
            return [r for (r,) in rows][::-1]

    async def log(self, auth, webhook: dict[str, Any], agency: str = "RAA-N") -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/v1/webhooks/{webhook['ref']}/deliveries",
            params={"limit": 200},
            headers=auth("webhooks:write", agency=self.prefix + agency),
        )
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture
async def world(make_app, webhook_database: str) -> AsyncIterator[World]:
    engine = create_async_engine(webhook_database, pool_size=10)
    prefix = f"W{uuid.uuid4().hex[:6].upper()}-"
    async with engine.connect() as conn:
        agencies = await add_agencies(conn, prefix=prefix)
        await conn.commit()
    app = await make_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        w = World(client=client, engine=engine, agencies=agencies, prefix=prefix, receivers=[])
        yield w
    for receiver in w.receivers:
        receiver.close()
    await engine.dispose()


def worker_settings(**overrides: Any) -> Settings:
    return Settings(**{"environment": "test", "webhook_timeout_seconds": 5, **overrides})


def test_the_signature_is_the_standard_webhooks_one():
    # The specification's published test vector; a receiver using any of its libraries agrees.
    secret, msg_id, timestamp, body = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    signature = sign(secret, msg_id, timestamp, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    assert verify(secret, headers, body, timestamp)
    assert not verify(secret, headers, body + b" ", timestamp)  # a changed body
    assert not verify(secret, {**headers, "webhook-id": "msg_other"}, body, timestamp)
    assert not verify(secret, headers, body, timestamp + TOLERANCE_SECONDS + 1)  # a replay, later


async def test_deliveries_are_signed_and_sent_once(world, auth):
    hook, receiver = await world.webhook(auth, "RAA-N")
    own = await world.emit("RAA-N", 3)
    from_la = await world.emit("LA-N1", 1, EventKind.INTEREST_RECEIVED)  # an RAA receives its LAs' events
    await world.emit("RAA-S", 2)  # another region's: never sent here

    attempted = await deliver_due(world.engine, worker_settings())
    assert attempted >= 4
    assert sorted(receiver.ids()) == sorted(own + from_la)
    assert all(r["verified"] for r in receiver.received)
    first = next(r["body"] for r in receiver.received if r["id"] == from_la[0])
    assert first["type"] == "interest_received" and first["timestamp"].endswith("Z")
    assert first["data"]["ref"] == from_la[0] and first["data"]["agency_ref"] == world.prefix + "LA-N1"
    assert set(first["data"]) == {"ref", "kind", "agency_ref", "subject_type", "subject_ref", "data", "occurred_at"}

    await deliver_due(world.engine, worker_settings())  # nothing is sent twice
    assert len(receiver.received) == 4
    log = await world.log(auth, hook)
    assert {(d["status"], d["attempts"], d["last_status_code"]) for d in log} == {("delivered", 1, 200)}
    assert all(d["delivered_at"] and d["next_attempt_at"] is None for d in log)


async def stored_secret(world: World, hook: dict[str, Any]) -> str:
    async with world.engine.connect() as conn:
        return await conn.scalar(
            text("SELECT s.secret FROM webhook_secrets s JOIN webhooks w ON w.id = s.webhook_id WHERE w.ref = :r"),
            {"r": hook["ref"]},
        )


async def test_secrets_are_sealed_at_rest_and_a_worker_with_another_key_sends_nothing(world, auth):
    hook, receiver = await world.webhook(auth, "VAA-1")
    stored = await stored_secret(world, hook)
    assert stored.startswith("sealed:") and receiver.secret.removeprefix("whsec_") not in stored
    [event] = await world.emit("VAA-1")
    await deliver_due(world.engine, worker_settings(webhook_secret_key="another key than the one it was sealed with"))
    assert receiver.ids() == []
    [entry] = await world.log(auth, hook, "VAA-1")
    assert entry["status"] == "pending" and "WEBHOOK_SECRET_KEY" in entry["last_error"]
    async with world.engine.begin() as conn:  # its retry is due
        await conn.execute(
            text(
                "UPDATE webhook_deliveries SET next_attempt_at = now() "
                "WHERE event_id = (SELECT id FROM events WHERE ref = :e)"
            ),
            {"e": event},
        )
    await deliver_due(world.engine, worker_settings())  # the right key again
    assert receiver.ids() == [event] and all(r["verified"] for r in receiver.received)


async def test_secrets_stored_before_sealing_still_sign_and_seal_secrets_seals_them(world, auth):
    hook, receiver = await world.webhook(auth, "VAA-1")
    async with world.engine.begin() as conn:  # as a register stored it before secrets were sealed
        await conn.execute(
            text(
                "UPDATE webhook_secrets SET secret = :plain WHERE webhook_id = (SELECT id FROM webhooks WHERE ref = :r)"
            ),
            {"plain": receiver.secret, "r": hook["ref"]},
        )
    first = await world.emit("VAA-1")
    await deliver_due(world.engine, worker_settings())
    assert receiver.ids() == first
    async with AsyncSession(world.engine) as session, session.begin():
        assert await seal_stored_secrets(session, worker_settings()) >= 1
    assert (await stored_secret(world, hook)).startswith("sealed:")
    second = await world.emit("VAA-1")
    await deliver_due(world.engine, worker_settings())
    assert receiver.ids() == first + second and all(r["verified"] for r in receiver.received)


def test_production_needs_a_webhook_secret_key():
    production = {k: v for k, v in PRODUCTION.items() if k != "webhook_secret_key"}
    with pytest.raises(ValueError, match="WEBHOOK_SECRET_KEY"):
        Settings(**production)
    assert Settings(**production, webhook_secret_key="k" * 32).webhook_secret_key is not None


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("[::1]", True),
        ("10.2.3.4", True),
        ("192.168.0.9", True),
        ("169.254.169.254", True),  # a cloud's metadata service
        ("localhost", True),
        ("hooks.localhost", True),
        ("100.64.0.1", True),  # carrier-grade NAT: not global
        ("93.184.215.14", False),
        ("case-system.example.org", False),  # a name: its addresses are checked when sent
    ],
)
def test_production_webhooks_must_name_a_public_host(host, local):
    assert not_public(host) is local
    url = f"https://{host}/hooks"
    if local:
        with pytest.raises(InvalidInput):
            check_url(url, "production")
    else:
        check_url(url, "production")
    check_url(url, "test")  # a developer's own receiver on this machine is allowed outside production


async def test_a_production_worker_sends_nothing_to_a_local_address(world, auth):
    # Registered where local receivers are allowed, then delivered by a production worker: a
    # name that has come to resolve to a private address is refused in the same way.
    hook, receiver = await world.webhook(auth, "RAA-S")
    await world.emit("RAA-S", 1)
    production = worker_settings(**PRODUCTION)
    assert await deliver_due(world.engine, production) >= 1
    assert receiver.received == []
    (delivery,) = await world.log(auth, hook, "RAA-S")
    assert delivery["status"] == "pending" and delivery["last_status_code"] is None
    assert delivery["last_error"].startswith("refused:")


async def test_a_failing_receiver_gets_the_event_again_until_it_recovers(world, auth):
    hook, receiver = await world.webhook(auth, "VAA-1", script=[500, 500])
    (event,) = await world.emit("VAA-1")
    settings = worker_settings(webhook_retry_base_seconds=60)
    t0 = datetime.now(UTC)

    async def mine() -> dict[str, Any]:
        (delivery,) = [d for d in await world.log(auth, hook, "VAA-1") if d["event_ref"] == event]
        return delivery

    await deliver_due(world.engine, settings, now=t0)
    first = await mine()
    assert (first["status"], first["attempts"], first["last_status_code"], first["last_error"]) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert datetime.fromisoformat(first["next_attempt_at"]) == t0 + timedelta(seconds=60)
    await deliver_due(world.engine, settings, now=t0 + timedelta(seconds=59))  # not due yet
    assert len(receiver.received) == 1
    await deliver_due(world.engine, settings, now=t0 + timedelta(seconds=60))
    second = await mine()
    assert second["attempts"] == 2  # and the wait doubles
    assert datetime.fromisoformat(second["next_attempt_at"]) == t0 + timedelta(seconds=60 + 120)
    await deliver_due(world.engine, settings, now=t0 + timedelta(seconds=180))
    third = await mine()
    assert (third["status"], third["attempts"], third["last_status_code"], third["last_error"]) == (
        "delivered",
        3,
        200,
        None,
    )
    # The same message three times: one webhook-id, signed afresh each time.
    assert receiver.ids() == [event] * 3 and [r["status"] for r in receiver.received] == [500, 500, 200]
    assert all(r["verified"] for r in receiver.received)
    await deliver_due(world.engine, settings, now=t0 + timedelta(hours=1))
    assert len(receiver.received) == 3


async def test_retries_end_after_the_last_attempt_and_the_wait_is_capped(world, auth):
    hook, receiver = await world.webhook(auth, "LA-S1", script=[503] * 10)
    (event,) = await world.emit("LA-S1")
    settings = worker_settings(webhook_retry_base_seconds=60, webhook_retry_max_seconds=100, webhook_max_attempts=3)
    at = datetime.now(UTC)
    waits = []
    for _ in range(5):
        await deliver_due(world.engine, settings, now=at)
        (delivery,) = await world.log(auth, hook, "LA-S1")
        if delivery["next_attempt_at"] is None:
            break
        next_at = datetime.fromisoformat(delivery["next_attempt_at"])
        waits.append((next_at - at).total_seconds())
        at = next_at
    assert waits == [60, 100]  # 60, then 120 capped at 100
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("failed", 3, 503)
    assert receiver.ids() == [event] * 3


async def test_a_disabled_webhook_gets_nothing_new(world, auth):
    hook, receiver = await world.webhook(auth, "RAA-S")
    (delivered,) = await world.emit("RAA-S")
    await deliver_due(world.engine, worker_settings())
    assert receiver.ids() == [delivered]
    (waiting,) = await world.emit("RAA-S")  # sent before the disabling, not yet delivered
    headers = auth("webhooks:write", agency=world.prefix + "RAA-S")
    etag = (await world.client.get(f"/v1/webhooks/{hook['ref']}", headers=headers)).headers["ETag"]
    disabled = await world.client.post(f"/v1/webhooks/{hook['ref']}/disable", headers={**headers, "If-Match": etag})
    assert disabled.status_code == 200, disabled.text
    await world.emit("RAA-S", 2)
    await deliver_due(world.engine, worker_settings())
    assert receiver.ids() == [delivered]
    assert [(d["event_ref"], d["status"]) for d in await world.log(auth, hook, "RAA-S")] == [
        (waiting, "cancelled"),
        (delivered, "delivered"),
    ]


async def test_two_worker_processes_deliver_each_event_exactly_once(world, auth, webhook_database):
    # Slow answers keep both processes busy at once, each with several deliveries in flight.
    hook, receiver = await world.webhook(auth, "RAA-N", delay=0.2)
    la_hook, la_receiver = await world.webhook(auth, "LA-N1", delay=0.2)
    events = await world.emit("LA-N1", 30)  # to the LA's webhook and to its RAA's
    env = {**os.environ, "DATABASE_URL": webhook_database, "ENVIRONMENT": "test", "WEBHOOK_TIMEOUT_SECONDS": "5"}
    command = [sys.executable, "-m", "services.cli", "webhooks", "deliver", "--once"]
    workers = [
        await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT, stdout=PIPE, stderr=PIPE) for _ in range(2)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), timeout=180)
    assert [w.returncode for w in workers] == [0, 0], outputs
    found = [re.search(rb"(\d+) webhook deliveries attempted", out) for out, _ in outputs]
    attempted = [int(m.group(1)) if m else 0 for m in found]

    for r in (receiver, la_receiver):
        assert Counter(r.ids()) == Counter(events)  # every event, each exactly once
        assert all(x["verified"] for x in r.received)
    assert sum(attempted) >= 60 and all(n > 0 for n in attempted), attempted  # both really worked
    for webhook, agency in ((hook, "RAA-N"), (la_hook, "LA-N1")):
        log = await world.log(auth, webhook, agency)
        assert len(log) == 30 and {(d["status"], d["attempts"]) for d in log} == {("delivered", 1)}


async def test_the_worker_loop_delivers_as_events_arrive_and_stops_on_sigterm(world, auth, webhook_database):
    _, receiver = await world.webhook(auth, "VAA-1")
    env = {**os.environ, "DATABASE_URL": webhook_database, "ENVIRONMENT": "test"}
    command = [sys.executable, "-m", "services.cli", "webhooks", "deliver", "--interval", "0.2"]
    worker = await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT, stdout=PIPE, stderr=PIPE)

    async def received(expected: list[str]) -> None:
        deadline = time.monotonic() + 60
        while sorted(receiver.ids()) != sorted(expected):
            assert time.monotonic() < deadline and worker.returncode is None, receiver.ids()
            await asyncio.sleep(0.1)

    try:
        first = await world.emit("VAA-1", 2)
        await received(first)
        later = await world.emit("VAA-1", 1, EventKind.INVOICE_RAISED)
        await received(first + later)
    finally:
        worker.terminate()  # SIGTERM: the loop ends after the round in flight
        _, stderr = await asyncio.wait_for(worker.communicate(), timeout=30)
    assert worker.returncode == 0, stderr.decode()[-2000:]
    assert all(r["verified"] for r in receiver.received)
