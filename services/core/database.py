"""Database engine, sessions and the embedded PostgreSQL.

The engine is made per application (in its lifespan) or per command, never at import time.
"""

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Dialect, MetaData, Text, event, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.types import TypeDecorator

from services.core.pool import FairAsyncPool
from services.core.settings import Settings

log = logging.getLogger(__name__)

# Stable constraint names, so migrations can refer to them and error mapping can read them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The dialect hot reads are compiled for once (`driver_statement`): the engine's own.
_ASYNCPG_DIALECT = asyncpg_dialect()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


E = TypeVar("E", bound=StrEnum)


class TextEnum(TypeDecorator[E], Generic[E]):
    """A StrEnum stored as text (the table's CHECK constraint lists the values), so Python
    code handles members, never bare strings."""

    impl = Text
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def asyncpg_url(url: str) -> str:
    """Accept any PostgreSQL URL spelling and return the asyncpg one SQLAlchemy needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


# Held for the life of the process: pgserver stops the server when the last process using
# its data folder exits, so a second process on the same folder shares the running server.
_embedded_servers: dict[Path, Any] = {}  # pgserver.PostgresServer (untyped)


def start_embedded_postgres(data_dir: Path, database: str = "postgres") -> str:
    """Start (or join) the embedded PostgreSQL in `data_dir` and return its asyncpg URL."""
    import pgserver  # imported late: only the embedded mode needs it

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _embedded_servers.get(data_dir)
    if server is not None and not (data_dir / "postmaster.pid").exists():
        # Stopped since (by an operator, or a test of an outage): start it again. pgserver
        # caches its handle per folder, so that cache must forget the stopped one too.
        from pgserver.postgres_server import PostgresServer

        PostgresServer._instances.pop(data_dir, None)
        server = None
    if server is None:
        log.info("starting embedded PostgreSQL in %s", data_dir)
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
        _embedded_servers[data_dir] = server
    if database != "postgres":
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
    return asyncpg_url(server.get_uri(database))


def stop_embedded_postgres() -> None:
    """Let go of every embedded server this process started or joined: pgserver stops one
    when no other process uses it. Called however `serve` ends, a signal included."""
    while _embedded_servers:
        _, server = _embedded_servers.popitem()
        server.cleanup()


def database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return asyncpg_url(settings.database_url.get_secret_value())
    return start_embedded_postgres(settings.embedded_data_dir)


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        poolclass=FairAsyncPool,  # waiting requests get connections in the order they came
        pool_size=settings.database_pool_size,
        # No overflow: under a burst SQLAlchemy opened up to pool_size more connections and
        # closed each on its return, so every request beyond the pool paid a new backend,
        # asyncpg's type introspection and new prepared statements (a p99 several times the
        # p50). Requests wait for a pooled connection instead, up to pool_timeout.
        max_overflow=0,
        pool_timeout=5,  # fail fast rather than queue behind a database that is down
        connect_args={
            "timeout": 5,
            "server_settings": {
                "statement_timeout": str(settings.database_statement_timeout_ms),
                "application_name": "adoption-register",
                # `_literal` below relies on it (the default since PostgreSQL 9.1, made sure of).
                "standard_conforming_strings": "on",
            },
        },
    )
    event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def _replace_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """The pool's liveness check, without a round trip. SQLAlchemy's `pool_pre_ping` costs
    three per request on asyncpg (BEGIN, a ping, ROLLBACK); asyncpg learns of a connection the
    server closed (a restart, a terminated backend) from its socket, so a closed one is
    replaced here before any request uses it. A connection that dies unnoticed fails its
    request with 503 and SQLAlchemy then discards the whole pool (the outage test)."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this connection")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions of reads (`core/context.py`): each statement runs on its own, in autocommit,
    so asyncpg sends no BEGIN and no COMMIT and a one-statement read is one round trip. The
    level is set as the connection is checked out (asyncpg's adapter keeps it as an
    attribute: no round trip) and the pool restores the default when it returns; sharing the
    engine's pool, a read costs no more connections."""
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


def _literal(value: str) -> str:
    """A PostgreSQL string literal (standard_conforming_strings is on: see create_engine)."""
    if "\x00" in value:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return "'" + value.replace("'", "''") + "'"


