"""The app's session table. Only a hash of the session id is stored (the cookie is the only
copy of the id); the register's tokens are stored encrypted (Fernet, key from settings).

Sessions are not records: they carry no history and are deleted on sign-out or expiry."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base


class AdopterAppSession(Base):
    __tablename__ = "adopter_app_sessions"
    __table_args__ = (Index("ix_adopter_app_sessions_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_hash: Mapped[str] = mapped_column(Text, unique=True)
    # While signing in: the OAuth state (hashed) and the PKCE verifier (encrypted).
    state_hash: Mapped[str | None] = mapped_column(Text)
    code_verifier: Mapped[str | None] = mapped_column(Text)
    # Once signed in: the register's tokens (encrypted) and when the access token expires.
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    household_ref: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def signed_in(self) -> bool:
        return self.refresh_token is not None
