"""Rate limiting of failed logins and token requests, per account and per address.

Failures are rows in PostgreSQL, so the limit holds across every replica."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.settings import Settings
from services.register.oauth.models import AuthFailure


def account_key(name: str) -> str:
    return f"account:{name.strip().lower()}"


def address_key(address: str | None) -> str:
    return f"address:{address or 'unknown'}"


async def is_limited(session: AsyncSession, settings: Settings, *, account: str | None, address: str) -> bool:
    since = datetime.now(UTC) - timedelta(minutes=settings.auth_failure_window_minutes)
    limits = {address: settings.auth_max_failures_per_address}
    if account:
        limits[account] = settings.auth_max_failures_per_account
    counts = dict(
        (
            await session.execute(
                select(AuthFailure.key, func.count())
                .where(AuthFailure.key.in_(limits), AuthFailure.occurred_at >= since)
                .group_by(AuthFailure.key)
            )
        ).all()
    )
    return any(counts.get(key, 0) >= limit for key, limit in limits.items())


def record_failure(session: AsyncSession, *, account: str | None, address: str) -> None:
    session.add(AuthFailure(key=address))
    if account:
        session.add(AuthFailure(key=account))