class _BegunTransaction:
    """Stands for asyncpg's Transaction in SQLAlchemy's adapter once `set_request_context`
    has sent BEGIN itself: the adapter's commit and rollback end it."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def commit(self) -> None:
        await self._connection.execute("COMMIT")

    async def rollback(self) -> None:
        await self._connection.execute("ROLLBACK")


async def set_request_context(
    session: AsyncSession, *, principal: str, request_id: str, snapshot: bool = False
) -> None:
    """Tell the database who is writing: the history triggers copy these into every version.

    Called first in a transaction. On a fresh connection it begins the transaction and sets
    both values in ONE round trip (BEGIN and set_config as one simple-protocol message, since
    asyncpg would otherwise send BEGIN on its own first). Inside an outer transaction (a
    test's savepoint) it sets them with one statement after SQLAlchemy's own BEGIN.

    `snapshot`: a read-only transaction that sees one consistent state of the database
    throughout (REPEATABLE READ)."""
    settings = f"set_config('app.principal', {_literal(principal)}, true), "
    settings += f"set_config('app.request_id', {_literal(request_id)}, true)"
    connection = await session.connection()
    adapter: Any = (await connection.get_raw_connection()).dbapi_connection
    driver: Any = getattr(adapter, "_connection", None)
    fresh = (
        getattr(adapter, "_transaction", False) is None
        and getattr(adapter, "isolation_level", None) != "autocommit"
        and driver is not None
        and not driver.is_in_transaction()
    )
    if not fresh:
        if snapshot:  # must be the transaction's first statement
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        await session.execute(text(f"SELECT {settings}"))
        return
    begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" if snapshot else "BEGIN"
    statement = f"{begin}; SELECT {settings}"
    try:
        async with adapter._execute_mutex:
            await driver.execute(statement)
            adapter._transaction = _BegunTransaction(driver)
    except Exception as error:
        raise await _as_sqlalchemy_error(connection, adapter, statement, error) from error


async def _as_sqlalchemy_error(
    connection: AsyncConnection, adapter: Any, statement: str, error: Exception
) -> StatementError:
    """asyncpg's own error, raised beneath SQLAlchemy, as SQLAlchemy would have raised it: a
    DBAPIError (so a lost connection is a 503 like any other statement's), with the connection
    invalidated when it is gone so the pool never hands it out again."""
    dialect = connection.dialect
    try:
        adapter._handle_exception(error)  # raises asyncpg's error translated to the DBAPI's
    except Exception as translated:
        dbapi_error = translated
    disconnected = dialect.is_disconnect(cast(Any, dbapi_error), adapter, None)
    if disconnected:
        await connection.invalidate(dbapi_error)
    return DBAPIError.instance(
        statement,
        None,
        dbapi_error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=disconnected,
        dialect=dialect,
    )


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession], *, principal: str, request_id: str, snapshot: bool = False
) -> AsyncIterator[AsyncSession]:
    """The unit of work of a job (a request's is `core/context.py`): commits when the block
    ends normally, rolls back otherwise; writes carry the principal and request id.

    `snapshot`: a read-only transaction that sees one consistent state of the database
    throughout (REPEATABLE READ), for reading a whole pool at once."""
    async with sessionmaker() as session, session.begin():
        await set_request_context(session, principal=principal, request_id=request_id, snapshot=snapshot)
        yield session


@dataclass(frozen=True)
class DriverStatement:
    """A Core statement compiled once for asyncpg: its SQL, with `$1, $2, ...` standing for the
    bound parameters named in `names`, in that order; `constants` are the values the statement
    itself holds (a `.limit(1)`), the others are given to `fetch`."""

    sql: str
    names: tuple[str, ...]
    constants: Mapping[str, Any]


def driver_statement(statement: ClauseElement) -> DriverStatement:
    """Compile `statement` (a Core select, written with SQLAlchemy like any other) to the SQL
    the driver runs. Build it once per shape (module level or `lru_cache`) and run it with
    `fetch`. No expanding parameters (`IN` with a list): use `= any_(array)`. Parameters go
    to the driver as given, without SQLAlchemy's bind processing: plain values (a StrEnum is
    a str, a need level an int)."""
    compiled = cast(SQLCompiler, statement.compile(dialect=_ASYNCPG_DIALECT))
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    if any(bind.expanding for bind in binds):
        raise ValueError("an expanding parameter cannot be compiled once; use = any_(array) instead")
    constants = {name: bind.effective_value for name, bind in zip(names, binds, strict=True) if not bind.required}
    return DriverStatement(compiled.string, names, constants)


# What a hot read runs on: a connection (`async with RequestContext.connection()`) or a session.
Queryable = AsyncConnection | AsyncSession


async def fetch(db: Queryable, statement: DriverStatement, params: Mapping[str, Any]) -> list[Any]:
    """The rows (asyncpg Records: by position or by column name) of a hot read, run on the
    connection (or the session's) through the driver, in its unit of work: in autocommit for
    a read (one round trip), in the request's transaction otherwise, or a test's outer one.

    The hot reads (the lists and records `benchmarks/api_floor.py` measures) use this instead
    of the session's execute: asyncpg prepares the statement once per connection (its
    statement cache) and decodes the rows itself, and SQLAlchemy's execution, result and row
    processing (~15-20% of a list's CPU time) is skipped. Errors are SQLAlchemy's, as from
    any other statement (a lost connection is a 503 and is invalidated)."""
    connection = db if isinstance(db, AsyncConnection) else await db.connection()
    sync = connection.sync_connection
    # The pooled connection is at hand unless invalidated (only then would reaching it
    # reconnect, which needs SQLAlchemy's greenlet): one greenlet switch fewer per read.
    pooled = sync.connection if sync is not None and not sync.invalidated else await connection.get_raw_connection()
    adapter: Any = pooled.dbapi_connection
    if statement.constants:
        params = {**statement.constants, **params}
    args = [params[name] for name in statement.names]
    try:
        async with adapter._execute_mutex:
            if adapter._transaction is None:  # none in autocommit; else begun as SQLAlchemy would
                await adapter._start_transaction()
            return await adapter._connection.fetch(statement.sql, *args)
    except Exception as error:
        raise await _as_sqlalchemy_error(connection, adapter, statement.sql, error) from error
