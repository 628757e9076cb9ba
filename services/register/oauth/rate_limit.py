"""Rate limiting of failed sign-ins and token requests: one mechanism, two kinds of key.

- per account: the adopter's user (by email) at sign-in, the confidential client at the
  token endpoint. A public client (the adopters' app) is never an account key: anyone can
  name it, so failures under its name would lock out every adopter.
- per real client address (`services.core.http.client_address`, which trusts forwarded
  headers only from `TRUSTED_PROXIES`).

An attempt is counted before it is checked and uncounted when it succeeds, in one upsert
per request committed on its own, so N parallel attempts count N and no more than the
limit ever reach the password or secret check. Counters live in PostgreSQL, so the limits
hold across every replica.
"""

import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.settings import Settings
from services.register.oauth import repository


def account_key(email: str) -> str:
    return f"account:{email.strip().lower()}"


def address_key(address: str) -> str:
    return f"address:{address}"


@dataclass(frozen=True)
class Attempt:
    """A counted attempt; `allowed` is False once any of its keys is over its limit."""

    keys: tuple[str, ...]
    allowed: bool
    retry_after_seconds: int


async def begin_attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    address: str,
    account: str | None = None,
    client_id: str | None = None,
) -> Attempt:
    """Count an attempt, in a transaction of its own committed at once, so parallel requests
    see each other's counts. Call it before the request's own session takes a connection
    (a dependency declared first): a request never holds one connection waiting for another."""
    async with sessionmaker() as session, session.begin():
        limits = {address: settings.auth_max_failures_per_address}
        account = account or await _confidential_client(session, client_id)
        if account:
            limits[account] = settings.auth_max_failures_per_account
        rows = await repository.count_attempt(session, sorted(limits), settings.auth_failure_window_minutes)
    over = [(key, left) for key, attempts, left in rows if attempts > limits[key]]
    retry = max((left for _, left in over), default=0.0)
    return Attempt(keys=tuple(sorted(limits)), allowed=not over, retry_after_seconds=max(1, math.ceil(retry)))


async def attempt_succeeded(session: AsyncSession, attempt: Attempt) -> None:
    """A success is not a failure: take back what `begin_attempt` counted (in the request's
    own transaction, which commits moments later)."""
    await repository.uncount_attempt(session, list(attempt.keys))


async def _confidential_client(session: AsyncSession, client_id: str | None) -> str | None:
    """A token request counts against a registered confidential client only: a public one
    (the adopters' app) can be named by anyone, and its failures would lock out every adopter."""
    if not client_id:
        return None
    method = await repository.client_auth_method(session, client_id)
    return f"client:{client_id}" if method is not None and method != "none" else None
