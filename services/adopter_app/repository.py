"""All SQL of the adopters' app: its session table."""

from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.adopter_app.models import AdopterAppSession


async def add(session: AsyncSession, row: AdopterAppSession) -> AdopterAppSession:
    session.add(row)
    await session.flush()
    return row


async def by_hash(session: AsyncSession, session_hash: str, now: datetime) -> AdopterAppSession | None:
    return await session.scalar(
        select(AdopterAppSession).where(
            AdopterAppSession.session_hash == session_hash, AdopterAppSession.expires_at > now
        )
    )


async def lock(session: AsyncSession, session_id: int) -> AdopterAppSession | None:
    """The row, locked until the transaction ends: one refresh at a time per session (a
    refresh token presented twice would make the register revoke the whole sign-in)."""
    return await session.scalar(select(AdopterAppSession).where(AdopterAppSession.id == session_id).with_for_update())


async def touch(session: AsyncSession, session_id: int, now: datetime, expires_at: datetime) -> None:
    await session.execute(
        update(AdopterAppSession)
        .where(AdopterAppSession.id == session_id)
        .values(last_seen_at=now, expires_at=expires_at)
    )


async def remove(session: AsyncSession, session_id: int) -> str | None:
    """Deletes the session; returns its (encrypted) refresh token, to revoke."""
    return await session.scalar(
        delete(AdopterAppSession).where(AdopterAppSession.id == session_id).returning(AdopterAppSession.refresh_token)
    )


async def remove_expired(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(AdopterAppSession).where(AdopterAppSession.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for DML


async def ping(engine: AsyncEngine) -> None:
    """The readiness probe: the session table's database answers."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
