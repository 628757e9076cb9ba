"""All SQL for adopter accounts as agencies manage them, and their single-use link tokens."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import NotFound
from services.register.oauth.models import AccountToken, AdopterAccount, RefreshToken, RevokedAccessToken


async def for_household(session: AsyncSession, household_id: int) -> list[AdopterAccount]:
    rows = await session.scalars(
        select(AdopterAccount).where(AdopterAccount.household_id == household_id).order_by(AdopterAccount.id)
    )
    return list(rows)


async def get(session: AsyncSession, ref: str, *, for_update: bool = False) -> AdopterAccount:
    query = select(AdopterAccount).where(AdopterAccount.ref == ref)
    if for_update:
        query = query.with_for_update()
    account = await session.scalar(query)
    if account is None:
        raise NotFound(f"No adopter account {ref}.")
    return account


async def get_by_id(session: AsyncSession, account_id: int, *, for_update: bool = False) -> AdopterAccount:
    query = select(AdopterAccount).where(AdopterAccount.id == account_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one()


async def email_taken(session: AsyncSession, email: str) -> bool:
    found = await session.scalar(
        select(AdopterAccount.id).where(func.lower(AdopterAccount.email) == email.strip().lower())
    )
    return found is not None


async def by_email(session: AsyncSession, email: str) -> AdopterAccount | None:
    """The account with this email that is not disabled, whatever its state."""
    return await session.scalar(
        select(AdopterAccount).where(
            func.lower(AdopterAccount.email) == email.strip().lower(), AdopterAccount.disabled_at.is_(None)
        )
    )


async def add(session: AsyncSession, account: AdopterAccount) -> None:
    session.add(account)
    await session.flush()


async def add_token(session: AsyncSession, token: AccountToken) -> None:
    """A new link token; every earlier unused one of the same account and purpose dies."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.account_id == token.account_id,
            AccountToken.purpose == token.purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=func.now())
    )
    session.add(token)
    await session.flush()


async def token_for_update(session: AsyncSession, token_hash: str, purpose: str) -> AccountToken | None:
    return await session.scalar(
        select(AccountToken)
        .where(AccountToken.token_hash == token_hash, AccountToken.purpose == purpose)
        .with_for_update()
    )


async def kill_tokens(session: AsyncSession, account_id: int) -> None:
    """Every unused link token of the account, of any purpose, can no longer be used."""
    await session.execute(
        update(AccountToken)
        .where(AccountToken.account_id == account_id, AccountToken.used_at.is_(None))
        .values(used_at=func.now())
    )


async def revoke_tokens(session: AsyncSession, account_id: int, deny_for: timedelta) -> None:
    """Every refresh token of the account revoked, and the access tokens issued with them on
    the deny list for `deny_for` (the longest an access token can live); every verifier
    reloads the deny list when it changes (a trigger notifies them)."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.execute(
        insert(RevokedAccessToken)
        .from_select(
            ["jti", "expires_at"],
            select(RefreshToken.access_token_jti, func.now() + deny_for).where(
                RefreshToken.account_id == account_id,
                RefreshToken.access_token_jti.is_not(None),
                RefreshToken.issued_at > func.now() - deny_for,
            ),
        )
        .on_conflict_do_nothing()
    )
