"""A scratch database holding the synthetic national register, for the benchmarks.

Embedded PostgreSQL in a temporary folder, or the server in DATABASE_URL (a new database
is created on it; benchmarks leave it there for inspection)."""

import asyncio
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.core.database import asyncpg_url, create_engine, create_sessionmaker, start_embedded_postgres
from services.core.migrate import upgrade
from services.core.settings import Settings
from services.register.seed.generate import generate_register
from services.register.seed.load import load_register


async def seeded_database(seed: int = 1) -> tuple[str, AsyncEngine]:
    server = (
        asyncpg_url(os.environ["DATABASE_URL"])
        if os.environ.get("DATABASE_URL")
        else start_embedded_postgres(Path(tempfile.mkdtemp()) / "pg")
    )
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, Settings())
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
    engine = create_engine(url, Settings(environment="test"))
    started = time.perf_counter()
    async with create_sessionmaker(engine)() as session, session.begin():
        await load_register(session, generate_register(seed, date.today()))
    print(f"synthetic national register (seed {seed}) loaded in {time.perf_counter() - started:.1f} s")
    return url, engine
