"""Adopter accounts and client registrations: creation and password checks."""

import asyncio
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import ADOPTER_SCOPES, Scope
from services.core.refs import new_ref
from services.core.settings import get_settings
from services.register.agencies import repository as agencies
from services.register.oauth import repository
from services.register.oauth.models import AdopterAccount, OAuthClient, new_secret, token_hash

MIN_PASSWORD_LENGTH = 12


@cache
def _hasher() -> PasswordHasher:
    # The process's configuration, read once. A hash records its own parameters, so hashes
    # made with other settings still verify.
    return PasswordHasher(memory_cost=get_settings().password_hash_memory_kib)


@cache
def _dummy_hash() -> str:
    """Checked when no account matches, so a wrong email costs as long as a wrong password.
    Made on first use: argon2 is slow on purpose, and most processes never sign anyone in."""
    return _hasher().hash("not-a-real-password")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher().hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate_adopter(session: AsyncSession, email: str, password: str) -> AdopterAccount | None:
    account = await repository.adopter_by_email(session, email)
    # An invited account has no password yet: it cannot sign in, and costs the same time
    # as an unknown email. argon2 is deliberately slow: keep it off the event loop.
    stored = account.password_hash if account and account.password_hash else None
    ok = await asyncio.to_thread(_verify, stored or _dummy_hash(), password)
    return account if account and stored and ok else None


async def invite_adopter(session: AsyncSession, *, household_ref: str, email: str, password: str) -> AdopterAccount:
    """An active account with a password set at once (the operators' command and the demo);
    agencies invite over the API instead (`register/accounts`), and the adopter chooses it."""
    row = await repository.household_with_agency_ref(session, household_ref)
    if row is None:
        raise LookupError(f"no household {household_ref}")
    household, agency_ref = row
    account = AdopterAccount(
        ref=new_ref("A"),
        email=email.strip(),
        password_hash=hash_password(password),
        household_id=household.id,
        household_ref=household.ref,
        agency_ref=agency_ref,
        invited_at=datetime.now(UTC),
        activated_at=datetime.now(UTC),
    )
    session.add(account)
    await session.flush()
    return account


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    scopes: list[str],
    agency_ref: str | None,
    redirect_uris: list[str],
    public: bool,
) -> tuple[OAuthClient, str | None]:
    """Returns the client and its secret (None for a public client). The secret is shown
    once: only its hash is stored."""
    known = {s.value for s in Scope}
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise ValueError(f"unknown scopes: {' '.join(unknown)}")
    agency_id = None
    if agency_ref is not None:
        agency_id = await agencies.id_of(session, agency_ref)
        if agency_id is None:
            raise LookupError(f"no agency {agency_ref}")
    if public or redirect_uris:
        # A client that signs adopters in: public (PKCE, no secret), or confidential, such as
        # the adopters' app (services/adopter_app), a backend that keeps a secret and the tokens.
        if not set(scopes) <= ADOPTER_SCOPES:
            raise ValueError(f"a client that signs adopters in may only have: {' '.join(sorted(ADOPTER_SCOPES))}")
        if not redirect_uris:
            raise ValueError("a public client needs at least one redirect URI")
        grant_types = ["authorization_code", "refresh_token"]
        method, secret = ("none", None) if public else ("client_secret_basic", new_secret())
    else:
        grant_types, method, secret = ["client_credentials"], "client_secret_basic", new_secret()
    client = OAuthClient(
        client_id=new_ref("client").lower(),
        client_secret_hash=token_hash(secret) if secret else None,
        name=name,
        allowed_scopes=sorted(set(scopes)),
        grant_types=grant_types,
        redirect_uris=redirect_uris,
        token_endpoint_auth_method=method,
        agency_id=agency_id,
        agency_ref=agency_ref,
    )
    session.add(client)
    await session.flush()
    return client, secret
