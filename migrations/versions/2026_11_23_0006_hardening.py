"""hardening: atomic rate-limit counters, key-change notifications, TRUNCATE refused on
record tables, authorization codes linked to the tokens issued from them, revoked access
tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose rows DELETE may not remove (forbid_delete or forbid_change triggers).
RECORD_TABLES = (
    "agencies",
    "sibling_groups",
    "children",
    "households",
    "placements",
    "audit_events",
    "record_versions",
    "expressions_of_interest",
    "fee_schedules",
    "reconciliations",
    "fee_lines",
    "reconciliation_lines",
    "fee_disputes",
)

# Verifiers in every process LISTEN on this channel and reload their keys and revoked
# tokens when it fires (services/core/app_factory.py): a retired key or a revoked token
# stops verifying within seconds.
NOTIFY_VERIFICATION_CHANGED = """
CREATE FUNCTION notify_token_verification_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('token_verification_changed', '');
    RETURN NULL;
END $$
"""
NOTIFYING_TABLES = ("signing_keys", "revoked_access_tokens")


def upgrade() -> None:
    op.drop_index("ix_auth_failures_key_time", table_name="auth_failures")
    op.drop_table("auth_failures")
    op.create_table(
        "auth_attempt_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_auth_attempt_counters_attempts_not_negative")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_attempt_counters")),
    )
    op.add_column("oauth_authorization_codes", sa.Column("token_family_id", sa.Text(), nullable=True))
    op.add_column("oauth_refresh_tokens", sa.Column("access_token_jti", sa.Text(), nullable=True))
    op.create_table(
        "revoked_access_tokens",
        sa.Column("jti", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_access_tokens")),
    )

    op.execute(NOTIFY_VERIFICATION_CHANGED)
    for table in NOTIFYING_TABLES:
        op.execute(
            f"CREATE TRIGGER notify_token_verification_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_token_verification_changed()"
        )
    # DELETE is refused row by row; TRUNCATE fires no row triggers, so it needs its own.
    for table in RECORD_TABLES:
        op.execute(
            f"CREATE TRIGGER forbid_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION forbid_delete()"
        )


def downgrade() -> None:
    for table in RECORD_TABLES:
        op.execute(f"DROP TRIGGER forbid_truncate ON {table}")
    for table in NOTIFYING_TABLES:
        op.execute(f"DROP TRIGGER notify_token_verification_changed ON {table}")
    op.execute("DROP FUNCTION notify_token_verification_changed()")
    op.drop_table("revoked_access_tokens")
    op.drop_column("oauth_refresh_tokens", "access_token_jti")
    op.drop_column("oauth_authorization_codes", "token_family_id")
    op.drop_table("auth_attempt_counters")
    op.create_table(
        "auth_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failures")),
    )
    op.create_index("ix_auth_failures_key_time", "auth_failures", ["key", "occurred_at"], unique=False)
