"""Households and placements over HTTP."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.factories import add_agencies, child_payload, household_payload


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def post(client, auth, url, body, **auth_kw):
    response = await client.post(url, json=body, headers=auth(**auth_kw))
    assert response.status_code == 201, response.text
    return response.json(), response.headers["ETag"]


async def patch(client, auth, url, body, etag, **auth_kw):
    return await client.patch(url, json=body, headers={**auth(**auth_kw), "If-Match": etag})


async def test_household_create_read_update(client, auth, connection):
    created, etag = await post(client, auth, "/v1/households", household_payload())
    assert created["approving_agency_ref"] == "RAA-S" and created["status"] == "approved"
    listed = await client.get("/v1/households", params={"child_age": 4, "min_capacity": 2}, headers=auth())
    assert [h["ref"] for h in listed.json()["items"]] == [created["ref"]]
    assert "applicant_names" not in listed.json()["items"][0]
    too_old = await client.get("/v1/households", params={"child_age": 9}, headers=auth())
    assert too_old.json()["items"] == []
    updated = await patch(client, auth, f"/v1/households/{created['ref']}", {"status": "on_hold"}, etag)
    assert updated.status_code == 200 and updated.json()["status"] == "on_hold"
    illegal = await patch(
        client, auth, f"/v1/households/{created['ref']}", {"status": "matched"}, updated.headers["ETag"]
    )
    assert illegal.status_code == 409
    read = await client.get(f"/v1/households/{created['ref']}", headers=auth())
    assert read.json()["applicant_names"] == ["Sam Adopter", "Alex Adopter"]
    audited = await connection.scalar(
        text("SELECT count(*) FROM audit_events WHERE resource_ref = :r"), {"r": created["ref"]}
    )
    assert audited == 3  # create, the status change, the full read (the refused change wrote nothing)


async def test_household_bad_input(client, auth, connection):
    bad_range = await client.post(
        "/v1/households", json=household_payload(age_min_years=8, age_max_years=3), headers=auth()
    )
    assert bad_range.status_code == 422
    three = await client.post("/v1/households", json=household_payload(applicant_names=["A", "B", "C"]), headers=auth())
    assert three.status_code == 422
    fractional = await client.post("/v1/households", json=household_payload(approved_children=1.5), headers=auth())
    assert fractional.status_code == 422
    other_agency = await client.post("/v1/households", json=household_payload(), headers=auth(agency="RAA-N"))
    assert other_agency.status_code == 403
    assert await connection.scalar(text("SELECT count(*) FROM households")) == 0


async def matched_pair(client, auth, size=1):
    children = [await post(client, auth, "/v1/children", child_payload(first_name=f"K{i}")) for i in range(size)]
    group_ref = children[0][0]["sibling_group_ref"]
    if size > 1:
        formed, _ = await post(client, auth, "/v1/sibling-groups", {"child_refs": [c["ref"] for c, _ in children]})
        group_ref = formed["ref"]
    household, _ = await post(client, auth, "/v1/households", household_payload(approved_children=1))
    g_url, h_url = f"/v1/sibling-groups/{group_ref}", f"/v1/households/{household['ref']}"
    for status in ("linked", "matched"):
        g = await client.get(g_url, headers=auth())
        assert (await patch(client, auth, g_url, {"status": status}, g.headers["ETag"])).status_code == 200
        h = await client.get(h_url, headers=auth())
        assert (await patch(client, auth, h_url, {"status": status}, h.headers["ETag"])).status_code == 200
    return group_ref, household["ref"]


async def test_placement_of_a_matched_group_across_agencies(client, auth):
    group_ref, household_ref = await matched_pair(client, auth)
    placed_on = (date.today() - timedelta(days=3)).isoformat()
    placement, etag = await post(
        client,
        auth,
        "/v1/placements",
        {"sibling_group_ref": group_ref, "household_ref": household_ref, "placed_on": placed_on},
    )
    assert placement["child_agency_ref"] == "RAA-N" and placement["household_agency_ref"] == "RAA-S"
    assert placement["cross_agency"] is True
    group = await client.get(f"/v1/sibling-groups/{group_ref}", headers=auth())
    assert group.json()["status"] == "placed"
    again = await client.post(
        "/v1/placements",
        json={"sibling_group_ref": group_ref, "household_ref": household_ref, "placed_on": placed_on},
        headers=auth(),
    )
    assert again.status_code == 409
    url = f"/v1/placements/{placement['ref']}"
    too_early = await patch(client, auth, url, {"adoption_order_on": "2000-01-01"}, etag)
    assert too_early.status_code == 422
    order = await patch(client, auth, url, {"adoption_order_on": date.today().isoformat()}, etag)
    assert order.status_code == 200 and order.json()["adoption_order_on"] == date.today().isoformat()
    listed = await client.get("/v1/placements", params={"agency_ref": "RAA-S"}, headers=auth())
    assert [p["ref"] for p in listed.json()["items"]] == [placement["ref"]]


async def test_placement_refusals(client, auth, connection):
    child, _ = await post(client, auth, "/v1/children", child_payload())
    household, _ = await post(client, auth, "/v1/households", household_payload())
    not_matched = await client.post(
        "/v1/placements",
        json={
            "sibling_group_ref": child["sibling_group_ref"],
            "household_ref": household["ref"],
            "placed_on": date.today().isoformat(),
        },
        headers=auth(),
    )
    assert not_matched.status_code == 409
    group_ref, household_ref = await matched_pair(client, auth, size=2)
    over_capacity = await client.post(
        "/v1/placements",
        json={"sibling_group_ref": group_ref, "household_ref": household_ref, "placed_on": date.today().isoformat()},
        headers=auth(),
    )
    assert over_capacity.status_code == 409 and "approved for 1" in over_capacity.json()["detail"]
    wrong_agency = await client.post(
        "/v1/placements",
        json={"sibling_group_ref": group_ref, "household_ref": household_ref, "placed_on": date.today().isoformat()},
        headers=auth(agency="RAA-S"),
    )
    assert wrong_agency.status_code == 403
    assert await connection.scalar(text("SELECT count(*) FROM placements")) == 0
