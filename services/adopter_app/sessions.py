"""Server-side sessions (the backend-for-frontend pattern): the browser holds an opaque,
random session id in an HttpOnly cookie; the app holds the register's tokens.

- Signing in: a session row with the OAuth `state` (hashed) and the PKCE verifier
  (encrypted); the callback checks the state, redeems the code with the verifier and the
  client secret, and gives the session a NEW id (no session fixation).
- Every form carries a CSRF token: an HMAC of the session id under the app's key.
- The access token is refreshed when it is about to expire, under a row lock (one refresh
  per session at a time; the rotated refresh token is stored).
- Signing out revokes the refresh token at the register and deletes the row.
"""

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.adopter_app import repository
from services.adopter_app.models import AdopterAppSession
from services.adopter_app.register_client import RegisterClient, RegisterUnavailable, SignInAgain, Tokens
from services.adopter_app.settings import AppSettings, key_material
from services.core.sealing import Sealer, Unsealable

log = logging.getLogger(__name__)

# Refresh this long before the access token expires (clock skew, a slow page).
REFRESH_MARGIN = timedelta(seconds=30)
# Write last_seen_at at most this often (a page view is otherwise read-only).
TOUCH_EVERY = timedelta(seconds=60)
# A sign-in not finished within this long is forgotten.
SIGN_IN_MINUTES = 15


class SignInFailed(Exception):
    """The callback did not belong to a sign-in this browser started."""


def now() -> datetime:
    return datetime.now(UTC)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def hash_id(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def csrf_token(settings: AppSettings, session_id: str) -> str:
    return hmac.new(key_material(settings), b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def csrf_ok(settings: AppSettings, session_id: str | None, supplied: str | None) -> bool:
    if not session_id or not supplied:
        return False
    return hmac.compare_digest(csrf_token(settings, session_id), supplied)


class Vault:
    """Encrypts what the session table keeps of the register's tokens."""

    def __init__(self, settings: AppSettings) -> None:
        self._sealer = Sealer(key_material(settings), "tokens")

    def seal(self, value: str) -> str:
        return self._sealer.seal(value)

    def open(self, value: str) -> str:
        try:
            return self._sealer.open(value)
        except Unsealable as exc:  # the key changed: the session cannot be used
            raise SignInAgain("the session's tokens cannot be read with the current key") from exc


@dataclass(frozen=True)
class Current:
    """The request's session: its raw id (from the cookie) and its row."""

    session_id: str
    row: AdopterAppSession

    @property
    def signed_in(self) -> bool:
        return self.row.signed_in


def _pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Sessions:
    def __init__(
        self, settings: AppSettings, sessionmaker: async_sessionmaker[AsyncSession], register: RegisterClient
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.register = register
        self.vault = Vault(settings)

    def _expiry(self, created_at: datetime, at: datetime) -> datetime:
        return min(
            created_at + timedelta(hours=self.settings.session_max_hours),
            at + timedelta(minutes=self.settings.session_idle_minutes),
        )

    async def start_sign_in(self) -> tuple[str, str]:
        """A new pre-sign-in session; returns its id (for the cookie) and where to send the
        browser (the register's sign-in page)."""
        session_id, state, verifier = new_session_id(), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        at = now()
        async with self.sessionmaker() as db, db.begin():
            await repository.remove_expired(db, at)
            await repository.add(
                db,
                AdopterAppSession(
                    session_hash=hash_id(session_id),
                    state_hash=hash_id(state),
                    code_verifier=self.vault.seal(verifier),
                    created_at=at,
                    last_seen_at=at,
                    expires_at=at + timedelta(minutes=SIGN_IN_MINUTES),
                ),
            )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": self.settings.redirect_uri,
                "scope": self.settings.scopes,
                "state": state,
                "code_challenge": _pkce_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return session_id, f"{self.settings.register_browser_url}/oauth/authorize?{query}"

    async def load(self, session_id: str | None) -> Current | None:
        if not session_id or len(session_id) > 100:
            return None
        at = now()
        async with self.sessionmaker() as db, db.begin():
            row = await repository.by_hash(db, hash_id(session_id), at)
            if row is None:
                return None
            if row.signed_in and at - row.last_seen_at > TOUCH_EVERY:
                expires = self._expiry(row.created_at, at)
                await repository.touch(db, row.id, at, expires)
                row.last_seen_at, row.expires_at = at, expires
        return Current(session_id, row)

    async def finish_sign_in(self, current: Current | None, state: str, code: str) -> Current:
        """Redeems the code; the session gets a new id. Raises SignInFailed when the state
        is not this browser's."""
        row = current.row if current else None
        if (
            row is None
            or row.state_hash is None
            or row.code_verifier is None
            or not hmac.compare_digest(row.state_hash, hash_id(state))
        ):
            raise SignInFailed("the sign-in's state does not match this browser's")
        tokens = await self.register.exchange_code(code, self.vault.open(row.code_verifier))
        session_id, at = new_session_id(), now()
        async with self.sessionmaker() as db, db.begin():
            locked = await repository.lock(db, row.id)
            if locked is None:
                raise SignInFailed("the sign-in ended meanwhile")
            locked.session_hash = hash_id(session_id)
            locked.state_hash = locked.code_verifier = None
            locked.created_at = locked.last_seen_at = at
            locked.expires_at = self._expiry(at, at)
            self._store(locked, tokens, at)
            await db.flush()
        return Current(session_id, locked)

    def _store(self, row: AdopterAppSession, tokens: Tokens, at: datetime) -> None:
        row.access_token = self.vault.seal(tokens.access_token)
        row.refresh_token = self.vault.seal(tokens.refresh_token)
        row.access_expires_at = at + timedelta(seconds=tokens.expires_in)
        row.household_ref = tokens.household_ref or row.household_ref

    async def access_token(self, current: Current) -> str:
        """A valid access token: the stored one, or a new one (refresh, rotated)."""
        row = current.row
        if row.access_token is None or row.access_expires_at is None:
            raise SignInAgain("not signed in")
        if row.access_expires_at - REFRESH_MARGIN > now():
            return self.vault.open(row.access_token)
        async with self.sessionmaker() as db, db.begin():
            locked = await repository.lock(db, row.id)
            if locked is None or locked.refresh_token is None or locked.access_expires_at is None:
                raise SignInAgain("the session ended")
            if locked.access_expires_at - REFRESH_MARGIN <= now():  # nobody refreshed while we waited
                tokens = await self.register.refresh(self.vault.open(locked.refresh_token))
                self._store(locked, tokens, now())
                await db.flush()
            token = locked.access_token
        assert token is not None
        return self.vault.open(token)

    async def sign_out(self, current: Current) -> None:
        """Deletes the session and revokes its refresh token at the register."""
        async with self.sessionmaker() as db, db.begin():
            sealed = await repository.remove(db, current.row.id)
        if sealed is None:
            return
        try:
            revoked = await self.register.revoke(self.vault.open(sealed))
        except (RegisterUnavailable, SignInAgain):
            revoked = False
        if not revoked:
            log.warning("signing out: the register did not confirm the revocation")

    async def end(self, current: Current) -> None:
        """Deletes the session without calling the register (its tokens are already refused)."""
        async with self.sessionmaker() as db, db.begin():
            await repository.remove(db, current.row.id)
