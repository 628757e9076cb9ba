"""Payloads and records for tests: valid by default, overridable field by field."""

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.register.models import Agency
from services.register.vocabulary import NEEDS, AgencyKind, Region

TODAY = date.today()


async def add_agencies(conn: AsyncConnection, prefix: str = "") -> dict[str, int]:
    """Two RAAs in different regions, an LA in each, and a VAA (refs prefixed by `prefix`)."""
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
        north = Agency(
            ref=prefix + "RAA-N",
            name="North RAA (test)",
            kind=AgencyKind.RAA,
            region=Region.NORTH_WEST,
            latitude=53.5,
            longitude=-2.5,
        )
        south = Agency(
            ref=prefix + "RAA-S",
            name="South RAA (test)",
            kind=AgencyKind.RAA,
            region=Region.SOUTH_WEST,
            latitude=51.0,
            longitude=-3.0,
        )
        vaa = Agency(
            ref=prefix + "VAA-1",
            name="Voluntary agency (test)",
            kind=AgencyKind.VAA,
            region=Region.LONDON,
            latitude=51.5,
            longitude=-0.1,
        )
        session.add_all([north, south, vaa])
        await session.flush()
        la_n = Agency(
            ref=prefix + "LA-N1",
            name="North LA (test)",
            kind=AgencyKind.LA,
            region=Region.NORTH_WEST,
            parent_raa_id=north.id,
            latitude=53.4,
            longitude=-2.2,
        )
        la_s = Agency(
            ref=prefix + "LA-S1",
            name="South LA (test)",
            kind=AgencyKind.LA,
            region=Region.SOUTH_WEST,
            parent_raa_id=south.id,
            latitude=50.9,
            longitude=-3.1,
        )
        session.add_all([la_n, la_s])
        await session.commit()
        return {a.ref: a.id for a in (north, south, vaa, la_n, la_s)}


def needs(**levels: str) -> dict[str, str]:
    return {n.value: levels.get(n.value, "low") for n in NEEDS}


def child_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Amelia",
        "surname": "Testchild",
        "date_of_birth": (TODAY - timedelta(days=365 * 4)).isoformat(),
        "sex": "female",
        "ethnicity": "white_british",
        "religion": "none",
        "languages": ["english"],
        "region": "north_west",
        "latitude": 53.4123,
        "longitude": -2.2456,
        "entered_care_on": (TODAY - timedelta(days=700)).isoformat(),
        "placement_order_on": (TODAY - timedelta(days=300)).isoformat(),
        "needs": needs(),
        "contact_plan": "letterbox",
        "profile_text": "Loves dinosaurs and building dens.",
        "profile_visible_to_adopters": True,
        "la_ref": "LA-N1",
    }
    body.update(overrides)
    return body


def household_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "applicant_names": ["Sam Adopter", "Alex Adopter"],
        "approving_agency_ref": "RAA-S",
        "approved_on": (TODAY - timedelta(days=100)).isoformat(),
        "approved_children": 2,
        "age_min_years": 0,
        "age_max_years": 6,
        "can_meet": needs(emotional_behavioural="medium"),
        "accepts_sibling_group": True,
        "contact_openness": "direct_siblings",
        "region": "south_west",
        "latitude": 51.01,
        "longitude": -3.02,
        "ethnicity": "white_british",
        "religion": "none",
        "languages": ["english"],
    }
    body.update(overrides)
    return body


async def placed_group(
    client,
    auth,
    *,
    placed_on: date,
    household_agency: str = "RAA-S",
    size: int = 1,
    la_ref: str = "LA-N1",
    approved_children: int = 2,
) -> dict[str, Any]:
    """A sibling group of `size` taken through a whole link, over the API, to a placement on
    `placed_on` (the children's placement order 200 days before it). Returns the placement,
    its ETag, and the link's ref and ETag."""

    async def ok(response: httpx.Response) -> httpx.Response:
        assert response.status_code in (200, 201), response.text
        return response

    dates = {
        "placement_order_on": (placed_on - timedelta(days=200)).isoformat(),
        "entered_care_on": (placed_on - timedelta(days=400)).isoformat(),
        "date_of_birth": (placed_on - timedelta(days=365 * 3)).isoformat(),
    }
    children = [
        (
            await ok(
                await client.post(
                    "/v1/children", json=child_payload(first_name=f"K{i}", la_ref=la_ref, **dates), headers=auth()
                )
            )
        ).json()
        for i in range(size)
    ]
    group_ref = children[0]["sibling_group_ref"]
    if size > 1:
        group_ref = (
            await ok(
                await client.post(
                    "/v1/sibling-groups", json={"child_refs": [c["ref"] for c in children]}, headers=auth()
                )
            )
        ).json()["ref"]
    household = (
        await ok(
            await client.post(
                "/v1/households",
                json=household_payload(approving_agency_ref=household_agency, approved_children=approved_children),
                headers=auth(),
            )
        )
    ).json()
    link = await ok(
        await client.post(
            "/v1/links",
            json={
                "sibling_group_ref": group_ref,
                "household_ref": household["ref"],
                "origin": "family_finder",
                "reason": "Chosen from the live candidates",
                "requested_on": (placed_on - timedelta(days=60)).isoformat(),
            },
            headers=auth(),
        )
    )
    steps = (
        ("agree", {"on": (placed_on - timedelta(days=50)).isoformat()}),
        ("panel", {"on": (placed_on - timedelta(days=30)).isoformat(), "recommendation": "recommended"}),
        ("decide", {"on": (placed_on - timedelta(days=20)).isoformat()}),
        ("place", {"on": placed_on.isoformat()}),
    )
    ref = link.json()["ref"]
    for step, body in steps:
        link = await ok(
            await client.post(
                f"/v1/links/{ref}/{step}", json=body, headers={**auth(), "If-Match": link.headers["ETag"]}
            )
        )
    placement = await ok(await client.get(f"/v1/placements/{link.json()['placement_ref']}", headers=auth()))
    return {**placement.json(), "etag": placement.headers["ETag"], "link_ref": ref, "link_etag": link.headers["ETag"]}
