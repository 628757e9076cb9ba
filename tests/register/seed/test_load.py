"""Loading the synthetic register into PostgreSQL, as `seed --synthetic` does.

The load is the one that built the run's seeded template (tests/fixtures/database.py, with
`load_register`); this test checks what it stored, on a copy, instead of loading 20,000 rows
again."""

from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from services.register.seed.generate import generate_register
from services.register.seed.load import RegisterNotEmpty, load_register


@pytest.fixture
async def seeded(seeded_database_url):
    engine = create_async_engine(seeded_database_url, poolclass=NullPool)
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


async def test_load_counts_fees_and_refuses_a_second_load(seeded, make_app, auth):

    async def count(sql: str) -> int:
        return int(await seeded.scalar(text(sql)))

    assert await count("SELECT count(*) FROM agencies") == 203
    assert (
        await count(
            "SELECT count(*) FROM households h WHERE NOT EXISTS "
            "(SELECT 1 FROM placements p WHERE p.household_id = h.id)"
        )
        == 1_420
    )
    assert (
        await count(
            "SELECT count(*) FROM children c JOIN sibling_groups g ON g.id = c.sibling_group_id "
            "WHERE g.status = 'waiting'"
        )
        == 2_940
    )
    assert await count("SELECT count(*) FROM record_versions WHERE table_name = 'children'") == await count(
        "SELECT count(*) FROM children"
    )
    assert (
        await count("SELECT count(*) FROM fee_lines WHERE raised_by = 'seed:synthetic'")
        == await count("SELECT count(*) FROM fee_lines")
        > 0
    )
    assert (
        await count(
            "SELECT count(*) FROM fee_lines f JOIN placements p ON p.id = f.placement_id "
            "WHERE p.child_agency_id = p.household_agency_id"
        )
        == 0
    )
    # Every past placement came through a link with its steps in order, the decision on the
    # group's match day, and adopted where an order was made.
    placements = await count("SELECT count(*) FROM placements")
    assert await count("SELECT count(*) FROM links") == placements > 0
    assert (
        await count(
            "SELECT count(*) FROM placements p JOIN links l ON l.placement_id = p.id JOIN sibling_groups g "
            "ON g.id = p.sibling_group_id WHERE l.decided_on = g.matched_on AND l.placed_on = p.placed_on "
            "AND l.status = CASE WHEN p.adoption_order_on IS NULL THEN 'placed' ELSE 'adopted' END "
            "AND l.child_agency_id = p.child_agency_id AND l.household_agency_id = p.household_agency_id"
        )
        == placements
    )
    assert await count("SELECT count(*) FROM link_steps") == await count(
        "SELECT count(*) * 5 + count(adoption_order_on) FROM links"
    )
    app = await make_app(seeded)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = await client.get("/v1/children", params={"limit": 50}, headers=auth())
        assert page.status_code == 200 and len(page.json()["items"]) == 50
        profiles = await client.get("/v1/profiles", headers=auth("profiles:read", household="H-NONE"))
        assert profiles.status_code == 200 and profiles.json()["items"]
    async with AsyncSession(bind=seeded, join_transaction_mode="create_savepoint") as s:
        with pytest.raises(RegisterNotEmpty):
            await load_register(s, generate_register(1, date.today(), history_years=0))


async def test_a_share_of_waiting_households_have_an_approved_family_profile(seeded, make_app, auth):
    rows = (
        await seeded.execute(
            text(
                "SELECT h.ref, a.ref, f.state, f.approved_narrative = f.narrative FROM family_profiles f "
                "JOIN households h ON h.id = f.household_id JOIN agencies a ON a.id = h.approving_agency_id"
            )
        )
    ).all()
    assert 0.3 * 1_420 < len(rows) < 0.5 * 1_420
    assert {(state, same) for _, _, state, same in rows} == {("approved", True)}
    household_ref, agency_ref = rows[0][0], rows[0][1]
    other = next(
        ref for ref in (await seeded.scalars(text("SELECT ref FROM agencies WHERE kind = 'raa'"))) if ref != agency_ref
    )
    app = await make_app(seeded)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        read = await client.get(f"/v1/households/{household_ref}/profile", headers=auth(agency=other))
    assert read.status_code == 200 and read.json()["state"] == "approved" and read.json()["narrative"]
