"""Loading the synthetic register into PostgreSQL, as `seed --synthetic` does."""

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.register.seed.generate import generate_register
from services.register.seed.load import RegisterNotEmpty, load_register


async def test_load_counts_fees_and_refuses_a_second_load(connection, client, auth):
    register = generate_register(7, date.today())
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        counts = await load_register(s, register)
        await s.commit()
    assert counts["waiting children"] == 2_940 and counts["households"] == 1_420 and counts["agencies"] == 203

    async def count(sql: str) -> int:
        return int(await connection.scalar(text(sql)))

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
    lines = await count("SELECT count(*) FROM fee_lines")
    assert lines == counts["fee lines"] > 0
    assert (
        await count(
            "SELECT count(*) FROM fee_lines f JOIN placements p ON p.id = f.placement_id "
            "WHERE p.child_agency_id = p.household_agency_id"
        )
        == 0
    )
    # Every past placement came through a link with its steps in order, the decision on the
    # group's match day, and adopted where an order was made.
    assert await count("SELECT count(*) FROM links") == counts["past links"] == counts["past placements"] > 0
    assert (
        await count(
            "SELECT count(*) FROM placements p JOIN links l ON l.placement_id = p.id JOIN sibling_groups g "
            "ON g.id = p.sibling_group_id WHERE l.decided_on = g.matched_on AND l.placed_on = p.placed_on "
            "AND l.status = CASE WHEN p.adoption_order_on IS NULL THEN 'placed' ELSE 'adopted' END "
            "AND l.child_agency_id = p.child_agency_id AND l.household_agency_id = p.household_agency_id"
        )
        == counts["past placements"]
    )
    assert await count("SELECT count(*) FROM link_steps") == await count(
        "SELECT count(*) * 5 + count(adoption_order_on) FROM links"
    )
    page = await client.get("/v1/children", params={"limit": 50}, headers=auth())
    assert page.status_code == 200 and len(page.json()["items"]) == 50
    profiles = await client.get("/v1/profiles", headers=auth("profiles:read", household="H-NONE"))
    assert profiles.status_code == 200 and profiles.json()["items"]
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as s:
        with pytest.raises(RegisterNotEmpty):
            await load_register(s, register)
