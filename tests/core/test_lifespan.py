"""The app's start-up: it serves only on a database migrated to this code's head."""

import asyncio

import pytest

from services.register.app import create_app


async def _start(app) -> None:
    async with app.router.lifespan_context(app):
        assert app.state.token_verifiers and app.state.sessionmaker


def test_starts_on_a_migrated_database(database_url, settings):
    asyncio.run(_start(create_app(settings, database=database_url)))


def test_refuses_a_database_that_is_not_migrated(new_database, settings):
    with pytest.raises(RuntimeError, match="adoption-register migrate"):
        asyncio.run(_start(create_app(settings, database=new_database())))
