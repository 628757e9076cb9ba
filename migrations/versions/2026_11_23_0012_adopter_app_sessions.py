"""the adopters' app: its server-side sessions

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "adopter_app_sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("session_hash", sa.Text(), nullable=False),
        sa.Column("state_hash", sa.Text(), nullable=True),
        sa.Column("code_verifier", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("household_ref", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adopter_app_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_adopter_app_sessions_session_hash")),
    )
    op.create_index("ix_adopter_app_sessions_expires_at", "adopter_app_sessions", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_adopter_app_sessions_expires_at", table_name="adopter_app_sessions")
    op.drop_table("adopter_app_sessions")
