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
    count = lambda sql: connection.scalar(text(sql))  # noqa: E731
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
    page = await client.get("/v1/children", params={"limit": 50}, headers=auth())
    assert page.status_code == 200 and len(page.json()["items"]) == 50
    profiles = await client.get("/v1/profiles", headers=auth("profiles:read", household="H-NONE"))
    assert profiles.status_code == 200 and profiles.json()["items"]
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as s:
        with pytest.raises(RegisterNotEmpty):
            await load_register(s, register)
