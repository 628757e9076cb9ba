"""oauth and interests: the authorisation server's tables and adopters' expressions of interest

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:59:33.410110
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failures")),
    )
    op.create_index("ix_auth_failures_key_time", "auth_failures", ["key", "occurred_at"], unique=False)
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("client_secret_hash", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("allowed_scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("grant_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("redirect_uris", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("token_endpoint_auth_method", sa.Text(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("agency_ref", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(token_endpoint_auth_method = 'none') = (client_secret_hash IS NULL)",
            name=op.f("ck_oauth_clients_public_clients_have_no_secret"),
        ),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_oauth_clients_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_table(
        "adopter_accounts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("household_ref", sa.Text(), nullable=False),
        sa.Column("agency_ref", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_adopter_accounts_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adopter_accounts")),
        sa.UniqueConstraint("ref", name=op.f("uq_adopter_accounts_ref")),
    )
    op.create_index(op.f("ix_adopter_accounts_household_id"), "adopter_accounts", ["household_id"], unique=False)
    op.create_index("uq_adopter_accounts_email", "adopter_accounts", [sa.literal_column("lower(email)")], unique=True)
    op.create_table(
        "expressions_of_interest",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("sibling_group_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "withdrawn", "accepted", "declined", name="interest_status"),
            server_default="open",
            nullable=False,
        ),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("answer_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("length(message) <= 2000", name=op.f("ck_expressions_of_interest_message_length")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_expressions_of_interest_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["sibling_group_id"],
            ["sibling_groups.id"],
            name=op.f("fk_expressions_of_interest_sibling_group_id_sibling_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expressions_of_interest")),
        sa.UniqueConstraint("ref", name=op.f("uq_expressions_of_interest_ref")),
    )
    op.create_index(
        op.f("ix_expressions_of_interest_household_id"), "expressions_of_interest", ["household_id"], unique=False
    )
    op.create_index(
        op.f("ix_expressions_of_interest_sibling_group_id"),
        "expressions_of_interest",
        ["sibling_group_id"],
        unique=False,
    )
    op.create_index(
        "uq_expressions_of_interest_open",
        "expressions_of_interest",
        ["household_id", "sibling_group_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "oauth_authorization_codes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.Text(), nullable=False),
        sa.Column("code_challenge_method", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["adopter_accounts.id"],
            name=op.f("fk_oauth_authorization_codes_account_id_adopter_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_authorization_codes_code_hash")),
    )
    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("family_id", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["adopter_accounts.id"], name=op.f("fk_oauth_refresh_tokens_account_id_adopter_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_oauth_refresh_tokens_family_id"), "oauth_refresh_tokens", ["family_id"], unique=False)

    # Adopters' reference for a sibling group's profile; random, like every public ref.
    op.add_column("sibling_groups", sa.Column("profile_ref", sa.Text(), nullable=True))
    op.execute("ALTER TABLE sibling_groups DISABLE TRIGGER record_version")  # not a new version
    op.execute("UPDATE sibling_groups SET profile_ref = 'PR-' || upper(substr(md5(random()::text), 1, 10))")
    op.execute("ALTER TABLE sibling_groups ENABLE TRIGGER record_version")
    op.alter_column("sibling_groups", "profile_ref", nullable=False)
    op.create_unique_constraint(op.f("uq_sibling_groups_profile_ref"), "sibling_groups", ["profile_ref"])

    # Versioned and never deleted, like every register record (functions from 0001).
    op.execute(
        "CREATE TRIGGER record_version AFTER INSERT OR UPDATE ON expressions_of_interest "
        "FOR EACH ROW EXECUTE FUNCTION record_version()"
    )
    op.execute(
        "CREATE TRIGGER forbid_delete BEFORE DELETE ON expressions_of_interest "
        "FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER record_version ON expressions_of_interest")
    op.execute("DROP TRIGGER forbid_delete ON expressions_of_interest")
    op.execute("ALTER TABLE record_versions DISABLE TRIGGER forbid_change")
    op.execute("DELETE FROM record_versions WHERE table_name = 'expressions_of_interest'")
    op.execute("ALTER TABLE record_versions ENABLE TRIGGER forbid_change")
    op.drop_constraint(op.f("uq_sibling_groups_profile_ref"), "sibling_groups", type_="unique")
    op.drop_column("sibling_groups", "profile_ref")
    op.drop_index(op.f("ix_oauth_refresh_tokens_family_id"), table_name="oauth_refresh_tokens")
    op.drop_table("oauth_refresh_tokens")
    op.drop_table("oauth_authorization_codes")
    op.drop_index(
        "uq_expressions_of_interest_open",
        table_name="expressions_of_interest",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(op.f("ix_expressions_of_interest_sibling_group_id"), table_name="expressions_of_interest")
    op.drop_index(op.f("ix_expressions_of_interest_household_id"), table_name="expressions_of_interest")
    op.drop_table("expressions_of_interest")
    op.drop_index("uq_adopter_accounts_email", table_name="adopter_accounts")
    op.drop_index(op.f("ix_adopter_accounts_household_id"), table_name="adopter_accounts")
    op.drop_table("adopter_accounts")
    op.drop_table("oauth_clients")
    op.drop_index("ix_auth_failures_key_time", table_name="auth_failures")
    op.drop_table("auth_failures")
    op.execute("DROP TYPE interest_status")
