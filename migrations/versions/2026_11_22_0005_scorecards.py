"""scorecards: published timeliness thresholds, and the day of each match decision

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:51:59.555806
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# financial year: (A1 days, A2 days)
PUBLISHED_THRESHOLDS = {2012: (639, 213), 2013: (547, 182), 2014: (487, 152), 2015: (426, 121)}


def upgrade() -> None:
    op.create_table(
        "scorecard_thresholds",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=8, scale=1), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "direction IN ('at_most', 'at_least')", name=op.f("ck_scorecard_thresholds_direction_known")
        ),
        sa.CheckConstraint("indicator IN ('A1', 'A2', 'A3')", name=op.f("ck_scorecard_thresholds_indicator_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_thresholds")),
    )
    op.create_index(
        "uq_scorecard_thresholds_year_indicator", "scorecard_thresholds", ["financial_year", "indicator"], unique=True
    )
    op.add_column("sibling_groups", sa.Column("matched_on", sa.Date(), nullable=True))

    # Published thresholds (shared/design/domain.md: tightened 2012-2016; "~" values as given).
    for year, (a1, a2) in PUBLISHED_THRESHOLDS.items():
        for indicator, days in (("A1", a1), ("A2", a2)):
            op.execute(
                sa.text(
                    "INSERT INTO scorecard_thresholds (financial_year, indicator, threshold, direction, "
                    "source) VALUES (:year, :indicator, :days, 'at_most', :source)"
                ).bindparams(
                    year=year,
                    indicator=indicator,
                    days=days,
                    source="Adoption scorecards, thresholds tightened 2012-2016",
                )
            )


def downgrade() -> None:
    op.drop_column("sibling_groups", "matched_on")
    op.drop_index("uq_scorecard_thresholds_year_indicator", table_name="scorecard_thresholds")
    op.drop_table("scorecard_thresholds")
