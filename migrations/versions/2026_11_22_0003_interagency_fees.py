"""interagency fees: schedules, invoice lines, disputes, reconciliations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:14:11.645521
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED_MONTHLY_PENCE = {2021: 89_600, 2022: 93_900}
PUBLISHED_VAA_PENCE = {2019: 3_162_000, 2025: 3_924_500}


def upgrade() -> None:
    op.create_table(
        "fee_schedules",
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("la_to_la", "la_to_vaa", name="fee_kind"), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("one_child_pence", sa.BigInteger(), nullable=True),
        sa.Column("two_children_pence", sa.BigInteger(), nullable=True),
        sa.Column("three_children_pence", sa.BigInteger(), nullable=True),
        sa.Column("four_or_more_children_pence", sa.BigInteger(), nullable=True),
        sa.Column("placement_share_num", sa.SmallInteger(), nullable=False),
        sa.Column("placement_share_den", sa.SmallInteger(), nullable=False),
        sa.Column("monthly_pence", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "effective_from >= make_date(financial_year, 4, 1) AND effective_from < make_date(financial_year + 1, 4, 1)",
            name=op.f("ck_fee_schedules_effective_in_year"),
        ),
        sa.CheckConstraint("financial_year BETWEEN 2000 AND 2100", name=op.f("ck_fee_schedules_year_range")),
        sa.CheckConstraint(
            "one_child_pence > 0 AND two_children_pence > 0 AND three_children_pence > 0 AND four_or_more_children_pence > 0 AND monthly_pence > 0",
            name=op.f("ck_fee_schedules_amounts_positive"),
        ),
        sa.CheckConstraint(
            "placement_share_num > 0 AND placement_share_num <= placement_share_den",
            name=op.f("ck_fee_schedules_share_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_schedules")),
        sa.UniqueConstraint("ref", name=op.f("uq_fee_schedules_ref")),
    )
    op.create_index(
        "uq_fee_schedules_year_kind_from", "fee_schedules", ["financial_year", "kind", "effective_from"], unique=True
    )
    op.create_table(
        "reconciliations",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "finalised", name="reconciliation_status"),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'finalised') = (finalised_at IS NOT NULL)", name=op.f("ck_reconciliations_finalised_when")
        ),
        sa.CheckConstraint("period_start <= period_end", name=op.f("ck_reconciliations_period_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_reconciliations_idempotency_key")),
        sa.UniqueConstraint("ref", name=op.f("uq_reconciliations_ref")),
    )
    op.create_table(
        "fee_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("placement_id", sa.BigInteger(), nullable=False),
        sa.Column("schedule_id", sa.BigInteger(), nullable=True),
        sa.Column("event", sa.Enum("placement", "completion", "monthly", "credit", name="fee_event"), nullable=False),
        sa.Column("month", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("payer_agency_id", sa.BigInteger(), nullable=False),
        sa.Column("payee_agency_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("credits_line_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("raised_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(event = 'credit' AND amount_pence < 0) OR (event <> 'credit' AND amount_pence > 0)",
            name=op.f("ck_fee_lines_sign_matches_event"),
        ),
        sa.CheckConstraint(
            "(event = 'credit') = (credits_line_id IS NOT NULL)", name=op.f("ck_fee_lines_credit_names_its_line")
        ),
        sa.CheckConstraint("(event = 'monthly') = (month > 0)", name=op.f("ck_fee_lines_month_for_monthly")),
        sa.CheckConstraint("payer_agency_id <> payee_agency_id", name=op.f("ck_fee_lines_between_two_agencies")),
        sa.ForeignKeyConstraint(
            ["credits_line_id"], ["fee_lines.id"], name=op.f("fk_fee_lines_credits_line_id_fee_lines")
        ),
        sa.ForeignKeyConstraint(
            ["payee_agency_id"], ["agencies.id"], name=op.f("fk_fee_lines_payee_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["payer_agency_id"], ["agencies.id"], name=op.f("fk_fee_lines_payer_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(["placement_id"], ["placements.id"], name=op.f("fk_fee_lines_placement_id_placements")),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["fee_schedules.id"], name=op.f("fk_fee_lines_schedule_id_fee_schedules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_lines")),
        sa.UniqueConstraint("ref", name=op.f("uq_fee_lines_ref")),
    )
    op.create_index("ix_fee_lines_due_on", "fee_lines", ["due_on"], unique=False)
    op.create_index(op.f("ix_fee_lines_payee_agency_id"), "fee_lines", ["payee_agency_id"], unique=False)
    op.create_index(op.f("ix_fee_lines_payer_agency_id"), "fee_lines", ["payer_agency_id"], unique=False)
    op.create_index(op.f("ix_fee_lines_placement_id"), "fee_lines", ["placement_id"], unique=False)
    op.create_index(
        "uq_fee_lines_event",
        "fee_lines",
        ["placement_id", "event", "month"],
        unique=True,
        postgresql_where=sa.text("event <> 'credit'"),
    )
    op.create_table(
        "fee_disputes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["line_id"], ["fee_lines.id"], name=op.f("fk_fee_disputes_line_id_fee_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_disputes")),
        sa.UniqueConstraint("ref", name=op.f("uq_fee_disputes_ref")),
    )
    op.create_index(op.f("ix_fee_disputes_line_id"), "fee_disputes", ["line_id"], unique=False)
    op.create_index(
        "uq_fee_disputes_open",
        "fee_disputes",
        ["line_id"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "reconciliation_lines",
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("reconciliation_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["fee_lines.id"], name=op.f("fk_reconciliation_lines_line_id_fee_lines")),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name=op.f("fk_reconciliation_lines_reconciliation_id_reconciliations"),
        ),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_reconciliation_lines")),
    )
    op.create_index(
        op.f("ix_reconciliation_lines_reconciliation_id"), "reconciliation_lines", ["reconciliation_id"], unique=False
    )

    # The published schedules (shared/design/domain.md). Unknown amounts stay NULL: the API
    # says "not set" rather than invent one. Later changes are new versions, via the API.
    for year in range(2011, 2027):
        monthly = PUBLISHED_MONTHLY_PENCE.get(year)
        op.execute(
            sa.text(
                "INSERT INTO fee_schedules (ref, financial_year, kind, effective_from, one_child_pence, "
                "placement_share_num, placement_share_den, monthly_pence, source) VALUES (:ref, :year, 'la_to_la', "
                "make_date(:year, 4, 1), 2700000, 2, 3, :monthly, :source)"
            ).bindparams(
                ref=f"FS-LA{year}",
                year=year,
                monthly=monthly,
                source="CVAA: £27,000 flat since 2011, £18,000 at placement and £9,000 at 12 months or order"
                + ("; monthly fee CVAA member resource" if monthly else ""),
            )
        )
    for year, pence in PUBLISHED_VAA_PENCE.items():
        op.execute(
            sa.text(
                "INSERT INTO fee_schedules (ref, financial_year, kind, effective_from, one_child_pence, "
                "placement_share_num, placement_share_den, source) VALUES (:ref, :year, 'la_to_vaa', "
                "make_date(:year, 4, 1), :pence, 1, 1, 'CoramBAAF interagency fees; CVAA: paid in full at placement')"
            ).bindparams(ref=f"FS-VAA{year}", year=year, pence=pence)
        )

    # Finalised periods never overlap.
    op.execute(
        "ALTER TABLE reconciliations ADD CONSTRAINT ex_reconciliations_finalised_periods "
        "EXCLUDE USING gist (daterange(period_start, period_end, '[]') WITH &&) "
        "WHERE (status = 'finalised')"
    )
    for table in ("fee_schedules", "reconciliations"):  # versioned records
        op.execute(
            f"CREATE TRIGGER record_version AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION record_version()"
        )
        op.execute(
            f"CREATE TRIGGER forbid_delete BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )
    for table in ("fee_lines", "reconciliation_lines"):  # written once, never changed
        op.execute(
            f"CREATE TRIGGER forbid_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )
    op.execute(
        "CREATE TRIGGER forbid_delete BEFORE DELETE ON fee_disputes FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER forbid_delete ON fee_disputes")
    for table in ("fee_lines", "reconciliation_lines"):
        op.execute(f"DROP TRIGGER forbid_change ON {table}")
    for table in ("fee_schedules", "reconciliations"):
        op.execute(f"DROP TRIGGER record_version ON {table}")
        op.execute(f"DROP TRIGGER forbid_delete ON {table}")
    op.execute("ALTER TABLE reconciliations DROP CONSTRAINT ex_reconciliations_finalised_periods")
    # The tables go, so their history goes too (an upgrade would reuse their ids).
    op.execute("ALTER TABLE record_versions DISABLE TRIGGER forbid_change")
    op.execute("DELETE FROM record_versions WHERE table_name IN ('fee_schedules', 'reconciliations')")
    op.execute("ALTER TABLE record_versions ENABLE TRIGGER forbid_change")
    op.drop_index(op.f("ix_reconciliation_lines_reconciliation_id"), table_name="reconciliation_lines")
    op.drop_table("reconciliation_lines")
    op.drop_index("uq_fee_disputes_open", table_name="fee_disputes", postgresql_where=sa.text("resolved_at IS NULL"))
    op.drop_index(op.f("ix_fee_disputes_line_id"), table_name="fee_disputes")
    op.drop_table("fee_disputes")
    op.drop_index("uq_fee_lines_event", table_name="fee_lines", postgresql_where=sa.text("event <> 'credit'"))
    op.drop_index(op.f("ix_fee_lines_placement_id"), table_name="fee_lines")
    op.drop_index(op.f("ix_fee_lines_payer_agency_id"), table_name="fee_lines")
    op.drop_index(op.f("ix_fee_lines_payee_agency_id"), table_name="fee_lines")
    op.drop_index("ix_fee_lines_due_on", table_name="fee_lines")
    op.drop_table("fee_lines")
    op.drop_table("reconciliations")
    op.drop_index("uq_fee_schedules_year_kind_from", table_name="fee_schedules")
    op.drop_table("fee_schedules")
    for enum in ("fee_kind", "fee_event", "reconciliation_status"):
        op.execute(f"DROP TYPE {enum}")
