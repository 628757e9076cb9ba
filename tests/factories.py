"""Payloads and records for tests: valid by default, overridable field by field."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.register.models import Agency
from services.register.vocabulary import NEEDS, AgencyKind, Region

TODAY = date.today()


async def add_agencies(conn: AsyncConnection, prefix: str = "") -> dict[str, int]:
    """Two RAAs in different regions, an LA in each, and a VAA (refs prefixed by `prefix`)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
        north = Agency(ref=prefix + "RAA-N", name="North RAA (test)", kind=AgencyKind.RAA, region=Region.NORTH_WEST,
                       latitude=53.5, longitude=-2.5)
        south = Agency(ref=prefix + "RAA-S", name="South RAA (test)", kind=AgencyKind.RAA, region=Region.SOUTH_WEST,
                       latitude=51.0, longitude=-3.0)
        vaa = Agency(ref=prefix + "VAA-1", name="Voluntary agency (test)", kind=AgencyKind.VAA, region=Region.LONDON,
                     latitude=51.5, longitude=-0.1)
        session.add_all([north, south, vaa])
        await session.flush()
        la_n = Agency(ref=prefix + "LA-N1", name="North LA (test)", kind=AgencyKind.LA, region=Region.NORTH_WEST,
                      parent_raa_id=north.id, latitude=53.4, longitude=-2.2)
        la_s = Agency(ref=prefix + "LA-S1", name="South LA (test)", kind=AgencyKind.LA, region=Region.SOUTH_WEST,
                      parent_raa_id=south.id, latitude=50.9, longitude=-3.1)
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
