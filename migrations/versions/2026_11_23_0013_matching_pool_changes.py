"""matching_pool_changes: which transactions changed what the live candidates read

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 16:30:00.000000

One row per transaction that wrote households, links, declined pairs or expressions of
interest (a statement trigger; ON CONFLICT: once per transaction), keyed by its transaction
id. A process that keeps the pool's arrays in memory remembers the snapshot it read them in;
any row whose transaction that snapshot did not see means the arrays are out of date
(services/matching/live_pool.py). Rows are inserted by their own transaction, so the row
is visible exactly when the change is: never a notification that arrives late, never a
counter row that serialises writers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("households", "links", "declined_pairs", "expressions_of_interest")


def upgrade() -> None:
    op.create_table(
        "matching_pool_changes",
        # xid8 as bigint (SQLAlchemy has no xid8 type): the same 64-bit transaction id.
        sa.Column("xid", sa.BigInteger(), server_default=sa.text("pg_current_xact_id()::text::bigint"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("xid", name=op.f("pk_matching_pool_changes")),
    )
    op.execute(
        """
        CREATE FUNCTION note_matching_pool_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO matching_pool_changes DEFAULT VALUES ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$
        """
    )
    for table in WATCHED:
        op.execute(
            f"CREATE TRIGGER note_matching_pool_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION note_matching_pool_change()"
        )


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER note_matching_pool_change ON {table}")
    op.execute("DROP FUNCTION note_matching_pool_change()")
    op.drop_table("matching_pool_changes")
