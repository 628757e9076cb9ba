"""Children and sibling groups over HTTP: success and failure paths."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.factories import add_agencies, child_payload, household_payload

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def create_child(client, auth, **overrides):
    response = await client.post("/v1/children", json=child_payload(**overrides), headers=auth())
    assert response.status_code == 201, response.text
    return response.json(), response.headers["ETag"]


async def test_create_and_read_child_is_audited(client, auth, connection):
    created, etag = await create_child(client, auth)
    assert created["ref"].startswith("C-") and created["status"] == "waiting"
    assert created["la_ref"] == "LA-N1" and created["raa_ref"] == "RAA-N"
    assert created["sibling_group_size"] == 1 and created["days_waiting"] == 300
    assert created["latitude"] == 53.41  # stored to about 1 km
    response = await client.get(f"/v1/children/{created['ref']}", headers=auth())
    assert response.status_code == 200 and response.headers["ETag"] == etag
    assert response.json()["first_name"] == "Amelia"
    actions = (
        (
            await connection.execute(
                text("SELECT action FROM audit_events WHERE resource_ref = :r ORDER BY id"), {"r": created["ref"]}
            )
        )
        .scalars()
        .all()
    )
    assert actions == ["create", "read"]


async def test_full_read_audits_who_and_which_request_and_a_missing_child_writes_nothing(client, auth, connection):
    created, _ = await create_child(client, auth)
    response = await client.get(f"/v1/children/{created['ref']}", headers={**auth(), "X-Request-ID": "req-audit-1"})
    assert response.status_code == 200
    event = (
        await connection.execute(
            text(
                "SELECT principal, resource_type, request_id, route FROM audit_events "
                "WHERE resource_ref = :r AND action = 'read'"
            ),
            {"r": created["ref"]},
        )
    ).one()
    assert event.resource_type == "child" and event.route == "GET /v1/children/{ref}"
    assert event.request_id == response.headers["X-Request-ID"] and event.principal
    before = await connection.scalar(text("SELECT count(*) FROM audit_events"))
    missing = await client.get("/v1/children/C-NOSUCHCHILD", headers=auth())
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    assert await connection.scalar(text("SELECT count(*) FROM audit_events")) == before


async def test_unknown_field_is_refused_as_problem(client, auth, connection):
    response = await client.post("/v1/children", json=child_payload(favourite_colour="blue"), headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert any(e["field"] == "body.favourite_colour" for e in response.json()["errors"])
    assert (await connection.scalar(text("SELECT count(*) FROM children"))) == 0


async def test_inconsistent_dates_are_refused_and_nothing_is_written(client, auth, connection):
    response = await client.post("/v1/children", json=child_payload(entered_care_on="2001-01-01"), headers=auth())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.entered_care_on"
    assert (await connection.scalar(text("SELECT count(*) FROM children"))) == 0
    assert (await connection.scalar(text("SELECT count(*) FROM sibling_groups"))) == 0


async def test_unknown_la_is_an_input_error(client, auth):
    response = await client.post("/v1/children", json=child_payload(la_ref="LA-NOPE"), headers=auth())
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "unknown_reference"


async def test_update_needs_if_match_and_detects_stale_versions(client, auth, connection):
    created, etag = await create_child(client, auth)
    url = f"/v1/children/{created['ref']}"
    missing = await client.patch(url, json={"profile_text": "Likes music."}, headers=auth())
    assert missing.status_code == 428, missing.text
    assert missing.headers["content-type"].startswith(PROBLEM)
    ok = await client.patch(url, json={"profile_text": "Likes music."}, headers={**auth(), "If-Match": etag})
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.headers["ETag"] == '"2"'
    stale = await client.patch(url, json={"profile_text": "Overwrite"}, headers={**auth(), "If-Match": etag})
    assert stale.status_code == 412
    assert (await client.get(url, headers=auth())).json()["profile_text"] == "Likes music."
    versions = (
        await connection.execute(
            text(
                "SELECT v.version, v.data->>'profile_text', v.principal FROM record_versions v JOIN children c "
                "ON c.id = v.record_id AND v.table_name = 'children' WHERE c.ref = :r ORDER BY v.version"
            ),
            {"r": created["ref"]},
        )
    ).all()
    assert [(v, t) for v, t, _ in versions] == [(1, "Loves dinosaurs and building dens."), (2, "Likes music.")]
    assert versions[1][2] == "test-client:tester"


async def test_status_is_changed_on_the_group_and_only_legally(client, auth):
    created, _ = await create_child(client, auth)
    group_url = f"/v1/sibling-groups/{created['sibling_group_ref']}"
    group = await client.get(group_url, headers=auth())
    etag = group.headers["ETag"]
    status_on_child = await client.patch(
        f"/v1/children/{created['ref']}", json={"status": "linked"}, headers={**auth(), "If-Match": '"1"'}
    )
    assert status_on_child.status_code == 422
    by_hand = await client.patch(group_url, json={"status": "linked"}, headers={**auth(), "If-Match": etag})
    assert by_hand.status_code == 409 and by_hand.json()["type"].endswith("illegal-status-transition")
    assert "/v1/links" in by_hand.json()["detail"]  # linked, matched and placed follow a link
    withdrawn = await client.patch(group_url, json={"status": "withdrawn"}, headers={**auth(), "If-Match": etag})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    child = (await client.get(f"/v1/children/{created['ref']}", headers=auth())).json()
    assert child["status"] == "withdrawn"
    back = await client.patch(
        group_url, json={"status": "waiting"}, headers={**auth(), "If-Match": withdrawn.headers["ETag"]}
    )
    assert back.status_code == 200 and back.json()["status"] == "waiting"


async def test_siblings_move_together_and_a_split_is_refused(client, auth):
    a, _ = await create_child(client, auth, first_name="Ann")
    b, _ = await create_child(client, auth, first_name="Ben")
    formed = await client.post("/v1/sibling-groups", json={"child_refs": [a["ref"], b["ref"]]}, headers=auth())
    assert formed.status_code == 201, formed.text
    group = formed.json()
    assert group["size"] == 2 and group["child_refs"] == [a["ref"], b["ref"]]
    old_group = await client.get(f"/v1/sibling-groups/{a['sibling_group_ref']}", headers=auth())
    assert old_group.json()["status"] == "withdrawn" and old_group.json()["size"] == 0
    household = await client.post("/v1/households", json=household_payload(), headers=auth())
    link = await client.post(
        "/v1/links",
        json={
            "sibling_group_ref": group["ref"],
            "household_ref": household.json()["ref"],
            "origin": "family_finder",
            "reason": "test",
            "requested_on": date.today().isoformat(),
        },
        headers=auth(),
    )
    agreed = await client.post(
        f"/v1/links/{link.json()['ref']}/agree",
        json={"on": date.today().isoformat()},
        headers={**auth(), "If-Match": link.headers["ETag"]},
    )
    assert agreed.status_code == 200, agreed.text
    for ref in (a["ref"], b["ref"]):
        assert (await client.get(f"/v1/children/{ref}", headers=auth())).json()["status"] == "linked"
    c, _ = await create_child(client, auth, first_name="Cat")
    a_now = await client.get(f"/v1/children/{a['ref']}", headers=auth())
    split = await client.patch(
        f"/v1/children/{a['ref']}",
        json={"sibling_group_ref": c["sibling_group_ref"]},
        headers={**auth(), "If-Match": a_now.headers["ETag"]},
    )
    assert split.status_code == 409 and split.json()["type"].endswith("sibling-group-split")
    assert (await client.get(f"/v1/children/{a['ref']}", headers=auth())).json()["sibling_group_ref"] == group["ref"]


async def test_list_filters_and_cursor_pages(client, auth):
    for days in (100, 400, 700):
        await create_child(
            client,
            auth,
            placement_order_on=str(date.today() - timedelta(days=days)),
        )
    await create_child(
        client,
        auth,
        la_ref="LA-S1",
        region="south_west",
        needs={**child_payload()["needs"], "emotional_behavioural": "high"},
    )
    first = await client.get("/v1/children", params={"limit": 2}, headers=auth())
    body = first.json()
    assert [c["days_waiting"] for c in body["items"]] == [700, 400]
    assert "first_name" not in body["items"][0] and "date_of_birth" not in body["items"][0]
    second = await client.get("/v1/children", params={"limit": 2, "cursor": body["next_cursor"]}, headers=auth())
    assert [c["days_waiting"] for c in second.json()["items"]] == [300, 100]
    assert second.json()["next_cursor"] is None
    north = await client.get("/v1/children", params={"raa_ref": "RAA-N", "min_days_waiting": 350}, headers=auth())
    assert [c["days_waiting"] for c in north.json()["items"]] == [700, 400]
    calm = await client.get("/v1/children", params={"need": "emotional_behavioural:medium"}, headers=auth())
    assert len(calm.json()["items"]) == 3
    bad = await client.get("/v1/children", params={"need": "emotional_behavioural:extreme"}, headers=auth())
    assert bad.status_code == 422
    bad_cursor = await client.get("/v1/children", params={"cursor": "nonsense"}, headers=auth())
    assert bad_cursor.status_code == 422 and bad_cursor.headers["content-type"].startswith(PROBLEM)


async def test_agency_staff_write_only_their_own_children(client, auth):
    created, etag = await create_child(client, auth)
    other = await client.patch(
        f"/v1/children/{created['ref']}", json={"profile_text": "x"}, headers={**auth(agency="RAA-S"), "If-Match": etag}
    )
    assert other.status_code == 403
    own_raa = await client.patch(
        f"/v1/children/{created['ref']}", json={"profile_text": "y"}, headers={**auth(agency="RAA-N"), "If-Match": etag}
    )
    assert own_raa.status_code == 200
    reads_national_pool = await client.get(f"/v1/children/{created['ref']}", headers=auth(agency="RAA-S"))
    assert reads_national_pool.status_code == 200
    create_elsewhere = await client.post("/v1/children", json=child_payload(), headers=auth(agency="RAA-S"))
    assert create_elsewhere.status_code == 403


async def test_records_cannot_be_deleted_even_in_sql(client, auth, connection):
    created, _ = await create_child(client, auth)
    with pytest.raises(Exception, match="not allowed"):
        async with connection.begin_nested():
            await connection.execute(text("DELETE FROM children WHERE ref = :r"), {"r": created["ref"]})
