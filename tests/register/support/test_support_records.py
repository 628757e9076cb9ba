"""Support records are audited when read or written, versioned, never deleted, and the
fund's lines never change."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.factories import add_agencies
from tests.fixtures.support import adopted_family, apply, assessed, family, ok


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def test_reads_and_writes_are_audited_and_history_is_kept(client, auth, connection):
    fam = await adopted_family(client, auth)
    ref = await assessed(client, auth, fam)
    ok(await client.get("/v1/support/me", headers=family(auth, fam["household_ref"])))
    application = ok(await apply(client, auth, ref, fam["child_refs"][0], 1_000, 2025), 201)

    async def actions(resource_ref: str) -> list[tuple[str, str]]:
        page = ok(await client.get("/v1/audit/events", params={"resource_ref": resource_ref}, headers=auth()))
        return sorted((e["action"], e["resource_type"]) for e in page["items"])

    assert await actions(ref) == [
        ("create", "support_assessment"),
        ("read", "support_assessment"),
        ("update", "support_assessment"),
    ]
    assert ("read", "support_record") in await actions(fam["household_ref"])
    assert ("create", "asf_application") in await actions(application["ref"])

    versions = await connection.scalar(
        text(
            "SELECT count(*) FROM record_versions v JOIN support_assessments s ON s.id = v.record_id "
            "WHERE v.table_name = 'support_assessments' AND s.ref = :ref"
        ),
        {"ref": ref},
    )
    assert versions == 2  # requested, then decided
    for statement in (
        "DELETE FROM support_assessments",
        "UPDATE asf_lines SET amount_pence = 1",
        "DELETE FROM asf_lines",
        "DELETE FROM asf_allowances",
        "DELETE FROM passport_entitlements",
    ):
        savepoint = await connection.begin_nested()
        with pytest.raises(DBAPIError, match="not allowed"):
            await connection.execute(text(statement))
        await savepoint.rollback()
    # The database itself refuses to take a child past a limit, whatever the code does.
    savepoint = await connection.begin_nested()
    with pytest.raises(DBAPIError, match="within_limit"):
        await connection.execute(text("UPDATE asf_allowances SET used_pence = limit_pence + 1"))
    await savepoint.rollback()
