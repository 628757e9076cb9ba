"""Households and placements over HTTP."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.factories import add_agencies, household_payload, placed_group


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


async def test_placements_are_read_only_and_come_from_links(client, auth):
    placed_on = date.today() - timedelta(days=3)
    placement = await placed_group(client, auth, placed_on=placed_on)
    assert placement["child_agency_ref"] == "RAA-N" and placement["household_agency_ref"] == "RAA-S"
    assert placement["cross_agency"] is True and placement["placed_on"] == placed_on.isoformat()
    group = await client.get(f"/v1/sibling-groups/{placement['sibling_group_ref']}", headers=auth())
    assert group.json()["status"] == "placed"
    listed = await client.get("/v1/placements", params={"agency_ref": "RAA-S"}, headers=auth())
    assert [p["ref"] for p in listed.json()["items"]] == [placement["ref"]]
    # No other way in: a placement is the link's `place` step (tests/register/links/).
    url = f"/v1/placements/{placement['ref']}"
    assert (await client.post("/v1/placements", json={}, headers=auth())).status_code == 405
    assert (await patch(client, auth, url, {"adoption_order_on": "2000-01-01"}, placement["etag"])).status_code == 405
