"""Test fixtures: a real PostgreSQL, migrated once per run; each test in a rolled-back
transaction; real JWTs minted with a key made here, so scope checks run end to end.

The database is the server named by TEST_DATABASE_URL (a fresh database is created on it
for the run and dropped after), or else an embedded PostgreSQL under .data/test-postgres.
"""

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import ECKey, KeySet
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from services.apps import create_combined_app
from services.core.app_factory import token_verifiers
from services.core.auth import Scope
from services.core.database import asyncpg_url, start_embedded_postgres
from services.core.migrate import upgrade
from services.core.settings import Settings
from services.register.app import local_public_keys, revoked_access_tokens
from services.register.oauth.keys import mint_access_token
from tests.factories import add_agencies

ROOT = Path(__file__).resolve().parents[1]
# Every log line of the run, scanned at the end for personal data (tests/test_zz_logs.py).
RUN_LOG = ROOT / ".data" / "test-run.log"
ALL_SCOPES = [s.value for s in Scope]


def _create_database(server_url: str, name: str) -> str:
    async def create() -> None:
        engine = create_async_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(create())
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(server_url: str, name: str) -> None:
    async def drop() -> None:
        engine = create_async_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    asyncio.run(drop())


@pytest.fixture(scope="session", autouse=True)
def run_log() -> Iterator[Path]:
    RUN_LOG.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(RUN_LOG, mode="w")
    handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{message}", style="{"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    logging.getLogger("adoption_register.access").setLevel(logging.INFO)
    yield RUN_LOG
    logging.getLogger().removeHandler(handler)
    handler.close()


@pytest.fixture(scope="session")
def server_url() -> str:
    """A URL of the server's maintenance database (where test databases are created)."""
    if os.environ.get("TEST_DATABASE_URL"):
        return asyncpg_url(os.environ["TEST_DATABASE_URL"])
    return start_embedded_postgres(ROOT / ".data" / "test-postgres")


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    name = f"adoption_test_{uuid.uuid4().hex[:10]}"
    url = _create_database(server_url, name)
    upgrade(url)
    yield url
    _drop_database(server_url, name)


@pytest.fixture(scope="session")
def committed_database_url(server_url: str) -> Iterator[str]:
    """A second database for tests whose writes must really commit (concurrency, faults),
    so they never leak rows into the rolled-back tests' database."""
    name = f"adoption_committed_{uuid.uuid4().hex[:10]}"
    url = _create_database(server_url, name)
    upgrade(url)
    yield url
    _drop_database(server_url, name)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(environment="test", token_issuer="https://register.test", token_audience="adoption-register")


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection per test, inside a transaction that is rolled back at the end."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


@pytest.fixture(scope="session")
def signing_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "test-key", "alg": "ES256"}, private=True)


@pytest.fixture
def make_app(connection: AsyncConnection, settings: Settings, signing_key: ECKey):
    async def factory(conn: AsyncConnection | AsyncEngine = connection, app_settings: Settings | None = None):
        settings_ = app_settings or settings
        app = create_combined_app(settings_)
        # ASGITransport does not run the lifespan: wire the state it would have made, but
        # on the test's connection, where each request's commit becomes a savepoint.
        app.state.settings = settings_
        app.state.background_tasks = set()
        app.state.engine = conn if isinstance(conn, AsyncEngine) else conn.engine
        app.state.sessionmaker = async_sessionmaker(
            bind=conn, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )

        async def load_keys() -> KeySet:
            # The test's own key, plus any the register's authorisation server made.
            stored = await local_public_keys(app.state.sessionmaker)
            return KeySet([ECKey.import_key(signing_key.as_dict(private=False)), *stored.keys])

        async def load_revoked() -> frozenset[str]:
            return await revoked_access_tokens(app.state.sessionmaker)

        app.state.token_verifiers = await token_verifiers(settings, load_keys, load_revoked=load_revoked)
        return app

    return factory


@pytest.fixture
async def client(make_app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=await make_app()), base_url="http://test") as c:
        yield c


TokenFactory = Callable[..., str]


@pytest.fixture
def token(settings: Settings, signing_key: ECKey) -> TokenFactory:
    def mint(
        *scopes: str,
        agency: str | None = None,
        household: str | None = None,
        subject: str = "tester",
        lifetime: int | None = None,
    ) -> str:
        return mint_access_token(
            signing_key,
            settings,
            subject=subject,
            scopes=scopes or ALL_SCOPES,
            client_id="test-client",
            agency_ref=agency,
            household_ref=household,
            lifetime_seconds=lifetime,
        )

    return mint


@pytest.fixture
def auth(token: TokenFactory) -> Callable[..., dict[str, str]]:
    def headers(*scopes: str, agency: str | None = None, household: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(*scopes, agency=agency, household=household)}"}

    return headers


@pytest.fixture
async def committed_client(make_app, committed_database_url):
    """A client whose requests really commit, on agencies with refs unique to the test
    (the prefix); for races between transactions."""
    engine = create_async_engine(committed_database_url, pool_size=5)
    prefix = f"X{uuid.uuid4().hex[:6].upper()}-"
    async with engine.connect() as conn:
        await add_agencies(conn, prefix=prefix)
        await conn.commit()
    app = await make_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client, prefix, engine
    await engine.dispose()
