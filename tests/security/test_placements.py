"""A placement can be made only by its link's `place` step, after both agencies agreed and the
match was decided: no other route creates or changes a placement (the finding that any
`matched` household could receive a placement is closed at the root)."""

from services.apps import create_combined_app
from services.core.settings import Settings


def test_no_route_but_the_links_place_step_creates_or_changes_a_placement():
    schema = create_combined_app(Settings(environment="test")).openapi()
    writes = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch") and "placement" in path
    }
    # Support records a breakdown after the order and finance a fee waiver: neither makes or
    # changes a placement.
    assert writes == {("POST", "/v1/placements/{ref}/breakdown"), ("POST", "/v1/fees/placements/{ref}/waiver")}
    place = schema["paths"]["/v1/links/{ref}/place"]["post"]
    assert place["security"] == [{"oauth2": ["links:write"]}]


async def test_a_placement_needs_a_decided_link_of_that_household(client, auth, connection):
    from tests.factories import add_agencies, child_payload, household_payload

    await add_agencies(connection)
    child = (await client.post("/v1/children", json=child_payload(), headers=auth())).json()
    ours = (await client.post("/v1/households", json=household_payload(), headers=auth())).json()
    link = await client.post(
        "/v1/links",
        json={
            "sibling_group_ref": child["sibling_group_ref"],
            "household_ref": ours["ref"],
            "origin": "family_finder",
            "reason": "test",
            "requested_on": child["placement_order_on"],
        },
        headers=auth(),
    )
    assert link.status_code == 201
    place = await client.post(
        f"/v1/links/{link.json()['ref']}/place",
        json={"on": child["placement_order_on"]},
        headers={**auth(), "If-Match": link.headers["ETag"]},
    )
    assert place.status_code == 409 and place.json()["type"].endswith("illegal-status-transition")
    assert (await client.get("/v1/placements", headers=auth())).json()["items"] == []
