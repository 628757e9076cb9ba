"""register core: agencies, sibling groups, children, households, placements, history, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:50:11.107644
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = ("agencies", "sibling_groups", "children", "households", "placements")
ENUM_TYPES = ("agency_kind", "region", "ethnicity", "religion", "sex", "household_status", "sibling_group_status")

# Nothing is ever deleted, and every state of every record is kept with who made it and
# in which request (the application sets app.principal and app.request_id per transaction).
HISTORY_FUNCTIONS = (
    """
CREATE FUNCTION record_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_versions (table_name, record_id, version, data, principal, request_id)
    VALUES (TG_TABLE_NAME, NEW.id, NEW.version, to_jsonb(NEW),
            COALESCE(NULLIF(current_setting('app.principal', true), ''), 'system:' || current_user),
            COALESCE(NULLIF(current_setting('app.request_id', true), ''), 'none'));
    RETURN NEW;
END $$
""",
    """
CREATE FUNCTION forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: records are kept, not deleted or rewritten',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$
""",
)


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Enum("raa", "la", "vaa", name="agency_kind"), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "north_east",
                "north_west",
                "yorkshire_and_the_humber",
                "east_midlands",
                "west_midlands",
                "east_of_england",
                "london",
                "south_east",
                "south_west",
                name="region",
            ),
            nullable=False,
        ),
        sa.Column("parent_raa_id", sa.BigInteger(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(kind = 'la') = (parent_raa_id IS NOT NULL)", name=op.f("ck_agencies_la_has_parent_raa")),
        sa.CheckConstraint(
            "latitude BETWEEN 49 AND 56 AND longitude BETWEEN -7 AND 2", name=op.f("ck_agencies_in_england")
        ),
        sa.ForeignKeyConstraint(["parent_raa_id"], ["agencies.id"], name=op.f("fk_agencies_parent_raa_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("ref", name=op.f("uq_agencies_ref")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("resource_type", sa.Text(), nullable=False),
        sa.Column("resource_ref", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('read', 'create', 'update', 'transition')", name=op.f("ck_audit_events_action_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_occurred_at"), "audit_events", ["occurred_at"], unique=False)
    op.create_index(op.f("ix_audit_events_principal"), "audit_events", ["principal"], unique=False)
    op.create_index("ix_audit_events_resource", "audit_events", ["resource_type", "resource_ref"], unique=False)
    op.create_table(
        "record_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
    )
    op.create_index(
        "ix_record_versions_table_record", "record_versions", ["table_name", "record_id", "version"], unique=True
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.Text(), nullable=False),
        sa.Column("algorithm", sa.Text(), nullable=False),
        sa.Column("private_jwk", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "households",
        sa.Column("applicant_names", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("approving_agency_id", sa.BigInteger(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("approved_children", sa.SmallInteger(), nullable=False),
        sa.Column("age_min_years", sa.SmallInteger(), nullable=False),
        sa.Column("age_max_years", sa.SmallInteger(), nullable=False),
        sa.Column("accepts_sibling_group", sa.Boolean(), nullable=False),
        sa.Column("contact_openness", sa.SmallInteger(), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "north_east",
                "north_west",
                "yorkshire_and_the_humber",
                "east_midlands",
                "west_midlands",
                "east_of_england",
                "london",
                "south_east",
                "south_west",
                name="region",
            ),
            nullable=False,
        ),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column(
            "ethnicity",
            sa.Enum("white_british", "white_other", "mixed", "asian", "black", "other", name="ethnicity"),
            nullable=False,
        ),
        sa.Column(
            "religion",
            sa.Enum("none", "christian", "muslim", "hindu", "sikh", "jewish", "buddhist", "other", name="religion"),
            nullable=False,
        ),
        sa.Column("languages", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("profile_live", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "status",
            sa.Enum("approved", "on_hold", "linked", "matched", "withdrawn", name="household_status"),
            server_default="approved",
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("need_physical_disability", sa.SmallInteger(), nullable=False),
        sa.Column("need_learning_disability", sa.SmallInteger(), nullable=False),
        sa.Column("need_developmental_uncertainty", sa.SmallInteger(), nullable=False),
        sa.Column("need_health_condition", sa.SmallInteger(), nullable=False),
        sa.Column("need_emotional_behavioural", sa.SmallInteger(), nullable=False),
        sa.Column("need_foetal_alcohol_exposure", sa.SmallInteger(), nullable=False),
        sa.Column("need_birth_family_history", sa.SmallInteger(), nullable=False),
        sa.Column("need_contact", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "age_min_years >= 0 AND age_min_years <= age_max_years AND age_max_years <= 17",
            name=op.f("ck_households_age_range"),
        ),
        sa.CheckConstraint("approved_children BETWEEN 1 AND 6", name=op.f("ck_households_approved_children_range")),
        sa.CheckConstraint(
            "cardinality(applicant_names) BETWEEN 1 AND 2", name=op.f("ck_households_one_or_two_applicants")
        ),
        sa.CheckConstraint("contact_openness BETWEEN 0 AND 3", name=op.f("ck_households_contact_openness_level")),
        sa.CheckConstraint(
            "latitude BETWEEN 49 AND 56 AND longitude BETWEEN -7 AND 2", name=op.f("ck_households_in_england")
        ),
        sa.CheckConstraint(
            "need_birth_family_history BETWEEN 0 AND 3", name=op.f("ck_households_need_birth_family_history_level")
        ),
        sa.CheckConstraint("need_contact BETWEEN 0 AND 3", name=op.f("ck_households_need_contact_level")),
        sa.CheckConstraint(
            "need_developmental_uncertainty BETWEEN 0 AND 3",
            name=op.f("ck_households_need_developmental_uncertainty_level"),
        ),
        sa.CheckConstraint(
            "need_emotional_behavioural BETWEEN 0 AND 3", name=op.f("ck_households_need_emotional_behavioural_level")
        ),
        sa.CheckConstraint(
            "need_foetal_alcohol_exposure BETWEEN 0 AND 3",
            name=op.f("ck_households_need_foetal_alcohol_exposure_level"),
        ),
        sa.CheckConstraint(
            "need_health_condition BETWEEN 0 AND 3", name=op.f("ck_households_need_health_condition_level")
        ),
        sa.CheckConstraint(
            "need_learning_disability BETWEEN 0 AND 3", name=op.f("ck_households_need_learning_disability_level")
        ),
        sa.CheckConstraint(
            "need_physical_disability BETWEEN 0 AND 3", name=op.f("ck_households_need_physical_disability_level")
        ),
        sa.ForeignKeyConstraint(
            ["approving_agency_id"], ["agencies.id"], name=op.f("fk_households_approving_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("ref", name=op.f("uq_households_ref")),
    )
    op.create_index(op.f("ix_households_approving_agency_id"), "households", ["approving_agency_id"], unique=False)
    op.create_table(
        "sibling_groups",
        sa.Column("la_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("waiting", "linked", "matched", "placed", "withdrawn", name="sibling_group_status"),
            server_default="waiting",
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["la_id"], ["agencies.id"], name=op.f("fk_sibling_groups_la_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sibling_groups")),
        sa.UniqueConstraint("ref", name=op.f("uq_sibling_groups_ref")),
    )
    op.create_index(op.f("ix_sibling_groups_la_id"), "sibling_groups", ["la_id"], unique=False)
    op.create_table(
        "children",
        sa.Column("sibling_group_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("surname", sa.Text(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("birth_family_latitude", sa.Float(), nullable=True),
        sa.Column("birth_family_longitude", sa.Float(), nullable=True),
        sa.Column("contact_notes", sa.Text(), server_default="", nullable=False),
        sa.Column("sex", sa.Enum("female", "male", name="sex"), nullable=False),
        sa.Column(
            "ethnicity",
            sa.Enum("white_british", "white_other", "mixed", "asian", "black", "other", name="ethnicity"),
            nullable=False,
        ),
        sa.Column(
            "religion",
            sa.Enum("none", "christian", "muslim", "hindu", "sikh", "jewish", "buddhist", "other", name="religion"),
            nullable=False,
        ),
        sa.Column("languages", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "north_east",
                "north_west",
                "yorkshire_and_the_humber",
                "east_midlands",
                "west_midlands",
                "east_of_england",
                "london",
                "south_east",
                "south_west",
                name="region",
            ),
            nullable=False,
        ),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("entered_care_on", sa.Date(), nullable=False),
        sa.Column("placement_order_on", sa.Date(), nullable=True),
        sa.Column("should_be_placed_on", sa.Date(), nullable=True),
        sa.Column(
            "waiting_since",
            sa.Date(),
            sa.Computed("COALESCE(placement_order_on, should_be_placed_on)", persisted=True),
            nullable=False,
        ),
        sa.Column("contact_plan", sa.SmallInteger(), nullable=False),
        sa.Column(
            "excluded_regions",
            postgresql.ARRAY(
                sa.Enum(
                    "north_east",
                    "north_west",
                    "yorkshire_and_the_humber",
                    "east_midlands",
                    "west_midlands",
                    "east_of_england",
                    "london",
                    "south_east",
                    "south_west",
                    name="region",
                )
            ),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("min_distance_km", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("profile_text", sa.Text(), server_default="", nullable=False),
        sa.Column("profile_visible_to_adopters", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("need_physical_disability", sa.SmallInteger(), nullable=False),
        sa.Column("need_learning_disability", sa.SmallInteger(), nullable=False),
        sa.Column("need_developmental_uncertainty", sa.SmallInteger(), nullable=False),
        sa.Column("need_health_condition", sa.SmallInteger(), nullable=False),
        sa.Column("need_emotional_behavioural", sa.SmallInteger(), nullable=False),
        sa.Column("need_foetal_alcohol_exposure", sa.SmallInteger(), nullable=False),
        sa.Column("need_birth_family_history", sa.SmallInteger(), nullable=False),
        sa.Column("need_contact", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("contact_plan BETWEEN 0 AND 3", name=op.f("ck_children_contact_plan_level")),
        sa.CheckConstraint("date_of_birth <= entered_care_on", name=op.f("ck_children_born_before_care")),
        sa.CheckConstraint(
            "latitude BETWEEN 49 AND 56 AND longitude BETWEEN -7 AND 2", name=op.f("ck_children_in_england")
        ),
        sa.CheckConstraint("length(first_name) > 0 AND length(surname) > 0", name=op.f("ck_children_names_present")),
        sa.CheckConstraint("min_distance_km >= 0", name=op.f("ck_children_min_distance_not_negative")),
        sa.CheckConstraint(
            "need_birth_family_history BETWEEN 0 AND 3", name=op.f("ck_children_need_birth_family_history_level")
        ),
        sa.CheckConstraint("need_contact BETWEEN 0 AND 3", name=op.f("ck_children_need_contact_level")),
        sa.CheckConstraint(
            "need_developmental_uncertainty BETWEEN 0 AND 3",
            name=op.f("ck_children_need_developmental_uncertainty_level"),
        ),
        sa.CheckConstraint(
            "need_emotional_behavioural BETWEEN 0 AND 3", name=op.f("ck_children_need_emotional_behavioural_level")
        ),
        sa.CheckConstraint(
            "need_foetal_alcohol_exposure BETWEEN 0 AND 3", name=op.f("ck_children_need_foetal_alcohol_exposure_level")
        ),
        sa.CheckConstraint(
            "need_health_condition BETWEEN 0 AND 3", name=op.f("ck_children_need_health_condition_level")
        ),
        sa.CheckConstraint(
            "need_learning_disability BETWEEN 0 AND 3", name=op.f("ck_children_need_learning_disability_level")
        ),
        sa.CheckConstraint(
            "need_physical_disability BETWEEN 0 AND 3", name=op.f("ck_children_need_physical_disability_level")
        ),
        sa.CheckConstraint(
            "placement_order_on IS NOT NULL OR should_be_placed_on IS NOT NULL",
            name=op.f("ck_children_has_authority_to_place"),
        ),
        sa.ForeignKeyConstraint(
            ["sibling_group_id"], ["sibling_groups.id"], name=op.f("fk_children_sibling_group_id_sibling_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_children")),
        sa.UniqueConstraint("ref", name=op.f("uq_children_ref")),
    )
    op.create_index(op.f("ix_children_sibling_group_id"), "children", ["sibling_group_id"], unique=False)
    op.create_index("ix_children_waiting_since_id", "children", ["waiting_since", "id"], unique=False)
    op.create_table(
        "placements",
        sa.Column("sibling_group_id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("child_agency_id", sa.BigInteger(), nullable=False),
        sa.Column("household_agency_id", sa.BigInteger(), nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("adoption_order_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "adoption_order_on IS NULL OR adoption_order_on >= placed_on",
            name=op.f("ck_placements_order_after_placement"),
        ),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= placed_on", name=op.f("ck_placements_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["child_agency_id"], ["agencies.id"], name=op.f("fk_placements_child_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["household_agency_id"], ["agencies.id"], name=op.f("fk_placements_household_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_placements_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["sibling_group_id"], ["sibling_groups.id"], name=op.f("fk_placements_sibling_group_id_sibling_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
        sa.UniqueConstraint("ref", name=op.f("uq_placements_ref")),
    )
    op.create_index(op.f("ix_placements_household_id"), "placements", ["household_id"], unique=False)
    op.create_index(op.f("ix_placements_sibling_group_id"), "placements", ["sibling_group_id"], unique=False)
    op.create_index(
        "uq_placements_current_group",
        "placements",
        ["sibling_group_id"],
        unique=True,
        postgresql_where=sa.text("ended_on IS NULL"),
    )

    for function in HISTORY_FUNCTIONS:
        op.execute(function)
    for table in VERSIONED_TABLES:
        op.execute(
            f"CREATE TRIGGER record_version AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION record_version()"
        )
        op.execute(
            f"CREATE TRIGGER forbid_delete BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )
    for table in ("audit_events", "record_versions"):
        op.execute(
            f"CREATE TRIGGER forbid_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )


def downgrade() -> None:
    for table in VERSIONED_TABLES:
        op.execute(f"DROP TRIGGER record_version ON {table}")
        op.execute(f"DROP TRIGGER forbid_delete ON {table}")
    for table in ("audit_events", "record_versions"):
        op.execute(f"DROP TRIGGER forbid_change ON {table}")
    op.drop_index("uq_placements_current_group", table_name="placements", postgresql_where=sa.text("ended_on IS NULL"))
    op.drop_index(op.f("ix_placements_sibling_group_id"), table_name="placements")
    op.drop_index(op.f("ix_placements_household_id"), table_name="placements")
    op.drop_table("placements")
    op.drop_index("ix_children_waiting_since_id", table_name="children")
    op.drop_index(op.f("ix_children_sibling_group_id"), table_name="children")
    op.drop_table("children")
    op.drop_index(op.f("ix_sibling_groups_la_id"), table_name="sibling_groups")
    op.drop_table("sibling_groups")
    op.drop_index(op.f("ix_households_approving_agency_id"), table_name="households")
    op.drop_table("households")
    op.drop_table("signing_keys")
    op.drop_index("ix_record_versions_table_record", table_name="record_versions")
    op.drop_table("record_versions")
    op.drop_index("ix_audit_events_resource", table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_principal"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_occurred_at"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("agencies")
    op.execute("DROP FUNCTION record_version()")
    op.execute("DROP FUNCTION forbid_delete()")
    for enum in ENUM_TYPES:
        op.execute(f"DROP TYPE {enum}")
