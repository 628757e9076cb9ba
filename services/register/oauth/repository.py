"""All SQL of the authorisation server: clients, adopter accounts, codes, refresh tokens,
revocations, signing keys and the attempt counters.

Authlib's hooks run synchronously (inside `AsyncSession.run_sync`), so the functions they
call take a plain `Session`; the rest are async.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.register.models import Agency, Household
from services.register.oauth.models import (
    AdopterAccount,
    AuthorizationCode,
    OAuthClient,
    RefreshToken,
    RevokedAccessToken,
    SigningKey,
)

# --- used by Authlib's (synchronous) hooks ------------------------------------------------


def active_client(session: Session, client_id: str) -> OAuthClient | None:
    return session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == client_id, OAuthClient.disabled_at.is_(None))
    )


def authorization_code_for_update(session: Session, code_hash: str, client_id: str) -> AuthorizationCode | None:
    return session.scalar(
        select(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.client_id == client_id)
        .with_for_update()
    )


def refresh_token(session: Session, token_hash: str, *, for_update: bool = False) -> RefreshToken | None:
    query = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def active_account(session: Session, account_id: int) -> AdopterAccount | None:
    return session.scalar(
        select(AdopterAccount).where(AdopterAccount.id == account_id, AdopterAccount.disabled_at.is_(None))
    )


def revoke_family(session: Session, family_id: str, deny_for: timedelta) -> None:
    """Every refresh token of the family revoked, and every access token issued with them on
    the deny list for `deny_for` (the longest an access token can live)."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    session.execute(
        insert(RevokedAccessToken)
        .from_select(
            ["jti", "expires_at"],
            select(RefreshToken.access_token_jti, func.now() + deny_for).where(
                RefreshToken.family_id == family_id, RefreshToken.access_token_jti.is_not(None)
            ),
        )
        .on_conflict_do_nothing()
    )


# --- accounts, clients, keys ---------------------------------------------------------------


async def adopter_by_email(session: AsyncSession, email: str) -> AdopterAccount | None:
    return await session.scalar(
        select(AdopterAccount).where(
            func.lower(AdopterAccount.email) == email.strip().lower(), AdopterAccount.disabled_at.is_(None)
        )
    )


async def household_with_agency_ref(session: AsyncSession, household_ref: str) -> tuple[Household, str] | None:
    row = (
        await session.execute(
            select(Household, Agency.ref)
            .join(Agency, Household.approving_agency_id == Agency.id)
            .where(Household.ref == household_ref)
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None


async def client_auth_method(session: AsyncSession, client_id: str) -> str | None:
    return await session.scalar(
        select(OAuthClient.token_endpoint_auth_method).where(OAuthClient.client_id == client_id)
    )


async def active_keys(session: AsyncSession) -> list[SigningKey]:
    rows = await session.scalars(
        select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at, SigningKey.kid)
    )
    return list(rows)


async def revoked_access_tokens(session: AsyncSession) -> frozenset[str]:
    """The `jti` of every access token revoked before its expiry and not expired yet."""
    rows = await session.scalars(select(RevokedAccessToken.jti).where(RevokedAccessToken.expires_at > func.now()))
    return frozenset(rows)


# --- attempt counters (rate limits) ----------------------------------------------------------

_COUNT = text(
    """
    INSERT INTO auth_attempt_counters AS c (key, window_started_at, attempts)
    SELECT k, now(), 1 FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k
    ON CONFLICT (key) DO UPDATE SET
        attempts = CASE WHEN c.window_started_at <= now() - make_interval(mins => :window)
                        THEN 1 ELSE c.attempts + 1 END,
        window_started_at = CASE WHEN c.window_started_at <= now() - make_interval(mins => :window)
                                 THEN now() ELSE c.window_started_at END
    RETURNING key, attempts,
        extract(epoch FROM window_started_at + make_interval(mins => :window) - now()) AS seconds_left
    """
)
_UNCOUNT = text(
    "UPDATE auth_attempt_counters SET attempts = greatest(attempts - 1, 0) WHERE key = ANY(CAST(:keys AS text[]))"
)


async def count_attempt(session: AsyncSession, keys: list[str], window_minutes: int) -> list[tuple[str, int, float]]:
    """One upsert for all keys: (key, attempts in the window, seconds left in it)."""
    rows = await session.execute(_COUNT, {"keys": keys, "window": window_minutes})
    return [(key, int(attempts), float(left)) for key, attempts, left in rows.all()]


async def uncount_attempt(session: AsyncSession, keys: list[str]) -> None:
    await session.execute(_UNCOUNT, {"keys": keys})
