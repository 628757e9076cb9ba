"""Signing keys and access-token minting for the register's authorisation server."""

import itertools
import secrets
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import ACCESS_TOKEN_TYPE
from services.core.errors import ServiceUnavailable
from services.core.settings import Settings
from services.register.oauth import repository
from services.register.oauth.models import SigningKey

SIGNING_ALGORITHM = "ES256"


# How long clients may cache /.well-known/jwks.json.
JWKS_MAX_AGE_SECONDS = 300
# A new key is published (in the JWKS and the pods' key sets) before it signs anything, for
# longer than the JWKS cache and the pods' reload interval (30 s): no verifier meets a token
# signed by a key it has not loaded yet.
PUBLISH_BEFORE_SIGNING = timedelta(seconds=2 * JWKS_MAX_AGE_SECONDS)


async def rotate_signing_key(
    session: AsyncSession, token_lifetime: timedelta = timedelta(hours=1), *, compromised: bool = False
) -> str:
    """Add a new signing key. It signs once it has been published for PUBLISH_BEFORE_SIGNING
    (at once if it is the only key: the first, or after a compromise). Older keys keep
    verifying until every token they signed has expired: a key is retired once its successor
    has been signing for longer than `token_lifetime`. `compromised`: retire every current key
    now and sign with the new one at once (every token already issued stops verifying)."""
    now = datetime.now(UTC)
    keys = await repository.active_keys(session)
    for older, successor in itertools.pairwise(keys):
        if successor.created_at + PUBLISH_BEFORE_SIGNING < now - token_lifetime:
            older.retired_at = now
    if compromised:
        for key in keys:
            key.retired_at = now
    kid = f"k-{now:%Y%m%d}-{secrets.token_hex(4)}"
    new = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": SIGNING_ALGORITHM, "use": "sig"}, private=True)
    session.add(SigningKey(kid=kid, algorithm=SIGNING_ALGORITHM, private_jwk=new.as_dict(private=True)))
    await session.flush()
    return kid


def public_keyset(keys: Iterable[SigningKey]) -> KeySet:
    return KeySet([ECKey.import_key({k: v for k, v in key.private_jwk.items() if k != "d"}) for key in keys])


async def signing_key(session: AsyncSession) -> ECKey:
    keys = await repository.active_keys(session)
    if not keys:
        raise ServiceUnavailable(
            "The authorisation server has no signing key yet (an operator runs `adoption-register keys rotate`)."
        )
    published = [k for k in keys if k.created_at <= datetime.now(UTC) - PUBLISH_BEFORE_SIGNING]
    # None published long enough: the oldest key, which has been signing (or is the only one).
    return ECKey.import_key((published[-1] if published else keys[0]).private_jwk)


def mint_access_token(
    key: ECKey,
    settings: Settings,
    *,
    subject: str,
    scopes: Iterable[str],
    client_id: str,
    agency_ref: str | None = None,
    household_ref: str | None = None,
    lifetime_seconds: int | None = None,
) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": subject,
        "client_id": client_id,
        "scope": " ".join(sorted(set(scopes))),
        "iat": now,
        "nbf": now,
        "exp": now + (lifetime_seconds or settings.access_token_minutes * 60),
        "jti": str(uuid.uuid4()),
    }
    if agency_ref:
        claims["agency"] = agency_ref
    if household_ref:
        claims["household"] = household_ref
    header = {"alg": SIGNING_ALGORITHM, "kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
    return jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])
