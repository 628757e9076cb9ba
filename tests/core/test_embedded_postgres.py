"""The embedded PostgreSQL: a second process on the same data folder joins the running
server instead of starting another on the same files."""

import asyncio
import subprocess
import sys
import textwrap

import asyncpg

from services.core.database import start_embedded_postgres

CHILD = textwrap.dedent("""
    import asyncio, sys
    import asyncpg
    from pathlib import Path
    from services.core.database import start_embedded_postgres

    url = start_embedded_postgres(Path(sys.argv[1]), "shared")
    async def main():
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        await conn.execute("INSERT INTO notes VALUES ('from the second process')")
        print(await conn.fetchval("SELECT pg_postmaster_start_time()::text"))
        await conn.close()
    asyncio.run(main())
""")


def test_a_second_process_shares_the_running_server(own_server_dir):
    url = start_embedded_postgres(own_server_dir, "shared").replace("postgresql+asyncpg", "postgresql")

    async def prepare() -> str:
        conn = await asyncpg.connect(url)
        await conn.execute("CREATE TABLE notes (text TEXT)")
        started = await conn.fetchval("SELECT pg_postmaster_start_time()::text")
        await conn.close()
        return started

    started = asyncio.run(prepare())
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(own_server_dir)], capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == started  # the same server, not a second one

    async def read() -> list[str]:
        conn = await asyncpg.connect(url)  # still up after the other process left
        rows = [r["text"] for r in await conn.fetch("SELECT text FROM notes")]
        await conn.close()
        return rows

    assert asyncio.run(read()) == ["from the second process"]
