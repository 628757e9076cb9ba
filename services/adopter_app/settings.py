"""The app's own settings (prefix `ADOPTER_APP_`); the database comes from the register's
`DATABASE_URL` (services/core/settings.py), where the app keeps its session table."""

import hashlib
import secrets
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SCOPES = "profiles:read interests:write support:request family-profile:write"


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADOPTER_APP_", env_file=".env", extra="ignore")

    # Where the app calls the register (inside the cluster), and where browsers are sent to
    # sign in (its public address). The second defaults to the first.
    register_url: str = "http://127.0.0.1:8000"
    register_public_url: str | None = None
    # This app's own public address: the redirect URI registered with the register is
    # `{public_url}/callback`.
    public_url: str = "http://127.0.0.1:8002"
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    scopes: str = DEFAULT_SCOPES
    # The register's ENVIRONMENT (no prefix): production insists on a session key and Secure cookies.
    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias=AliasChoices("ENVIRONMENT", "environment")
    )
    # Signs CSRF tokens and encrypts the tokens kept in the session table. Required in
    # production; elsewhere, if unset, a random one is made at start (sessions end on a restart).
    session_key: SecretStr | None = None
    # Development: plain-http cookies (no Secure flag, no __Host- prefix). Refused in production.
    development: bool = False
    session_idle_minutes: int = Field(default=60, ge=5, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=14 * 24)
    register_timeout_seconds: float = Field(default=10, gt=0, le=60)
    page_size: int = Field(default=12, ge=1, le=100)

    @model_validator(mode="after")
    def _strict_in_production(self) -> "AppSettings":
        if self.environment != "production":
            return self
        if self.session_key is None or len(self.session_key.get_secret_value()) < 32:
            raise ValueError("ADOPTER_APP_SESSION_KEY (at least 32 characters) is required in production")
        if self.development:
            raise ValueError("ADOPTER_APP_DEVELOPMENT (cookies without Secure) is refused in production")
        return self

    @property
    def register_browser_url(self) -> str:
        return (self.register_public_url or self.register_url).rstrip("/")

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/callback"

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix makes the browser insist on Secure, Path=/ and no Domain.
        return "adopter_session" if self.development else "__Host-adopter_session"


@lru_cache
def _development_key() -> str:
    return secrets.token_urlsafe(32)


def key_material(settings: AppSettings) -> bytes:
    key = settings.session_key.get_secret_value() if settings.session_key else _development_key()
    return hashlib.sha256(key.encode()).digest()


@lru_cache
def get_app_settings() -> AppSettings:
    return AppSettings()
