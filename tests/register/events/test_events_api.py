"""The events feed and the webhooks API, on the rolled-back test database."""

import base64

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.settings import Settings
from services.register.events.service import EventKind, emit
from tests.factories import add_agencies
from tests.fixtures.tokens import PRODUCTION

FEED_FIELDS = {"ref", "kind", "agency_ref", "subject_type", "subject_ref", "data", "occurred_at"}


@pytest.fixture
async def agencies(connection):
    return await add_agencies(connection)


@pytest.fixture
def session(connection):
    return AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


async def emit_to(session, agency_id: int, kind=EventKind.LINK_REQUESTED, ref: str = "LK-1") -> None:
    await emit(
        session,
        agency_id=agency_id,
        kind=kind,
        subject_type="link",
        subject_ref=ref,
        data={"sibling_group_ref": "SG-1", "household_ref": "H-1", "step": 1},
    )
    await session.commit()


async def feed(client, auth, agency=None, **params):
    response = await client.get("/v1/events", params=params, headers=auth("events:read", agency=agency))
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_agency_sees_only_its_own_events_and_an_raa_its_las(client, auth, agencies, session):
    for ref in ("RAA-N", "LA-N1", "RAA-S", "LA-S1", "VAA-1"):
        await emit_to(session, agencies[ref], ref=f"LK-{ref}")

    def seen(page):
        return [e["subject_ref"] for e in page["items"]]

    assert seen(await feed(client, auth, "RAA-N")) == ["LK-RAA-N", "LK-LA-N1"]
    assert seen(await feed(client, auth, "LA-N1")) == ["LK-LA-N1"]  # not its RAA's
    assert seen(await feed(client, auth, "RAA-S")) == ["LK-RAA-S", "LK-LA-S1"]
    assert seen(await feed(client, auth, "LA-S1")) == ["LK-LA-S1"]
    assert seen(await feed(client, auth, "VAA-1")) == ["LK-VAA-1"]
    assert seen(await feed(client, auth, "NOT-AN-AGENCY")) == []
    # Naming another agency narrows a feed; it never widens it.
    assert seen(await feed(client, auth, "RAA-N", agency_ref="RAA-S")) == []
    assert seen(await feed(client, auth, "RAA-N", agency_ref="LA-N1")) == ["LK-LA-N1"]
    # The national team sees every agency's, and may ask for one.
    assert len(seen(await feed(client, auth))) == 5
    assert seen(await feed(client, auth, agency_ref="LA-S1")) == ["LK-LA-S1"]

    item = (await feed(client, auth, "VAA-1"))["items"][0]
    assert set(item) == FEED_FIELDS and item["agency_ref"] == "VAA-1" and item["kind"] == "link_requested"
    assert item["data"] == {"sibling_group_ref": "SG-1", "household_ref": "H-1", "step": 1}


async def test_polling_with_the_cursor_returns_only_new_events(client, auth, agencies, session):
    for i in range(3):
        await emit_to(session, agencies["RAA-S"], ref=f"LK-{i}")
    first = await feed(client, auth, "RAA-S", limit=2)
    assert [e["subject_ref"] for e in first["items"]] == ["LK-0", "LK-1"] and first["has_more"] is True
    second = await feed(client, auth, "RAA-S", cursor=first["next_cursor"], limit=2)
    assert [e["subject_ref"] for e in second["items"]] == ["LK-2"] and second["has_more"] is False
    # Nothing new: the cursor is handed back unchanged, so the client keeps its place.
    idle = await feed(client, auth, "RAA-S", cursor=second["next_cursor"])
    assert idle["items"] == [] and idle["next_cursor"] == second["next_cursor"]
    await emit_to(session, agencies["RAA-S"], kind=EventKind.INVOICE_RAISED, ref="FL-9")
    new = await feed(client, auth, "RAA-S", cursor=idle["next_cursor"])
    assert [(e["kind"], e["subject_ref"]) for e in new["items"]] == [("invoice_raised", "FL-9")]
    only_invoices = await feed(client, auth, "RAA-S", kind="invoice_raised")
    assert [e["subject_ref"] for e in only_invoices["items"]] == ["FL-9"]
    bad = await client.get("/v1/events", params={"cursor": "nonsense!"}, headers=auth("events:read"))
    assert bad.status_code == 422


async def test_the_feed_needs_its_scope_and_staff(client, auth, agencies):
    assert (await client.get("/v1/events", headers=auth("children:read", agency="RAA-N"))).status_code == 403
    adopter = await client.get("/v1/events", headers=auth("events:read", household="H-1"))
    assert adopter.status_code == 403
    assert (await client.get("/v1/events")).status_code == 401


