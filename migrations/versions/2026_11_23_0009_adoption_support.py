"""adoption support: needs assessments, the Adoption Support Fund, personal budgets, the passport, breakdowns

Revision ID: 0009
Revises: 0010
Create Date: 2026-11-23 13:31:40.001253
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


VERSIONED_TABLES = (
    "support_assessments",
    "asf_limits",
    "support_budgets",
    "passport_entitlements",
    "adoption_breakdowns",
)
IMMUTABLE_TABLES = ("asf_applications", "asf_lines", "support_budget_lines")

# The Adoption Support Fund's rules per financial year (shared/design/domain.md):
# (fair-access limit, separate specialist-assessment allowance or None, match funding, source).
LETTER_2017 = (
    "Minister's letter of 25 January 2017: fair-access limit £5,000 per child per year for therapy, "
    "up to £2,500 for a specialist assessment; above it, match funding on four criteria (equal shares: "
    "documented default)"
)
CARRIED_2017 = (
    "Documented default: the 2017/18 rules carried forward (fair-access limit £5,000 + £2,500 specialist "
    "assessment, match funding) until the April 2025 change"
)
RULES_2025 = "From April 2025: £3,000 per child per year including assessments, no match funding"
CARRIED_2025 = "Documented default: the April 2025 rules carried forward"
ASF_LIMITS = {
    2017: (500_000, 250_000, True, LETTER_2017),
    **dict.fromkeys(range(2018, 2025), (500000, 250000, True, CARRIED_2017)),
    2025: (300_000, None, False, RULES_2025),
    2026: (300_000, None, False, CARRIED_2025),
}

# The Adoption Passport's national entitlements: (ref, title, summary, source).
NATIONAL_ENTITLEMENTS = (
    (
        "PE-NATIONAL-ASSESSMENT",
        "An assessment of your family's support needs",
        "On request, the local authority must assess your family's adoption support needs. The placing "
        "authority is responsible for three years after the adoption order, then the authority where you live.",
        "Adoption and Children Act 2002; Adoption Support Services Regulations 2005",
    ),
    (
        "PE-NATIONAL-ASF",
        "Therapy through the Adoption Support Fund",
        "After an assessment, your local authority or regional adoption agency can apply to the Adoption "
        "Support Fund for therapeutic support, within the fund's limit per child per year.",
        "Department for Education, Adoption Support Fund (minister's letter of 25 January 2017; April 2025 changes)",
    ),
    (
        "PE-NATIONAL-PAY-LEAVE",
        "Adoption pay and leave",
        "Adopters have the same rights to leave and pay as birth parents: up to 52 weeks' adoption leave and "
        "statutory adoption pay, if eligible.",
        "Employment Rights Act 1996; Paternity and Adoption Leave Regulations 2002; gov.uk/adoption-pay-leave",
    ),
    (
        "PE-NATIONAL-SCHOOL",
        "Priority school admission",
        "Children adopted from care have the highest priority for school places, with looked-after children.",
        "School Admissions Code (Department for Education)",
    ),
    (
        "PE-NATIONAL-HEALTH",
        "Your child's health information before placement",
        "Before a child is placed with you, the agency must give you information about the child's health, "
        "including the medical adviser's report.",
        "Adoption Agencies Regulations 2005",
    ),
)


def upgrade() -> None:
    op.create_table(
        "asf_limits",
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("fair_access_pence", sa.BigInteger(), nullable=False),
        sa.Column("specialist_assessment_pence", sa.BigInteger(), nullable=True),
        sa.Column("match_funding", sa.Boolean(), nullable=False),
        sa.Column("fund_share_num", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("fund_share_den", sa.SmallInteger(), server_default=sa.text("2"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("fair_access_pence > 0", name=op.f("ck_asf_limits_limit_positive")),
        sa.CheckConstraint("financial_year BETWEEN 2015 AND 2100", name=op.f("ck_asf_limits_year_range")),
        sa.CheckConstraint(
            "fund_share_num > 0 AND fund_share_num <= fund_share_den", name=op.f("ck_asf_limits_share_range")
        ),
        sa.CheckConstraint(
            "specialist_assessment_pence IS NULL OR specialist_assessment_pence > 0",
            name=op.f("ck_asf_limits_assessment_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asf_limits")),
        sa.UniqueConstraint("financial_year", name=op.f("uq_asf_limits_financial_year")),
        sa.UniqueConstraint("ref", name=op.f("uq_asf_limits_ref")),
    )
    op.create_table(
        "passport_entitlements",
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("length(summary) BETWEEN 1 AND 4000", name=op.f("ck_passport_entitlements_summary_length")),
        sa.CheckConstraint("length(title) BETWEEN 1 AND 200", name=op.f("ck_passport_entitlements_title_length")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_passport_entitlements_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_entitlements")),
        sa.UniqueConstraint("ref", name=op.f("uq_passport_entitlements_ref")),
    )
    op.create_index(op.f("ix_passport_entitlements_agency_id"), "passport_entitlements", ["agency_id"], unique=False)
    op.create_table(
        "adoption_breakdowns",
        sa.Column("placement_id", sa.BigInteger(), nullable=False),
        sa.Column("child_id", sa.BigInteger(), nullable=False),
        sa.Column("returned_to_care_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "reason IN ('child_behaviour', 'family_relationships', 'parent_health', 'child_needs_residential_care', 'safeguarding', 'other')",
            name=op.f("ck_adoption_breakdowns_reason_known"),
        ),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_adoption_breakdowns_child_id_children")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_adoption_breakdowns_placement_id_placements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adoption_breakdowns")),
        sa.UniqueConstraint("ref", name=op.f("uq_adoption_breakdowns_ref")),
    )
    op.create_index(op.f("ix_adoption_breakdowns_child_id"), "adoption_breakdowns", ["child_id"], unique=False)
    op.create_index(op.f("ix_adoption_breakdowns_placement_id"), "adoption_breakdowns", ["placement_id"], unique=False)
    op.create_index(
        "uq_adoption_breakdowns_placement_child", "adoption_breakdowns", ["placement_id", "child_id"], unique=True
    )
    op.create_table(
        "asf_allowances",
        sa.Column("child_id", sa.BigInteger(), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("allowance", sa.Text(), nullable=False),
        sa.Column("limit_pence", sa.BigInteger(), nullable=False),
        sa.Column("used_pence", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "allowance IN ('fair_access', 'specialist_assessment')", name=op.f("ck_asf_allowances_allowance_capped")
        ),
        sa.CheckConstraint(
            "used_pence >= 0 AND used_pence <= limit_pence", name=op.f("ck_asf_allowances_within_limit")
        ),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_asf_allowances_child_id_children")),
        sa.PrimaryKeyConstraint("child_id", "financial_year", "allowance", name=op.f("pk_asf_allowances")),
    )
    op.create_table(
        "support_assessments",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("placement_id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("responsibility_basis", sa.Text(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("requested_by_family", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("support_plan", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "days_to_outcome", sa.Integer(), sa.Computed("outcome_on - requested_on", persisted=True), nullable=True
        ),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('support_plan', 'no_support_needed')", name=op.f("ck_support_assessments_outcome_known")
        ),
        sa.CheckConstraint(
            "(outcome IS NULL) = (outcome_on IS NULL)", name=op.f("ck_support_assessments_outcome_dated")
        ),
        sa.CheckConstraint(
            "outcome_on IS NULL OR outcome_on >= requested_on",
            name=op.f("ck_support_assessments_outcome_after_request"),
        ),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_support_assessments_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_support_assessments_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_support_assessments_placement_id_placements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_assessments")),
        sa.UniqueConstraint("ref", name=op.f("uq_support_assessments_ref")),
    )
    op.create_index(op.f("ix_support_assessments_agency_id"), "support_assessments", ["agency_id"], unique=False)
    op.create_index(op.f("ix_support_assessments_household_id"), "support_assessments", ["household_id"], unique=False)
    op.create_index(op.f("ix_support_assessments_placement_id"), "support_assessments", ["placement_id"], unique=False)
    op.create_table(
        "asf_applications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("child_id", sa.BigInteger(), nullable=False),
        sa.Column("assessment_id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("match_funding_criterion", sa.Text(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("applied_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "category IN ('therapy', 'specialist_assessment')", name=op.f("ck_asf_applications_category_known")
        ),
        sa.CheckConstraint(
            "match_funding_criterion IN ('high_risk_of_breakdown', 'many_complex_cases', 'hard_to_place', 'no_affordable_local_provision')",
            name=op.f("ck_asf_applications_criterion_known"),
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_asf_applications_amount_positive")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_asf_applications_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["support_assessments.id"],
            name=op.f("fk_asf_applications_assessment_id_support_assessments"),
        ),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_asf_applications_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asf_applications")),
        sa.UniqueConstraint("ref", name=op.f("uq_asf_applications_ref")),
    )
    op.create_index(
        "ix_asf_applications_agency_year", "asf_applications", ["agency_id", "financial_year"], unique=False
    )
    op.create_index(op.f("ix_asf_applications_assessment_id"), "asf_applications", ["assessment_id"], unique=False)
    op.create_index(op.f("ix_asf_applications_child_id"), "asf_applications", ["child_id"], unique=False)
    op.create_table(
        "support_budgets",
        sa.Column("assessment_id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("spent_pence", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("managed_by", sa.Text(), nullable=False),
        sa.Column("manager_name", sa.Text(), server_default="", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "managed_by IN ('authority', 'provider', 'family')", name=op.f("ck_support_budgets_manager_known")
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_support_budgets_amount_positive")),
        sa.CheckConstraint("period_start <= period_end", name=op.f("ck_support_budgets_period_ordered")),
        sa.CheckConstraint(
            "spent_pence >= 0 AND spent_pence <= amount_pence", name=op.f("ck_support_budgets_balance_not_negative")
        ),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_support_budgets_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["support_assessments.id"],
            name=op.f("fk_support_budgets_assessment_id_support_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_support_budgets_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_budgets")),
        sa.UniqueConstraint("ref", name=op.f("uq_support_budgets_ref")),
    )
    op.create_index(op.f("ix_support_budgets_agency_id"), "support_budgets", ["agency_id"], unique=False)
    op.create_index(op.f("ix_support_budgets_assessment_id"), "support_budgets", ["assessment_id"], unique=False)
    op.create_index(op.f("ix_support_budgets_household_id"), "support_budgets", ["household_id"], unique=False)
    op.create_table(
        "asf_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("child_id", sa.BigInteger(), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("allowance", sa.Text(), nullable=False),
        sa.Column("payer", sa.Text(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("reverses_line_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("raised_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(allowance = 'match_funding') OR payer = 'fund'", name=op.f("ck_asf_lines_authority_pays_only_match")
        ),
        sa.CheckConstraint(
            "allowance IN ('fair_access', 'specialist_assessment', 'match_funding')",
            name=op.f("ck_asf_lines_allowance_known"),
        ),
        sa.CheckConstraint("payer IN ('fund', 'authority')", name=op.f("ck_asf_lines_payer_known")),
        sa.CheckConstraint(
            "(reverses_line_id IS NULL AND amount_pence > 0) OR (reverses_line_id IS NOT NULL AND amount_pence < 0)",
            name=op.f("ck_asf_lines_reversal_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"], ["asf_applications.id"], name=op.f("fk_asf_lines_application_id_asf_applications")
        ),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_asf_lines_child_id_children")),
        sa.ForeignKeyConstraint(
            ["reverses_line_id"], ["asf_lines.id"], name=op.f("fk_asf_lines_reverses_line_id_asf_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asf_lines")),
    )
    op.create_index(op.f("ix_asf_lines_application_id"), "asf_lines", ["application_id"], unique=False)
    op.create_index("ix_asf_lines_child_year", "asf_lines", ["child_id", "financial_year"], unique=False)
    op.create_index("uq_asf_lines_reverses", "asf_lines", ["reverses_line_id"], unique=True)
    op.create_table(
        "support_budget_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("budget_id", sa.BigInteger(), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("raised_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "category IN ('therapy', 'specialist_assessment', 'parenting_support', 'peer_support', 'respite', 'training', 'education_support', 'other')",
            name=op.f("ck_support_budget_lines_category_known"),
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_support_budget_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["budget_id"], ["support_budgets.id"], name=op.f("fk_support_budget_lines_budget_id_support_budgets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_budget_lines")),
        sa.UniqueConstraint("ref", name=op.f("uq_support_budget_lines_ref")),
    )
    op.create_index(op.f("ix_support_budget_lines_budget_id"), "support_budget_lines", ["budget_id"], unique=False)

    for year, (fair_access, assessment, match_funding, source) in ASF_LIMITS.items():
        op.execute(
            sa.text(
                "INSERT INTO asf_limits (ref, financial_year, fair_access_pence, specialist_assessment_pence, "
                "match_funding, source) VALUES (:ref, :year, :fair_access, :assessment, :match_funding, :source)"
            ).bindparams(
                ref=f"ASF-{year}",
                year=year,
                fair_access=fair_access,
                assessment=assessment,
                match_funding=match_funding,
                source=source,
            )
        )
    for position, (ref, title, summary, source) in enumerate(NATIONAL_ENTITLEMENTS):
        op.execute(
            sa.text(
                "INSERT INTO passport_entitlements (ref, title, summary, source, position) "
                "VALUES (:ref, :title, :summary, :source, :position)"
            ).bindparams(ref=ref, title=title, summary=summary, source=source, position=position)
        )
    for table in VERSIONED_TABLES:  # versioned records, never deleted
        op.execute(
            f"CREATE TRIGGER record_version AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION record_version()"
        )
        op.execute(
            f"CREATE TRIGGER forbid_delete BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )
    for table in IMMUTABLE_TABLES:  # written once: corrections are reversing lines
        op.execute(
            f"CREATE TRIGGER forbid_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )
    # A running total of the lines (the row the limit check locks): updated, never deleted.
    op.execute(
        "CREATE TRIGGER forbid_delete BEFORE DELETE ON asf_allowances FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER forbid_delete ON asf_allowances")
    for table in IMMUTABLE_TABLES:
        op.execute(f"DROP TRIGGER forbid_change ON {table}")
    for table in VERSIONED_TABLES:
        op.execute(f"DROP TRIGGER record_version ON {table}")
        op.execute(f"DROP TRIGGER forbid_delete ON {table}")
    # The tables go, so their history goes too (an upgrade would reuse their ids).
    op.execute("ALTER TABLE record_versions DISABLE TRIGGER forbid_change")
    op.execute(
        "DELETE FROM record_versions WHERE table_name IN "
        "('support_assessments', 'asf_limits', 'support_budgets', 'passport_entitlements', 'adoption_breakdowns')"
    )
    op.execute("ALTER TABLE record_versions ENABLE TRIGGER forbid_change")
    op.drop_index(op.f("ix_support_budget_lines_budget_id"), table_name="support_budget_lines")
    op.drop_table("support_budget_lines")
    op.drop_index("uq_asf_lines_reverses", table_name="asf_lines")
    op.drop_index("ix_asf_lines_child_year", table_name="asf_lines")
    op.drop_index(op.f("ix_asf_lines_application_id"), table_name="asf_lines")
    op.drop_table("asf_lines")
    op.drop_index(op.f("ix_support_budgets_household_id"), table_name="support_budgets")
    op.drop_index(op.f("ix_support_budgets_assessment_id"), table_name="support_budgets")
    op.drop_index(op.f("ix_support_budgets_agency_id"), table_name="support_budgets")
    op.drop_table("support_budgets")
    op.drop_index(op.f("ix_asf_applications_child_id"), table_name="asf_applications")
    op.drop_index(op.f("ix_asf_applications_assessment_id"), table_name="asf_applications")
    op.drop_index("ix_asf_applications_agency_year", table_name="asf_applications")
    op.drop_table("asf_applications")
    op.drop_index(op.f("ix_support_assessments_placement_id"), table_name="support_assessments")
    op.drop_index(op.f("ix_support_assessments_household_id"), table_name="support_assessments")
    op.drop_index(op.f("ix_support_assessments_agency_id"), table_name="support_assessments")
    op.drop_table("support_assessments")
    op.drop_table("asf_allowances")
    op.drop_index("uq_adoption_breakdowns_placement_child", table_name="adoption_breakdowns")
    op.drop_index(op.f("ix_adoption_breakdowns_placement_id"), table_name="adoption_breakdowns")
    op.drop_index(op.f("ix_adoption_breakdowns_child_id"), table_name="adoption_breakdowns")
    op.drop_table("adoption_breakdowns")
    op.drop_index(op.f("ix_passport_entitlements_agency_id"), table_name="passport_entitlements")
    op.drop_table("passport_entitlements")
    op.drop_table("asf_limits")
