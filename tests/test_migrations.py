"""Migrations step down and up one at a time through the whole history, each step reversible,
and at head agree with the models."""

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.all_models import metadata
from services.core.migrate import alembic_config, downgrade, upgrade

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


def _inspect(url: str, look):
    async def run():
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _revision(url: str) -> str | None:
    return _inspect(url, lambda sync: MigrationContext.configure(sync).get_current_revision())


def _differences(url: str) -> list:
    return _inspect(
        url, lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
    )


def test_every_migration_steps_down_and_up_and_models_agree(new_database):
    url = new_database()
    script = ScriptDirectory.from_config(alembic_config(url))
    history = [r.revision for r in script.walk_revisions()]  # head first
    assert len(history) == len(list(Path(script.versions).glob("*.py"))), "one revision per file, in one line"
    upgrade(url)
    for revision, below in zip(history, [*history[1:], None], strict=True):
        assert _revision(url) == revision
        downgrade(url, "-1")
        assert _revision(url) == below
        upgrade(url, "+1")  # what the step down left, the step up can build on again
        assert _revision(url) == revision
        downgrade(url, "-1")
    assert _inspect(url, lambda sync: inspect(sync).get_table_names()) == ["alembic_version"]
    upgrade(url)
    assert _differences(url) == []