async def test_emit_is_part_of_the_callers_transaction(client, auth, connection, agencies, session):
    for agency in ("RAA-N", "LA-N1", "RAA-S"):
        assert (await create(client, auth, agency=agency)).status_code == 201
    await emit(
        session, agency_id=agencies["LA-N1"], kind=EventKind.LINK_AGREED, subject_type="link", subject_ref="L", data={}
    )
    counts = "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM webhook_deliveries)"
    # One delivery for the LA's webhook and one for its RAA's; none for another agency's.
    assert tuple((await connection.execute(text(counts))).one()) == (1, 2)
    await session.rollback()  # the change it belonged to failed: no event, nothing to deliver
    assert tuple((await connection.execute(text(counts))).one()) == (0, 0)


@pytest.mark.parametrize(
    ("subject_ref", "data"),
    [
        ("", {}),
        ("X" * 41, {}),
        ("LK-1", {"flag": True}),
        ("LK-1", {"note": "x" * 201}),
        ("LK-1", {f"k{i}": i for i in range(21)}),
        ("LK-1", {"when": 1.5}),
    ],
)
async def test_emit_refuses_a_malformed_event(agencies, session, subject_ref, data):
    with pytest.raises(ValueError):
        await emit(
            session,
            agency_id=agencies["RAA-N"],
            kind=EventKind.LINK_AGREED,
            subject_type="link",
            subject_ref=subject_ref,
            data=data,
        )


async def test_events_are_never_changed_or_deleted(connection, agencies, session):
    await emit_to(session, agencies["RAA-N"])
    for statement in ("UPDATE events SET subject_ref = 'X'", "DELETE FROM events"):
        nested = await connection.begin_nested()
        with pytest.raises(DBAPIError, match="not allowed"):
            await connection.execute(text(statement))
        await nested.rollback()


# --- webhooks -------------------------------------------------------------------------------


async def create(client, auth, agency="RAA-N", **body):
    return await client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", **body}, headers=auth("webhooks:write", agency=agency)
    )


async def test_a_webhook_secret_is_shown_once_and_never_again(client, auth, agencies, connection):
    created = await create(client, auth)
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert body["agency_ref"] == "RAA-N" and body["active"] is True
    own = "whsec_" + base64.b64encode(b"k" * 40).decode()
    given = await create(client, auth, secret=own)
    assert given.status_code == 201 and given.json()["secret"] == own

    listed = await client.get("/v1/webhooks", headers=auth("webhooks:write", agency="RAA-N"))
    one = await client.get(f"/v1/webhooks/{body['ref']}", headers=auth("webhooks:write", agency="RAA-N"))
    for response in (listed, one):
        assert response.status_code == 200
        assert "secret" not in response.text and secret not in response.text and own not in response.text
    assert len(listed.json()["items"]) == 2
    # Nor is the secret copied into the record history.
    history = await connection.scalar(text("SELECT string_agg(data::text, '') FROM record_versions"))
    assert secret not in history and own not in history
    audited = await connection.scalar(
        text("SELECT count(*) FROM audit_events WHERE resource_type = 'webhook' AND action = 'create'")
    )
    assert audited == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://example.org/hook"),
        ("url", "https://user:pw@example.org/hook"),
        ("url", "https:///no-host"),
        ("url", "https://example.org/" + "a" * 2000),
        ("url", "not a url at all"),
        ("secret", "whsec_" + base64.b64encode(b"short").decode()),
        ("secret", "whsec_" + base64.b64encode(b"k" * 65).decode()),
        ("secret", base64.b64encode(b"k" * 32).decode()),
        ("secret", "whsec_!!!!" + "A" * 40),
        ("agency_ref", "NOT-AN-AGENCY"),
    ],
)
async def test_webhook_input_is_checked(client, auth, agencies, connection, field, value):
    response = await create(client, auth, **{field: value})
    assert response.status_code == 422, response.text
    assert any(e["field"] == f"body.{field}" for e in response.json()["errors"])
    assert await connection.scalar(text("SELECT count(*) FROM webhooks")) == 0


async def test_production_accepts_https_only(make_app, auth, agencies, settings):
    import httpx

    production = Settings(
        **PRODUCTION,
        token_issuer=settings.token_issuer,
        token_audience=settings.token_audience,
    )
    app = await make_app(app_settings=production)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await create(client, auth)).status_code == 422
        assert (await create(client, auth, url="https://case-system.example/hook")).status_code == 201


