"""All configuration, read once from the environment (prefix-free names, `.env` allowed)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".data")
# OWASP's password storage cheat sheet: argon2id with at least 19 MiB of memory.
PRODUCTION_MIN_PASSWORD_HASH_KIB = 19_456


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    # Storage: an external PostgreSQL when set, otherwise an embedded one in data_dir.
    database_url: SecretStr | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_statement_timeout_ms: int = Field(default=15_000, ge=100, le=600_000)

    # Access tokens (RFC 9068). The issuer is this service unless an agency brings its own.
    token_issuer: str = "http://localhost:8000"
    token_audience: str = "adoption-register"
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    # An agency may bring its own identity provider: tokens from it are accepted too.
    external_issuer: str | None = None
    external_audience: str | None = None
    external_jwks_url: str | None = None
    jwks_refresh_seconds: int = Field(default=300, ge=10, le=86_400)

    # Failed logins and token requests allowed per window before 429.
    auth_failure_window_minutes: int = Field(default=15, ge=1, le=1_440)
    auth_max_failures_per_account: int = Field(default=5, ge=1, le=1_000)
    auth_max_failures_per_address: int = Field(default=30, ge=1, le=100_000)
    # Proxies (the ingress) whose X-Forwarded-For is believed; from anyone else it is ignored.
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list, description="Networks of the reverse proxies in front of the service (JSON list)"
    )

    # A scorecard figure from fewer children than this is suppressed (no child recognisable).
    scorecard_min_children: int = Field(default=5, ge=1, le=100)

    # Adopters' expressions of interest open at once (one agency used 6).
    interests_open_max: int = Field(default=6, ge=1, le=50)

    # Webhook deliveries: a failed attempt is retried after base, 2 x base, 4 x base, ...
    # (at most the cap apart), until the last attempt; each attempt waits this long at most.
    webhook_retry_base_seconds: float = Field(default=30, gt=0, le=3_600)
    webhook_retry_max_seconds: float = Field(default=6 * 3_600, gt=0, le=7 * 24 * 3_600)
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)
    # Deliveries one worker process makes at once (each holds a database connection meanwhile).
    webhook_worker_concurrency: int = Field(default=4, ge=1, le=32)
    # Seals the webhooks' signing secrets at rest (the API that stores them and the workers
    # that sign with them must share it). Required in production; elsewhere a fixed
    # development key, so that every local process agrees.
    webhook_secret_key: SecretStr | None = Field(default=None, min_length=32)

    # Adopters' accounts: where the password pages send an adopter once a password is set
    # (the adopters' app; unset: a page says to sign in from the app), and the SMTP server
    # the notification outbox is sent through (smtp://host:25, smtp+starttls://user:pass@host:587,
    # smtps://host:465; unset: nothing is sent, notifications wait in the outbox).
    adopter_app_url: str | None = None
    # argon2id memory per password hash (KiB). The default is argon2-cffi's (64 MiB, 3 passes);
    # production refuses less than OWASP's floor of 19 MiB. Test runs lower it: they hash
    # hundreds of passwords and check what is done with a hash, not how hard it is to crack.
    password_hash_memory_kib: int = Field(default=65_536, ge=64, le=4_194_304)
    smtp_url: SecretStr | None = None
    smtp_from: str = "Adoption register <no-reply@adoption-register.example>"

    # HTTP
    cors_origins: list[str] = Field(default_factory=list, description="Origins of the client apps (browsers)")
    log_level: str = "INFO"
    tracing_enabled: bool = False
    tracing_service_name: str = "adoption-register"
    request_max_bytes: int = Field(default=1_000_000, ge=1_024, le=100_000_000)

    @model_validator(mode="after")
    def _refuse_embedded_in_production(self) -> "Settings":
        # Production data must live on a managed, backed-up server, never in a local folder.
        if self.environment == "production" and self.database_url is None:
            raise ValueError("DATABASE_URL is required when ENVIRONMENT=production")
        if self.environment == "production" and self.webhook_secret_key is None:
            raise ValueError("WEBHOOK_SECRET_KEY is required when ENVIRONMENT=production")
        if self.environment == "production" and self.password_hash_memory_kib < PRODUCTION_MIN_PASSWORD_HASH_KIB:
            raise ValueError(
                f"PASSWORD_HASH_MEMORY_KIB must be at least {PRODUCTION_MIN_PASSWORD_HASH_KIB} in production"
            )
        return self

    @property
    def public_base_url(self) -> str:
        """This register's public address (its token issuer): links in emails point here."""
        return self.token_issuer.rstrip("/")

    @property
    def embedded_data_dir(self) -> Path:
        return (self.data_dir / "postgres").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()
