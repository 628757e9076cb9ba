"""Tables of the authorisation server: clients, adopter accounts, codes, refresh tokens,
and failed attempts (for rate limiting). Secrets are stored only as hashes."""

import hashlib
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base


def token_hash(value: str) -> str:
    """Client secrets, codes and refresh tokens are random 256-bit strings: a plain SHA-256
    is enough to store them (unlike passwords, they cannot be guessed)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class OAuthClient(Base):
    """A registered client (Authlib's ClientMixin). Public clients (the adopters' app)
    have no secret and must use PKCE."""

    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint(
            "(token_endpoint_auth_method = 'none') = (client_secret_hash IS NULL)", name="public_clients_have_no_secret"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Text, unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    allowed_scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    grant_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    token_endpoint_auth_method: Mapped[str] = mapped_column(Text)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    agency_ref: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # --- Authlib ClientMixin ---
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return " ".join(sorted(self.allowed_scopes))
        return " ".join(s for s in sorted(set(scope.split())) if s in self.allowed_scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact match only

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret_hash is not None and secrets.compare_digest(
            self.client_secret_hash, token_hash(client_secret)
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.token_endpoint_auth_method == "none":
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class AdopterAccount(Base):
    """An adopter's login, bound to one approved household. Invited by the household's agency
    with no password (it cannot sign in); active once the adopter sets one through the
    invitation link; disabled by the agency."""

    __tablename__ = "adopter_accounts"
    __table_args__ = (Index("uq_adopter_accounts_email", func.lower(text("email")), unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    household_ref: Mapped[str] = mapped_column(Text)
    agency_ref: Mapped[str] = mapped_column(Text)  # the household's approving agency
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    invited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def state(self) -> str:
        if self.disabled_at is not None:
            return "disabled"
        return "active" if self.password_hash is not None else "invited"

    def get_user_id(self) -> str:
        return self.ref


class AccountToken(Base):
    """A single-use link token sent to an adopter by email: an invitation (sets the first
    password) or a password reset. Only its SHA-256 hash is stored."""

    __tablename__ = "adopter_account_tokens"
    __table_args__ = (CheckConstraint("purpose IN ('invitation', 'password_reset')", name="purpose_known"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("adopter_accounts.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when used, and when a newer token of the same purpose replaces it.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthorizationCode(Base):
    """Authlib's AuthorizationCodeMixin; single use, short-lived, PKCE S256 required."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code_hash: Mapped[str] = mapped_column(Text, unique=True)
    client_id: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int] = mapped_column(ForeignKey("adopter_accounts.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(Text)
    code_challenge_method: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The refresh-token family issued from this code: revoked if the code is presented again.
    token_family_id: Mapped[str | None] = mapped_column(Text)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.expires_at <= datetime.now(UTC)


class RefreshToken(Base):
    """Rotated on every use. All tokens descended from one grant share a `family_id`: a
    refresh token presented twice means it leaked, and the whole family is revoked."""

    __tablename__ = "oauth_refresh_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    family_id: Mapped[str] = mapped_column(Text, index=True)
    client_id: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("adopter_accounts.id"))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The access token issued with this refresh token: revoked with the family.
    access_token_jti: Mapped[str | None] = mapped_column(Text)

    # --- Authlib TokenMixin ---
    def check_client(self, client: Any) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at.timestamp() - time.time()))

    def is_expired(self) -> bool:
        return self.expires_at <= datetime.now(UTC)

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.used_at is not None


class AuthAttemptCounter(Base):
    """Sign-in and token attempts per key (an account or an address) in the current window,
    for rate limiting across all replicas (`rate_limit.py`)."""

    __tablename__ = "auth_attempt_counters"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer)


class RevokedAccessToken(Base):
    """Access tokens revoked before they expire (their family was revoked); every verifier
    holds the unexpired ones in memory and reloads them when this table changes."""

    __tablename__ = "revoked_access_tokens"

    jti: Mapped[str] = mapped_column(Text, primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SigningKey(Base):
    """Asymmetric keys that sign access tokens. The newest unretired key that has been
    published long enough signs (`keys.signing_key`); every key not yet retired stays in the
    published JWKS so tokens it signed verify until expiry."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(Text, primary_key=True)
    algorithm: Mapped[str] = mapped_column(Text)
    private_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Set by the program, not now(): two keys made in one transaction must still be ordered.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=lambda: datetime.now(UTC)
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
