"""The command line against a real database: migrate, seed, clients, adopters, keys, tokens."""

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from services.cli import app
from services.core.settings import get_settings
from tests.conftest import _create_database, _drop_database


@pytest.fixture
def cli_database(server_url, monkeypatch):
    name = f"adoption_cli_{uuid.uuid4().hex[:8]}"
    url = _create_database(server_url, name)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    _drop_database(server_url, name)


def query(url: str, sql: str):
    async def run():
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            value = (await conn.execute(text(sql))).scalar()
        await engine.dispose()
        return value

    return asyncio.run(run())


def test_migrate_seed_clients_adopters_keys_and_tokens(cli_database):
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    seeded = runner.invoke(app, ["seed", "--synthetic", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "SYNTHETIC" in seeded.output and "mean days since placement order" in seeded.output
    assert query(cli_database, "SELECT count(*) FROM agencies WHERE synthetic") == 203
    again = runner.invoke(app, ["seed", "--synthetic"])
    assert again.exit_code != 0 and query(cli_database, "SELECT count(*) FROM agencies") == 203

    matched = runner.invoke(app, ["match", "--lexicographic"])
    assert matched.exit_code == 0, matched.output
    assert "long-waiting (18+ months) matched" in matched.output and "lexicographic" in matched.output
    assert query(cli_database, "SELECT status FROM match_runs") == "succeeded"

    first = runner.invoke(app, ["fees", "raise-due"])
    assert first.exit_code == 0 and "cross-agency placements checked" in first.output
    lines = query(cli_database, "SELECT count(*) FROM fee_lines")
    assert "0 fee lines raised" in runner.invoke(app, ["fees", "raise-due"]).output  # idempotent
    assert query(cli_database, "SELECT count(*) FROM fee_lines") == lines

    no_key = runner.invoke(app, ["tokens", "issue", "--subject", "ops", "--scopes", "children:read"])
    assert no_key.exit_code != 0
    assert "new signing key" in runner.invoke(app, ["keys", "rotate"]).output
    token = runner.invoke(
        app, ["tokens", "issue", "--subject", "ops", "--scopes", "children:read", "--agency", "RAA-01"]
    )
    assert token.exit_code == 0 and token.output.count(".") == 2
    bad_scope = runner.invoke(app, ["tokens", "issue", "--subject", "ops", "--scopes", "everything:all"])
    assert bad_scope.exit_code != 0

    created = runner.invoke(
        app,
        [
            "clients",
            "create",
            "--name",
            "RAA-01 case system",
            "--scopes",
            "children:read households:read",
            "--agency",
            "RAA-01",
        ],
    )
    assert created.exit_code == 0, created.output
    secret = created.output.split("client_secret: ")[1].split()[0]
    stored = query(cli_database, "SELECT client_secret_hash FROM oauth_clients")
    assert secret not in stored and len(stored) == 64  # only the hash is kept
    public_with_staff_scope = runner.invoke(
        app,
        [
            "clients",
            "create",
            "--name",
            "app",
            "--scopes",
            "children:read",
            "--public",
            "--redirect-uri",
            "https://app.example/cb",
        ],
    )
    assert public_with_staff_scope.exit_code != 0

    household = query(cli_database, "SELECT ref FROM households LIMIT 1")
    invited = runner.invoke(
        app,
        ["adopters", "invite", "--household", household, "--email", "a@example.org"],
        input="a long enough password\na long enough password\n",
    )
    assert invited.exit_code == 0, invited.output
    assert query(cli_database, "SELECT password_hash FROM adopter_accounts").startswith("$argon2")
    short = runner.invoke(
        app, ["adopters", "invite", "--household", household, "--email", "b@example.org"], input="short\nshort\n"
    )
    assert short.exit_code != 0
