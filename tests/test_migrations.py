"""Migrations upgrade, downgrade and upgrade again, and agree with the models."""

import asyncio
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.all_models import metadata
from services.core.migrate import downgrade, upgrade
from tests.conftest import _create_database, _drop_database


def _differences(url: str) -> list:
    async def compare() -> list:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
        await engine.dispose()
        return diff

    return asyncio.run(compare())


def test_upgrade_downgrade_upgrade_and_models_agree(server_url):
    name = f"adoption_migrations_{uuid.uuid4().hex[:8]}"
    url = _create_database(server_url, name)
    try:
        upgrade(url)
        for revision in ("0002", "0001", "base"):  # one step at a time, each reversible
            downgrade(url, revision)
            upgrade(url)
            downgrade(url, revision)
        upgrade(url)
        assert _differences(url) == []
    finally:
        _drop_database(server_url, name)
