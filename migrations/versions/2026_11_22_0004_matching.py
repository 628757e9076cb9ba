"""matching: scoring policies, runs, proposals, declined pairs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:35:36.056509
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_POLICY = {
    "needs_points_per_level": 3,
    "needs_points_cap": 24,
    "age_fit_points": 12,
    "distance_points": 20,
    "distance_half_points_km": 80,
    "contact_points": 8,
    "culture_points": 12,
    "language_points": 6,
    "religion_points": 6,
    "soft_fade_days": 365,
    "wait_points_per_30_days": 3,
    "wait_points_cap": 72,
    "sibling_group_points": 20,
    "aged_five_plus_points": 15,
    "disability_points": 15,
    "minority_ethnic_points": 10,
    "aged_five_plus_months": 60,
    "long_wait_days": 548,
}  # services.matching.engine.policy defaults, frozen here


def upgrade() -> None:
    op.create_table(
        "scoring_policies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_policies")),
        sa.UniqueConstraint("version", name=op.f("uq_scoring_policies_version")),
    )
    op.create_table(
        "match_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("scope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("lexicographic", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("policy_settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("timings", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f("ck_match_runs_status_known")),
        sa.ForeignKeyConstraint(
            ["policy_version"], ["scoring_policies.version"], name=op.f("fk_match_runs_policy_version_scoring_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_runs")),
        sa.UniqueConstraint("ref", name=op.f("uq_match_runs_ref")),
    )
    op.create_index(
        "uq_match_runs_one_running",
        "match_runs",
        [sa.literal_column("(true)")],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "match_proposals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("sibling_group_id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("components", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("shortlist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed', 'accepted', 'declined', 'unmatched')", name=op.f("ck_match_proposals_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_match_proposals_household_id_households")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["match_runs.id"], name=op.f("fk_match_proposals_run_id_match_runs")),
        sa.ForeignKeyConstraint(
            ["sibling_group_id"], ["sibling_groups.id"], name=op.f("fk_match_proposals_sibling_group_id_sibling_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_proposals")),
        sa.UniqueConstraint("ref", name=op.f("uq_match_proposals_ref")),
    )
    op.create_index(op.f("ix_match_proposals_household_id"), "match_proposals", ["household_id"], unique=False)
    op.create_index("ix_match_proposals_run_group", "match_proposals", ["run_id", "sibling_group_id"], unique=True)
    op.create_index(op.f("ix_match_proposals_sibling_group_id"), "match_proposals", ["sibling_group_id"], unique=False)
    op.create_table(
        "declined_pairs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sibling_group_id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("proposal_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declined_by", sa.Text(), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_declined_pairs_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["match_proposals.id"], name=op.f("fk_declined_pairs_proposal_id_match_proposals")
        ),
        sa.ForeignKeyConstraint(
            ["sibling_group_id"], ["sibling_groups.id"], name=op.f("fk_declined_pairs_sibling_group_id_sibling_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declined_pairs")),
    )
    op.create_index("uq_declined_pairs_pair", "declined_pairs", ["sibling_group_id", "household_id"], unique=True)

    # Version 1 of the scoring policy; later versions are new rows, made over the API.
    op.execute(
        sa.text(
            "INSERT INTO scoring_policies (version, settings, note, created_by) "
            "VALUES (1, CAST(:settings AS JSONB), 'first version', 'migration')"
        ).bindparams(settings=json.dumps(FIRST_POLICY))
    )
    op.execute(
        "CREATE TRIGGER forbid_change BEFORE UPDATE OR DELETE ON scoring_policies "
        "FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )
    for table in ("match_runs", "match_proposals", "declined_pairs"):
        op.execute(
            f"CREATE TRIGGER forbid_delete BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER forbid_change ON scoring_policies")
    for table in ("match_runs", "match_proposals", "declined_pairs"):
        op.execute(f"DROP TRIGGER forbid_delete ON {table}")
    op.drop_index("uq_declined_pairs_pair", table_name="declined_pairs")
    op.drop_table("declined_pairs")
    op.drop_index(op.f("ix_match_proposals_sibling_group_id"), table_name="match_proposals")
    op.drop_index("ix_match_proposals_run_group", table_name="match_proposals")
    op.drop_index(op.f("ix_match_proposals_household_id"), table_name="match_proposals")
    op.drop_table("match_proposals")
    op.drop_index("uq_match_runs_one_running", table_name="match_runs", postgresql_where=sa.text("status = 'running'"))
    op.drop_table("match_runs")
    op.drop_table("scoring_policies")
