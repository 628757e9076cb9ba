"""adopter accounts over the API (invited accounts have no password yet, single-use link
tokens), the notification outbox, family profiles, and the `left_register` interest outcome

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-23 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES_BEFORE = "'linked_with_you', 'linked_elsewhere', 'no_longer_looking'"
OUTCOMES_AFTER = OUTCOMES_BEFORE + ", 'left_register'"


def upgrade() -> None:
    # Accounts: invited (no password, cannot sign in), active, disabled. Accounts made
    # before this revision had a password from the start: active since they were made.
    op.alter_column("adopter_accounts", "password_hash", existing_type=sa.Text(), nullable=True)
    op.add_column(
        "adopter_accounts",
        sa.Column("invited_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.add_column("adopter_accounts", sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE adopter_accounts SET invited_at = created_at, activated_at = created_at")

    op.create_table(
        "adopter_account_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('invitation', 'password_reset')", name=op.f("ck_adopter_account_tokens_purpose_known")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["adopter_accounts.id"],
            name=op.f("fk_adopter_account_tokens_account_id_adopter_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adopter_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_adopter_account_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_adopter_account_tokens_account_id"), "adopter_account_tokens", ["account_id"], unique=False
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("to_email", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('adopter_invitation', 'password_reset')", name=op.f("ck_notifications_kind_known")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notifications_attempts_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("ref", name=op.f("uq_notifications_ref")),
    )
    op.create_index(
        "ix_notifications_unsent", "notifications", ["id"], unique=False, postgresql_where=sa.text("sent_at IS NULL")
    )
    op.create_index(
        "ix_notifications_to_email",
        "notifications",
        [sa.literal_column("lower(to_email)"), "kind", "id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER forbid_delete BEFORE DELETE ON notifications FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )

    op.create_table(
        "family_profiles",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("narrative", sa.Text(), server_default="", nullable=False),
        sa.Column("what_we_offer", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("languages_spoken", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("state", sa.Text(), server_default="draft", nullable=False),
        sa.Column("returned_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_narrative", sa.Text(), nullable=True),
        sa.Column("approved_what_we_offer", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("approved_languages_spoken", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("approved_version", sa.Integer(), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'approved', 'returned')", name=op.f("ck_family_profiles_state_known")
        ),
        sa.CheckConstraint("length(narrative) <= 4000", name=op.f("ck_family_profiles_narrative_length")),
        sa.CheckConstraint("cardinality(what_we_offer) <= 12", name=op.f("ck_family_profiles_what_we_offer_count")),
        sa.CheckConstraint(
            "(approved_at IS NULL) = (approved_narrative IS NULL)",
            name=op.f("ck_family_profiles_approved_text_with_approval"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_family_profiles_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_profiles")),
        sa.UniqueConstraint("household_id", name=op.f("uq_family_profiles_household_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_family_profiles_ref")),
    )
    op.execute(
        "CREATE TRIGGER record_version AFTER INSERT OR UPDATE ON family_profiles "
        "FOR EACH ROW EXECUTE FUNCTION record_version()"
    )
    op.execute(
        "CREATE TRIGGER forbid_delete BEFORE DELETE ON family_profiles FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )

    op.drop_constraint(op.f("ck_expressions_of_interest_outcome_known"), "expressions_of_interest", type_="check")
    op.create_check_constraint(
        op.f("ck_expressions_of_interest_outcome_known"),
        "expressions_of_interest",
        f"outcome IS NULL OR outcome IN ({OUTCOMES_AFTER})",
    )


def downgrade() -> None:
    # Interests closed as left_register read, below this revision, as the nearest earlier
    # meaning: the children's agency is no longer looking.
    op.drop_constraint(op.f("ck_expressions_of_interest_outcome_known"), "expressions_of_interest", type_="check")
    op.execute("ALTER TABLE expressions_of_interest DISABLE TRIGGER record_version")  # not a new version
    op.execute("UPDATE expressions_of_interest SET outcome = 'no_longer_looking' WHERE outcome = 'left_register'")
    op.execute("ALTER TABLE expressions_of_interest ENABLE TRIGGER record_version")
    op.create_check_constraint(
        op.f("ck_expressions_of_interest_outcome_known"),
        "expressions_of_interest",
        f"outcome IS NULL OR outcome IN ({OUTCOMES_BEFORE})",
    )

    op.execute("DROP TRIGGER record_version ON family_profiles")
    op.execute("DROP TRIGGER forbid_delete ON family_profiles")
    op.drop_table("family_profiles")
    op.execute("ALTER TABLE record_versions DISABLE TRIGGER forbid_change")
    op.execute("DELETE FROM record_versions WHERE table_name = 'family_profiles'")
    op.execute("ALTER TABLE record_versions ENABLE TRIGGER forbid_change")
    op.execute("DROP TRIGGER forbid_delete ON notifications")
    op.drop_index("ix_notifications_to_email", table_name="notifications")
    op.drop_index("ix_notifications_unsent", table_name="notifications", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_table("notifications")
    op.drop_index(op.f("ix_adopter_account_tokens_account_id"), table_name="adopter_account_tokens")
    op.drop_table("adopter_account_tokens")
    op.drop_column("adopter_accounts", "activated_at")
    op.drop_column("adopter_accounts", "invited_at")
    # An invited account that never set a password cannot sign in below this revision
    # either: an unusable hash (no argon2 password verifies against it).
    op.execute("UPDATE adopter_accounts SET password_hash = '!' WHERE password_hash IS NULL")
    op.alter_column("adopter_accounts", "password_hash", existing_type=sa.Text(), nullable=False)