async def test_webhooks_belong_to_an_agency_and_its_raa(client, auth, agencies):
    for_la = await create(client, auth, agency="RAA-N", agency_ref="LA-N1")
    assert for_la.status_code == 201 and for_la.json()["agency_ref"] == "LA-N1"
    assert (await create(client, auth, agency="RAA-S", agency_ref="RAA-N")).status_code == 403
    assert (await create(client, auth, agency="LA-N1", agency_ref="RAA-N")).status_code == 403
    national = await create(client, auth, agency=None)
    assert national.status_code == 422 and national.json()["errors"][0]["field"] == "body.agency_ref"
    own = await create(client, auth, agency="RAA-S")
    assert own.status_code == 201

    def refs(response):
        return [w["ref"] for w in response.json()["items"]]

    as_raa_n = await client.get("/v1/webhooks", headers=auth("webhooks:write", agency="RAA-N"))
    assert refs(as_raa_n) == [for_la.json()["ref"]]
    as_la = await client.get("/v1/webhooks", headers=auth("webhooks:write", agency="LA-N1"))
    assert refs(as_la) == [for_la.json()["ref"]]
    as_raa_s = await client.get("/v1/webhooks", headers=auth("webhooks:write", agency="RAA-S"))
    assert refs(as_raa_s) == [own.json()["ref"]]
    everyone = await client.get("/v1/webhooks", headers=auth("webhooks:write"))
    assert len(refs(everyone)) == 2
    other = f"/v1/webhooks/{own.json()['ref']}"
    assert (await client.get(other, headers=auth("webhooks:write", agency="RAA-N"))).status_code == 403
    assert (await client.get(f"{other}/deliveries", headers=auth("webhooks:write", agency="RAA-N"))).status_code == 403
    assert (await client.get("/v1/webhooks", headers=auth("events:read", agency="RAA-N"))).status_code == 403


async def test_disabling_keeps_the_webhook_and_stops_its_deliveries(client, auth, agencies, connection, session):
    hook = (await create(client, auth, agency="RAA-N")).json()
    la_hook = (await create(client, auth, agency="LA-N1")).json()
    other = (await create(client, auth, agency="RAA-S")).json()
    await emit_to(session, agencies["LA-N1"], ref="LK-before")  # to the LA's hook and its RAA's
    headers = auth("webhooks:write", agency="RAA-N")
    url = f"/v1/webhooks/{hook['ref']}"

    async def log(ref, agency="RAA-N"):
        response = await client.get(f"/v1/webhooks/{ref}/deliveries", headers=auth("webhooks:write", agency=agency))
        assert response.status_code == 200, response.text
        return [(d["event_ref"], d["status"], d["attempts"]) for d in response.json()["items"]]

    pending = await log(hook["ref"])
    assert [status for _, status, _ in pending] == ["pending"] and await log(la_hook["ref"], "LA-N1") == [
        (pending[0][0], "pending", 0)
    ]
    assert await log(other["ref"], "RAA-S") == []

    assert (await client.post(f"{url}/disable", headers=headers)).status_code == 428
    assert (await client.post(f"{url}/disable", headers={**headers, "If-Match": '"7"'})).status_code == 412
    etag = (await client.get(url, headers=headers)).headers["ETag"]
    disabled = await client.post(f"{url}/disable", headers={**headers, "If-Match": etag})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False and disabled.json()["disabled_at"]
    again = await client.post(f"{url}/disable", headers={**headers, "If-Match": disabled.headers["ETag"]})
    assert again.status_code == 409

    await emit_to(session, agencies["RAA-N"], ref="LK-after")
    assert await log(hook["ref"]) == [(pending[0][0], "cancelled", 0)]  # nothing new, the waiting one cancelled
    assert len(await log(la_hook["ref"], "LA-N1")) == 1  # the RAA's event is not the LA's
    assert await connection.scalar(text("SELECT count(*) FROM webhooks")) == 3
    nested = await connection.begin_nested()
    with pytest.raises(DBAPIError, match="not allowed"):
        await connection.execute(text("DELETE FROM webhooks"))
    await nested.rollback()
    transitions = await connection.scalar(
        text("SELECT count(*) FROM audit_events WHERE resource_ref = :r AND action = 'transition'"), {"r": hook["ref"]}
    )
    assert transitions == 1


async def test_an_agency_has_a_bounded_number_of_active_webhooks(client, auth, agencies):
    for _ in range(10):
        assert (await create(client, auth, agency="VAA-1")).status_code == 201
    assert (await create(client, auth, agency="VAA-1")).status_code == 409
