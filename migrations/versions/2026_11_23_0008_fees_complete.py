"""fees complete: schedules for every year and kind, London weighting, CPIH table, waivers,
payments of netted transfers, settled reconciliations

Revision ID: 0008
Revises: 0009
Create Date: 2026-11-23 13:40:00

Figures (shared/design/domain.md, and the sources named in `source` of each row):
- council to council: £27,000 since 2011, 2/3 at placement, London +10% (CVAA fees page;
  CoramBAAF "Fees 2019/20" and "Fees 2025/26"). No monthly fee: that compensates voluntary
  agencies (CVAA briefing, "12+ months since placement without an AO").
- council to voluntary agency: £31,620 (April 2019) and £39,245 (April 2025) published;
  other years uprated each April by the CPIH 12-month rate to the previous December, the
  2023 rise capped at 5% (CVAA interagency fee page), rounded to the whole pound.
- monthly fee after 12 months without an order: £896 (2021/22), £939 (2022/23) published
  (939 = 896 uprated by December 2021's 4.8%, which confirms the rule); other years by the
  same rule (2019/20 and 2020/21 backwards: the smallest whole pound that uprates to the
  next year's figure).
- sibling groups: "additional rates" exist but are not published: default n x the one-child
  fee (four or more: 4 x), listed in `defaulted` so an operator can supersede them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_YEAR, LAST_YEAR = 2019, 2027  # 2027 = the next financial year from November 2026

# ONS, CPIH 12-month rate to December, in tenths of a percent, with the rate the uprating
# rule applied (the 2023 rise capped at 5%) and where the figure comes from.
CPIH = [
    (2019, 14, 14, True, "ONS Consumer price inflation bulletin (June 2020, table: December 2019 CPIH 1.4%)"),
    (2020, 8, 8, True, "ONS; CVAA 'Inflationary increase in the interagency fee for 2022/23' (0.8% rise in 2021)"),
    (2021, 48, 48, True, "ONS CPIH January-December 2021, 4.8% (CVAA notice for 2022/23)"),
    (2022, 92, 50, True, "ONS Consumer price inflation, December 2022: 9.2%; capped at 5% by CVAA for 2023/24"),
    (2023, 42, 42, True, "ONS Consumer price inflation, December 2023: 4.2%"),
    (2024, 35, 35, True, "ONS Consumer price inflation, December 2024: 3.5%"),
    (2025, 35, 35, False, "not found: default = the latest rate found (December 2024, 3.5%); supersede when known"),
    (2026, 35, 35, False, "not yet published (January 2027): default = the latest rate found (3.5%)"),
]

# Whole pounds, per financial year. `True` = published, `False` = derived by the rule above.
VAA_ONE_CHILD = {
    2019: (31_620, True),
    2020: (32_063, False),
    2021: (32_320, False),
    2022: (33_871, False),
    2023: (35_565, False),
    2024: (37_059, False),
    2025: (39_245, True),
    2026: (40_619, False),
    2027: (42_041, False),
}
VAA_MONTHLY = {
    2019: (877, False),
    2020: (889, False),
    2021: (896, True),
    2022: (939, True),
    2023: (986, False),
    2024: (1_027, False),
    2025: (1_063, False),
    2026: (1_100, False),
    2027: (1_139, False),
}
IFF_SOURCE = (
    "DfE Inter-agency Fee Fund, from July 2015 (Dance, Neil and Rogers 2017, DFE-RR685): harder-to-place "
    "children are aged 5 or over, disabled, placed with one or more siblings, black or minority ethnic, or "
    "waiting over 18 months from entering care to placement; the grant reimbursed the fee. The amounts per year "
    "were not found: default = the whole fee (placement and completion lines, net of credits), no cap. Supersede."
)
LA_ONE_CHILD = 27_000
LONDON_WEIGHTING_PERCENT = 10
SIBLING_FIELDS = ("two_children_pence", "three_children_pence", "four_or_more_children_pence")
LA_SOURCE = (
    "CVAA / CoramBAAF: £27,000 flat since 2011, £18,000 at placement and £9,000 at 12 months or order "
    "(whichever first); London agencies +10%. Sibling rates not published: default n x one child."
)


def vaa_source(year: int) -> str:
    one, published = VAA_ONE_CHILD[year]
    monthly, monthly_published = VAA_MONTHLY[year]
    return (
        f"CVAA / CoramBAAF: £{one:,} "
        + ("published" if published else "derived: CPIH-uprated (CVAA rule; table fee_cpih_rates)")
        + f"; paid in full at placement. Monthly fee after 12 months without an order £{monthly:,} "
        + ("published (CVAA member resource)" if monthly_published else "derived by the same rule")
        + ". Sibling rates not published: default n x one child."
    )


def vaa_defaulted(year: int) -> list[str]:
    fields = list(SIBLING_FIELDS)
    if not VAA_ONE_CHILD[year][1]:
        fields.insert(0, "one_child_pence")
    if not VAA_MONTHLY[year][1]:
        fields.append("monthly_pence")
    return fields


def upgrade() -> None:
    op.add_column(
        "fee_schedules",
        sa.Column("london_weighting_percent", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "fee_schedules", sa.Column("charges_monthly", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column(
        "fee_schedules",
        sa.Column("defaulted", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_fee_schedules_london_weighting_range"), "fee_schedules", "london_weighting_percent BETWEEN 0 AND 100"
    )
    op.add_column("reconciliations", sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_reconciliations_settled_when_finalised"),
        "reconciliations",
        "settled_at IS NULL OR status = 'finalised'",
    )
    op.create_table(
        "fee_cpih_rates",
        sa.Column("calendar_year", sa.Integer(), nullable=False),
        sa.Column("december_rate_tenths", sa.SmallInteger(), nullable=False),
        sa.Column("applied_rate_tenths", sa.SmallInteger(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("calendar_year", name=op.f("pk_fee_cpih_rates")),
    )
    op.create_table(
        "fee_waivers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("placement_id", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_fee_waivers_placement_id_placements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_waivers")),
        sa.UniqueConstraint("placement_id", name=op.f("uq_fee_waivers_placement_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_fee_waivers_ref")),
    )
    op.create_table(
        "fee_payments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("reconciliation_id", sa.BigInteger(), nullable=False),
        sa.Column("transfer_index", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("payment_reference", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_fee_payments_amount_positive")),
        sa.CheckConstraint("transfer_index >= 0", name=op.f("ck_fee_payments_index_not_negative")),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name=op.f("fk_fee_payments_reconciliation_id_reconciliations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_payments")),
        sa.UniqueConstraint("ref", name=op.f("uq_fee_payments_ref")),
    )
    op.create_index(op.f("ix_fee_payments_reconciliation_id"), "fee_payments", ["reconciliation_id"], unique=False)
    for table in ("fee_waivers", "fee_payments"):  # written once, never changed
        op.execute(
            f"CREATE TRIGGER forbid_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )

    op.create_table(
        "iff_rules",
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("min_age_years", sa.SmallInteger(), nullable=False),
        sa.Column("min_wait_months", sa.SmallInteger(), nullable=False),
        sa.Column("counts_disabled", sa.Boolean(), nullable=False),
        sa.Column("counts_sibling_group", sa.Boolean(), nullable=False),
        sa.Column("counts_minority_ethnic", sa.Boolean(), nullable=False),
        sa.Column("share_num", sa.SmallInteger(), nullable=False),
        sa.Column("share_den", sa.SmallInteger(), nullable=False),
        sa.Column("cap_per_child_pence", sa.BigInteger(), nullable=True),
        sa.Column("defaulted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "share_num >= 0 AND share_num <= share_den AND share_den > 0", name=op.f("ck_iff_rules_share_range")
        ),
        sa.CheckConstraint(
            "cap_per_child_pence IS NULL OR cap_per_child_pence > 0", name=op.f("ck_iff_rules_cap_positive")
        ),
        sa.PrimaryKeyConstraint("financial_year", name=op.f("pk_iff_rules")),
    )
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        op.execute(
            sa.text(
                "INSERT INTO iff_rules VALUES (:year, 5, 18, true, true, true, 1, 1, NULL, true, :source)"
            ).bindparams(year=year, source=IFF_SOURCE)
        )

    for year, december, applied, published, source in CPIH:
        op.execute(
            sa.text("INSERT INTO fee_cpih_rates VALUES (:year, :december, :applied, :published, :source)").bindparams(
                year=year, december=december, applied=applied, published=published, source=source
            )
        )

    # Council to council: every existing row gains the weighting and the default sibling
    # rates (unless invoices were raised against it: then it is superseded by an operator,
    # never changed), and loses the monthly fee that belongs to voluntary agencies.
    unused = "NOT EXISTS (SELECT 1 FROM fee_lines l WHERE l.schedule_id = fee_schedules.id)"
    op.execute(
        sa.text(
            "UPDATE fee_schedules SET london_weighting_percent = :london, monthly_pence = NULL, "
            "two_children_pence = 2 * one_child_pence, three_children_pence = 3 * one_child_pence, "
            "four_or_more_children_pence = 4 * one_child_pence, "
            "defaulted = ARRAY['two_children_pence', 'three_children_pence', 'four_or_more_children_pence'], "
            f"source = :source, version = version + 1 WHERE kind = 'la_to_la' AND {unused}"
        ).bindparams(london=LONDON_WEIGHTING_PERCENT, source=LA_SOURCE)
    )
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        op.execute(
            sa.text(
                "INSERT INTO fee_schedules (ref, financial_year, kind, effective_from, one_child_pence, "
                "two_children_pence, three_children_pence, four_or_more_children_pence, placement_share_num, "
                "placement_share_den, london_weighting_percent, defaulted, source) SELECT :ref, :year, 'la_to_la', "
                "make_date(:year, 4, 1), :one, 2 * :one, 3 * :one, 4 * :one, 2, 3, :london, "
                "ARRAY['two_children_pence', 'three_children_pence', 'four_or_more_children_pence'], :source "
                "WHERE NOT EXISTS (SELECT 1 FROM fee_schedules WHERE financial_year = :year AND kind = 'la_to_la')"
            ).bindparams(
                ref=f"FS-LA{year}", year=year, one=LA_ONE_CHILD * 100, london=LONDON_WEIGHTING_PERCENT, source=LA_SOURCE
            )
        )
        one, _ = VAA_ONE_CHILD[year]
        monthly, _ = VAA_MONTHLY[year]
        values = {
            "ref": f"FS-VAA{year}",
            "year": year,
            "one": one * 100,
            "monthly": monthly * 100,
            "defaulted": vaa_defaulted(year),
            "source": vaa_source(year),
        }
        op.execute(
            sa.text(
                "UPDATE fee_schedules SET one_child_pence = :one, two_children_pence = 2 * :one, "
                "three_children_pence = 3 * :one, four_or_more_children_pence = 4 * :one, monthly_pence = :monthly, "
                "charges_monthly = true, defaulted = :defaulted, source = :source, version = version + 1 "
                f"WHERE financial_year = :year AND kind = 'la_to_vaa' AND {unused}"
            ).bindparams(**{k: v for k, v in values.items() if k != "ref"})
        )
        op.execute(
            sa.text(
                "INSERT INTO fee_schedules (ref, financial_year, kind, effective_from, one_child_pence, "
                "two_children_pence, three_children_pence, four_or_more_children_pence, placement_share_num, "
                "placement_share_den, monthly_pence, charges_monthly, defaulted, source) SELECT :ref, :year, "
                "'la_to_vaa', make_date(:year, 4, 1), :one, 2 * :one, 3 * :one, 4 * :one, 1, 1, :monthly, true, "
                ":defaulted, :source "
                "WHERE NOT EXISTS (SELECT 1 FROM fee_schedules WHERE financial_year = :year AND kind = 'la_to_vaa')"
            ).bindparams(**values)
        )


PUBLISHED_MONTHLY_PENCE_0003 = {2021: 89_600, 2022: 93_900}


def downgrade() -> None:
    # Back to revision 0003's rows: the schedules added here go (with their history), the
    # ones 0003 loaded get their amounts back.
    op.execute("ALTER TABLE fee_schedules DISABLE TRIGGER forbid_delete")
    op.execute("ALTER TABLE record_versions DISABLE TRIGGER forbid_change")
    added = (
        "(kind = 'la_to_la' AND financial_year > 2026) OR (kind = 'la_to_vaa' AND financial_year NOT IN (2019, 2025))"
    )
    op.execute(
        "DELETE FROM record_versions WHERE table_name = 'fee_schedules' AND record_id IN "
        f"(SELECT id FROM fee_schedules WHERE ref LIKE 'FS-%' AND ({added}))"
    )
    op.execute(f"DELETE FROM fee_schedules WHERE ref LIKE 'FS-%' AND ({added})")
    op.execute("ALTER TABLE record_versions ENABLE TRIGGER forbid_change")
    op.execute("ALTER TABLE fee_schedules ENABLE TRIGGER forbid_delete")
    op.execute(
        "UPDATE fee_schedules SET two_children_pence = NULL, three_children_pence = NULL, "
        "four_or_more_children_pence = NULL, monthly_pence = NULL, version = version + 1 WHERE ref LIKE 'FS-%'"
    )
    for year, pence in PUBLISHED_MONTHLY_PENCE_0003.items():
        op.execute(f"UPDATE fee_schedules SET monthly_pence = {pence}, version = version + 1 WHERE ref = 'FS-LA{year}'")
    op.execute("UPDATE fee_schedules SET one_child_pence = 3162000, version = version + 1 WHERE ref = 'FS-VAA2019'")
    op.execute("UPDATE fee_schedules SET one_child_pence = 3924500, version = version + 1 WHERE ref = 'FS-VAA2025'")
    for table in ("fee_waivers", "fee_payments"):
        op.execute(f"DROP TRIGGER forbid_change ON {table}")
    op.drop_index(op.f("ix_fee_payments_reconciliation_id"), table_name="fee_payments")
    op.drop_table("fee_payments")
    op.drop_table("fee_waivers")
    op.drop_table("fee_cpih_rates")
    op.drop_table("iff_rules")
    op.drop_constraint(op.f("ck_reconciliations_settled_when_finalised"), "reconciliations", type_="check")
    op.drop_column("reconciliations", "settled_at")
    op.drop_constraint(op.f("ck_fee_schedules_london_weighting_range"), "fee_schedules", type_="check")
    op.drop_column("fee_schedules", "defaulted")
    op.drop_column("fee_schedules", "charges_monthly")
    op.drop_column("fee_schedules", "london_weighting_percent")
