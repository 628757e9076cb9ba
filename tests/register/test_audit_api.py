"""The audit trail and record history over HTTP."""

from tests.factories import add_agencies, child_payload


async def test_audit_events_and_versions_of_a_child(client, auth, connection):
    await add_agencies(connection)
    created = await client.post("/v1/children", json=child_payload(), headers=auth(agency="RAA-N"))
    ref = created.json()["ref"]
    await client.patch(
        f"/v1/children/{ref}",
        json={"profile_text": "Now loves trains."},
        headers={**auth(agency="RAA-N"), "If-Match": created.headers["ETag"]},
    )
    await client.get(f"/v1/children/{ref}", headers=auth(agency="RAA-S"))

    forbidden = await client.get("/v1/audit/events", headers=auth("children:read"))
    assert forbidden.status_code == 403
    events = (await client.get("/v1/audit/events", params={"resource_ref": ref}, headers=auth("audit:read"))).json()
    assert [e["action"] for e in events["items"]] == ["read", "update", "create"]  # newest first
    assert {e["principal"] for e in events["items"]} == {"test-client:tester"}
    assert all(e["request_id"] and e["route"] for e in events["items"])
    assert events["items"][0]["route"] == "GET /v1/children/{ref}"
    # References, never personal data: an event has no field that could carry a name or a body.
    assert {frozenset(e) for e in events["items"]} == {
        frozenset({"occurred_at", "principal", "action", "resource_type", "resource_ref", "request_id", "route"})
    }

    versions = await client.get(f"/v1/audit/versions/child/{ref}", headers=auth("audit:read"))
    assert [(v["version"], v["data"]["profile_text"]) for v in versions.json()] == [
        (1, "Loves dinosaurs and building dens."),
        (2, "Now loves trains."),
    ]
    # Reading a child's history is itself a read of the full record.
    events = (await client.get("/v1/audit/events", params={"resource_ref": ref}, headers=auth("audit:read"))).json()
    assert [(e["action"], e["resource_type"]) for e in events["items"]] == [
        ("read", "child"),
        ("read", "child"),
        ("update", "child"),
        ("create", "child"),
    ]
    # Reading the trail is in the trail too, under the filter that was used.
    looked = (
        await client.get("/v1/audit/events", params={"resource_ref": f"resource_ref:{ref}"}, headers=auth("audit:read"))
    ).json()
    assert [(e["action"], e["resource_type"]) for e in looked["items"]] == [("read", "audit_events")] * 2
    missing = await client.get("/v1/audit/versions/child/C-0000000000", headers=auth("audit:read"))
    assert missing.status_code == 404
    bad_type = await client.get(f"/v1/audit/versions/nonsense/{ref}", headers=auth("audit:read"))
    assert bad_type.status_code == 422


async def test_request_id_is_taken_from_the_caller_when_plain(client, auth, connection):
    await add_agencies(connection)
    created = await client.post(
        "/v1/children", json=child_payload(), headers={**auth(), "X-Request-ID": "case-system-123"}
    )
    event = (
        await client.get("/v1/audit/events", params={"resource_ref": created.json()["ref"]}, headers=auth("audit:read"))
    ).json()["items"][0]
    assert event["request_id"] == "case-system-123"
    odd = await client.post("/v1/children", json=child_payload(), headers={**auth(), "X-Request-ID": "<script>"})
    event = (
        await client.get("/v1/audit/events", params={"resource_ref": odd.json()["ref"]}, headers=auth("audit:read"))
    ).json()["items"][0]
    assert event["request_id"] != "<script>" and len(event["request_id"]) == 36
