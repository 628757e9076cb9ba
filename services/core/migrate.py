"""Run Alembic migrations from the program (the CLI, the tests, the demo)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused")).get_current_head()
    if head is None:
        raise RuntimeError("the migrations folder has no revisions")
    return head


async def ensure_schema_is_current(engine: AsyncEngine) -> None:
    """Refuse to serve on a database the code does not match (run `migrate` first)."""
    async with engine.connect() as conn:
        current = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    head = head_revision()
    if current != head:
        raise RuntimeError(
            f"the database schema is at {current or 'nothing'}, this code needs {head}: run `adoption-register migrate`"
        )
