"""Cross-cutting HTTP behaviour: problem+json everywhere, size limits, health."""

import httpx
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tests.factories import add_agencies


async def test_unknown_route_and_method_are_problem_json(client, auth):
    for response in (
        await client.get("/v1/nowhere", headers=auth()),
        await client.delete("/v1/agencies", headers=auth()),
    ):
        assert response.status_code in (404, 405)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert set(response.json()) >= {"type", "title", "status", "detail"}


async def test_not_found_record(client, auth):
    response = await client.get("/v1/children/C-0000000000", headers=auth())
    assert response.status_code == 404 and response.json()["type"].endswith("/not-found")


async def test_oversized_body_is_refused_before_parsing(client, auth, settings, connection):
    body = b'{"name": "' + b"x" * (settings.request_max_bytes + 10) + b'"}'
    response = await client.post("/v1/agencies", content=body, headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await connection.scalar(text("SELECT count(*) FROM agencies")) == 0


async def test_malformed_json_is_problem_json(client, auth):
    response = await client.post(
        "/v1/agencies", content=b"{not json", headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_agencies_reference_data(client, auth, connection):
    await add_agencies(connection)
    listed = await client.get("/v1/agencies", params={"kind": "la"}, headers=auth())
    assert [(a["ref"], a["parent_raa_ref"]) for a in listed.json()["items"]] == [("LA-N1", "RAA-N"), ("LA-S1", "RAA-S")]
    la = {
        "ref": "LA-N2",
        "name": "Another LA",
        "kind": "la",
        "region": "london",
        "parent_raa_ref": "RAA-N",
        "latitude": 51.5,
        "longitude": -0.1,
    }
    wrong_region = await client.post("/v1/agencies", json=la, headers=auth())
    assert wrong_region.status_code == 422
    not_national = await client.post("/v1/agencies", json={**la, "region": "north_west"}, headers=auth(agency="RAA-N"))
    assert not_national.status_code == 403
    created = await client.post("/v1/agencies", json={**la, "region": "north_west"}, headers=auth())
    assert created.status_code == 201 and created.json()["parent_raa_ref"] == "RAA-N"
    duplicate = await client.post("/v1/agencies", json={**la, "region": "north_west"}, headers=auth())
    assert duplicate.status_code == 409
    renamed = await client.patch(
        "/v1/agencies/LA-N2", json={"name": "Renamed LA"}, headers={**auth(), "If-Match": created.headers["ETag"]}
    )
    assert renamed.status_code == 200 and renamed.json()["version"] == 2


async def test_health(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200


async def test_values_postgresql_cannot_store_are_input_errors(client, auth, connection):
    await add_agencies(connection)
    from tests.factories import child_payload

    for response in (
        await client.get("/v1/sibling-groups", params={"la_ref": "\x00LA"}, headers=auth()),
        await client.get("/v1/children/C-%00", headers=auth()),
        await client.post("/v1/children", json=child_payload(first_name="A\x00B"), headers=auth()),
        await client.post(
            "/v1/sibling-groups",
            content=b'{"child_refs": ["\\udbe0", "x"]}',
            headers={**auth(), "Content-Type": "application/json"},
        ),
    ):
        assert response.status_code in (404, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await connection.scalar(text("SELECT count(*) FROM children")) == 0


async def test_a_write_is_committed_before_its_response_is_sent(make_app, auth, connection):
    """A 2xx means the change is stored: never a response first and a commit (that may
    fail, or that a client's next read may overtake) after it."""
    await add_agencies(connection)
    app = await make_app()
    events: list[str] = []

    async def observed(scope, receive, send):
        async def send_and_note(message):
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, send_and_note)

    def note_commit(session) -> None:
        events.append("commit")

    event.listen(Session, "after_commit", note_commit)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=observed), base_url="http://test") as client:
            la = {
                "ref": "LA-N2",
                "name": "Another LA",
                "kind": "la",
                "region": "north_west",
                "parent_raa_ref": "RAA-N",
                "latitude": 51.5,
                "longitude": -0.1,
            }
            created = await client.post("/v1/agencies", json=la, headers=auth())
    finally:
        event.remove(Session, "after_commit", note_commit)
    assert created.status_code == 201
    assert "commit" in events and events.index("commit") < events.index("response"), events
