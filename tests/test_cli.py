"""The command line against a real database: migrate, seed, clients, adopters, keys, tokens."""

import asyncio
import functools

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from services.cli import app
from services.core.settings import get_settings
from services.register.seed import load
from services.register.seed.generate import generate_register

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


@pytest.fixture
def use_database(monkeypatch):
    """Points the command line at a database (as DATABASE_URL does)."""

    def point_at(url: str) -> str:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        return url

    yield point_at
    get_settings.cache_clear()


def query(url: str, sql: str):
    async def run():
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            value = (await conn.execute(text(sql))).scalar()
        await engine.dispose()
        return value

    return asyncio.run(run())


def test_migrate_and_seed_an_empty_database(new_database, use_database, monkeypatch):
    cli_database = use_database(new_database())
    # The waiting pool only: loading three years of past placements is the seeded template's
    # work (tests/fixtures/database.py), checked by tests/register/seed/test_load.py.
    monkeypatch.setattr(load, "generate_register", functools.partial(generate_register, history_years=0))
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    seeded = runner.invoke(app, ["seed", "--synthetic", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "SYNTHETIC" in seeded.output and "mean days since placement order" in seeded.output
    assert "2,940 waiting children" in seeded.output and "1,420 households" in seeded.output
    assert query(cli_database, "SELECT count(*) FROM agencies WHERE synthetic") == 203
    again = runner.invoke(app, ["seed", "--synthetic"])
    assert again.exit_code != 0 and query(cli_database, "SELECT count(*) FROM agencies") == 203


def test_match_fees_clients_adopters_keys_and_tokens(seeded_database_url, use_database):
    cli_database = use_database(seeded_database_url)
    runner = CliRunner()
    matched = runner.invoke(app, ["match", "--lexicographic"])
    assert matched.exit_code == 0, matched.output
    assert "long-waiting (18+ months) matched" in matched.output and "lexicographic" in matched.output
    assert query(cli_database, "SELECT status FROM match_runs") == "succeeded"

    # As of the day of the 100th cross-agency placement: the nightly job's work over a hundred
    # placements, not the whole history's thousands.
    as_of = query(
        cli_database,
        "SELECT placed_on::text FROM placements WHERE child_agency_id <> household_agency_id "
        "ORDER BY placed_on OFFSET 99 LIMIT 1",
    )
    first = runner.invoke(app, ["fees", "raise-due", "--as-of", as_of])
    assert first.exit_code == 0 and "cross-agency placements checked" in first.output, first.output
    lines = query(cli_database, "SELECT count(*) FROM fee_lines")
    assert "0 fee lines raised" in runner.invoke(app, ["fees", "raise-due", "--as-of", as_of]).output  # idempotent
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
