"""Every household read and every read of the audit trail is itself audited."""

from sqlalchemy import text

from tests.factories import add_agencies, household_payload
from tests.fixtures.adopters import adopter

EVENTS = text("SELECT resource_type, resource_ref, route FROM audit_events WHERE action = 'read' AND route LIKE :route")


async def _reads(connection, route: str) -> list[tuple[str, str, str]]:
    return [tuple(row) for row in (await connection.execute(EVENTS, {"route": route})).all()]


async def test_an_adopter_reading_its_own_household_is_audited(client, auth, connection, adopter_register):
    mine = await client.get("/v1/households/me", headers=adopter(auth, adopter_register))
    assert mine.status_code == 200
    assert await _reads(connection, "GET /v1/households/me") == [
        ("household", adopter_register["household"]["ref"], "GET /v1/households/me")
    ]


async def test_reading_a_household_history_is_audited(client, auth, connection):
    await add_agencies(connection)
    ref = (await client.post("/v1/households", json=household_payload(), headers=auth())).json()["ref"]
    history = await client.get(f"/v1/audit/versions/household/{ref}", headers=auth("audit:read"))
    assert history.status_code == 200
    assert ("household", ref) in [r[:2] for r in await _reads(connection, "GET /v1/audit/versions/%")]


async def test_reading_the_audit_trail_is_audited(client, auth, connection):
    listed = await client.get("/v1/audit/events", params={"resource_ref": "C-0000000001"}, headers=auth("audit:read"))
    assert listed.status_code == 200
    assert await _reads(connection, "GET /v1/audit/events") == [
        ("audit_events", "resource_ref:C-0000000001", "GET /v1/audit/events")
    ]
