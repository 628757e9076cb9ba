"""links: one sibling group and one household from the request to the adoption order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'requested', 'agreed', 'refused', 'panel', 'decided', 'placed', 'adopted', 'withdrawn', 'disrupted'"
ACTIVE = "status IN ('requested', 'agreed', 'panel', 'decided', 'placed')"


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("sibling_group_id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("child_agency_id", sa.BigInteger(), nullable=False),
        sa.Column("household_agency_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("origin_ref", sa.Text(), nullable=True),
        sa.Column("origin_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=True),
        sa.Column("refused_on", sa.Date(), nullable=True),
        sa.Column("panel_on", sa.Date(), nullable=True),
        sa.Column("panel_recommendation", sa.Text(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("placed_on", sa.Date(), nullable=True),
        sa.Column("adoption_order_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("disrupted_on", sa.Date(), nullable=True),
        sa.Column("disruption_reason", sa.Text(), nullable=True),
        sa.Column("end_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("placement_id", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_links_status_known")),
        sa.CheckConstraint("origin IN ('proposal', 'interest', 'family_finder')", name=op.f("ck_links_origin_known")),
        sa.CheckConstraint("origin = 'family_finder' OR origin_ref IS NOT NULL", name=op.f("ck_links_origin_named")),
        sa.CheckConstraint(
            "panel_recommendation IS NULL OR panel_recommendation IN ('recommended', 'not_recommended')",
            name=op.f("ck_links_panel_recommendation_known"),
        ),
        sa.CheckConstraint(
            "disruption_reason IS NULL OR disruption_reason IN ('child_needs_not_met', 'family_circumstances', "
            "'relationship_breakdown', 'safeguarding', 'other')",
            name=op.f("ck_links_disruption_reason_known"),
        ),
        sa.CheckConstraint(
            "agreed_on IS NULL OR agreed_on >= requested_on", name=op.f("ck_links_agreed_after_request")
        ),
        sa.CheckConstraint(
            "refused_on IS NULL OR refused_on >= requested_on", name=op.f("ck_links_refused_after_request")
        ),
        sa.CheckConstraint("panel_on IS NULL OR panel_on >= agreed_on", name=op.f("ck_links_panel_after_agreement")),
        sa.CheckConstraint("decided_on IS NULL OR decided_on >= panel_on", name=op.f("ck_links_decision_after_panel")),
        sa.CheckConstraint(
            "placed_on IS NULL OR placed_on >= decided_on", name=op.f("ck_links_placement_after_decision")
        ),
        sa.CheckConstraint(
            "adoption_order_on IS NULL OR adoption_order_on >= placed_on", name=op.f("ck_links_order_after_placement")
        ),
        sa.CheckConstraint(
            "disrupted_on IS NULL OR disrupted_on >= placed_on", name=op.f("ck_links_disruption_after_placement")
        ),
        sa.CheckConstraint(
            "withdrawn_on IS NULL OR withdrawn_on >= requested_on", name=op.f("ck_links_withdrawal_after_request")
        ),
        sa.ForeignKeyConstraint(
            ["sibling_group_id"], ["sibling_groups.id"], name=op.f("fk_links_sibling_group_id_sibling_groups")
        ),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_links_household_id_households")),
        sa.ForeignKeyConstraint(["child_agency_id"], ["agencies.id"], name=op.f("fk_links_child_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["household_agency_id"], ["agencies.id"], name=op.f("fk_links_household_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(["placement_id"], ["placements.id"], name=op.f("fk_links_placement_id_placements")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint("ref", name=op.f("uq_links_ref")),
        sa.UniqueConstraint("placement_id", name=op.f("uq_links_placement_id")),
    )
    op.create_index(op.f("ix_links_sibling_group_id"), "links", ["sibling_group_id"])
    op.create_index(op.f("ix_links_household_id"), "links", ["household_id"])
    op.create_index(op.f("ix_links_child_agency_id"), "links", ["child_agency_id"])
    op.create_index(op.f("ix_links_household_agency_id"), "links", ["household_agency_id"])
    op.create_index(
        "uq_links_active_group", "links", ["sibling_group_id"], unique=True, postgresql_where=sa.text(ACTIVE)
    )
    op.create_index("ix_links_household_active", "links", ["household_id"], postgresql_where=sa.text(ACTIVE))

    op.create_table(
        "link_steps",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("link_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("by_agency_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(f"step IN ({STATUSES})", name=op.f("ck_link_steps_step_known")),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name=op.f("fk_link_steps_link_id_links")),
        sa.ForeignKeyConstraint(["by_agency_id"], ["agencies.id"], name=op.f("fk_link_steps_by_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_steps")),
    )
    op.create_index(op.f("ix_link_steps_link_id"), "link_steps", ["link_id"])

    op.execute(
        "CREATE TRIGGER record_version AFTER INSERT OR UPDATE ON links FOR EACH ROW EXECUTE FUNCTION record_version()"
    )
    op.execute("CREATE TRIGGER forbid_delete BEFORE DELETE ON links FOR EACH ROW EXECUTE FUNCTION forbid_delete()")
    op.execute(
        "CREATE TRIGGER forbid_change BEFORE UPDATE OR DELETE ON link_steps FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )
    # A run explains the units it could not place, and proposals that are not a unit's top family.
    op.add_column("match_proposals", sa.Column("no_eligible_household", postgresql.JSONB(), nullable=True))
    op.add_column("match_proposals", sa.Column("not_top", postgresql.JSONB(), nullable=True))
    # Closed by the register when the children are linked elsewhere or leave it. (A new
    # enum value can be added inside the migration's transaction; it is used only later.)
    op.execute("ALTER TYPE interest_status ADD VALUE IF NOT EXISTS 'closed'")
    op.add_column("expressions_of_interest", sa.Column("outcome", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_expressions_of_interest_outcome_known"),
        "expressions_of_interest",
        "outcome IS NULL OR outcome IN ('linked_with_you', 'linked_elsewhere', 'no_longer_looking')",
    )


def downgrade() -> None:
    op.drop_column("match_proposals", "not_top")
    op.drop_column("match_proposals", "no_eligible_household")
    op.drop_constraint(op.f("ck_expressions_of_interest_outcome_known"), "expressions_of_interest", type_="check")
    op.drop_column("expressions_of_interest", "outcome")
    # PostgreSQL cannot drop an enum value: the type is rebuilt without it (closed
    # interests become withdrawn, the nearest earlier meaning).
    op.execute("UPDATE expressions_of_interest SET status = 'withdrawn' WHERE status = 'closed'")
    op.execute("DROP INDEX uq_expressions_of_interest_open")
    op.execute("ALTER TABLE expressions_of_interest ALTER COLUMN status DROP DEFAULT")
    op.execute("ALTER TYPE interest_status RENAME TO interest_status_old")
    op.execute("CREATE TYPE interest_status AS ENUM ('open', 'withdrawn', 'accepted', 'declined')")
    op.execute(
        "ALTER TABLE expressions_of_interest ALTER COLUMN status TYPE interest_status "
        "USING status::text::interest_status"
    )
    op.execute("ALTER TABLE expressions_of_interest ALTER COLUMN status SET DEFAULT 'open'")
    op.execute("DROP TYPE interest_status_old")
    op.execute(
        "CREATE UNIQUE INDEX uq_expressions_of_interest_open ON expressions_of_interest "
        "(household_id, sibling_group_id) WHERE status = 'open'"
    )
    op.execute("DROP TRIGGER forbid_change ON link_steps")
    op.execute("DROP TRIGGER forbid_delete ON links")
    op.execute("DROP TRIGGER record_version ON links")
    op.drop_index(op.f("ix_link_steps_link_id"), table_name="link_steps")
    op.drop_table("link_steps")
    op.drop_index("ix_links_household_active", table_name="links")
    op.drop_index("uq_links_active_group", table_name="links")
    for column in ("household_agency_id", "child_agency_id", "household_id", "sibling_group_id"):
        op.drop_index(op.f(f"ix_links_{column}"), table_name="links")
    op.drop_table("links")
