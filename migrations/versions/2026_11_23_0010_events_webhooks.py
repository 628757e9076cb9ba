"""events outbox, webhooks, their secrets and the delivery log

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-23 13:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_KINDS = (
    "'proposal_received', 'interest_received', 'link_requested', 'link_agreed', 'link_refused', "
    "'link_withdrawn', 'link_panel', 'link_decided', 'placement_recorded', 'placement_disrupted', "
    "'adoption_order_recorded', 'invoice_raised'"
)
DELIVERY_STATUSES = "'pending', 'delivered', 'failed', 'cancelled'"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject_type", sa.Text(), nullable=False),
        sa.Column("subject_ref", sa.Text(), nullable=False),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name=op.f("ck_events_kind_known")),
        sa.CheckConstraint(
            "length(subject_type) BETWEEN 1 AND 40 AND length(subject_ref) BETWEEN 1 AND 40",
            name=op.f("ck_events_subject_bounded"),
        ),
        sa.CheckConstraint("jsonb_typeof(data) = 'object'", name=op.f("ck_events_data_is_object")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_events_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("ref", name=op.f("uq_events_ref")),
    )
    op.create_index("ix_events_agency_id_id", "events", ["agency_id", "id"], unique=False)
    op.create_table(
        "webhooks",
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "length(url) <= 2000 AND (url LIKE 'https://%' OR url LIKE 'http://%')",
            name=op.f("ck_webhooks_url_bounded"),
        ),
        sa.CheckConstraint("active = (disabled_at IS NULL)", name=op.f("ck_webhooks_disabled_when")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_webhooks_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("ref", name=op.f("uq_webhooks_ref")),
    )
    op.create_index(op.f("ix_webhooks_agency_id"), "webhooks", ["agency_id"], unique=False)
    op.create_table(
        "webhook_secrets",
        sa.Column("webhook_id", sa.BigInteger(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("secret LIKE 'whsec_%'", name=op.f("ck_webhook_secrets_standard_form")),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_secrets_webhook_id_webhooks")),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_webhook_secrets")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"status IN ({DELIVERY_STATUSES})", name=op.f("ck_webhook_deliveries_status_known")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_webhook_deliveries_attempts_not_negative")),
        sa.CheckConstraint(
            "(status = 'delivered') = (delivered_at IS NOT NULL)", name=op.f("ck_webhook_deliveries_delivered_when")
        ),
        sa.CheckConstraint("length(last_error) <= 500", name=op.f("ck_webhook_deliveries_error_bounded")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_webhook_deliveries_event_id_events")),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_deliveries_webhook_id_webhooks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "uq_webhook_deliveries_event_webhook", "webhook_deliveries", ["event_id", "webhook_id"], unique=True
    )
    op.create_index("ix_webhook_deliveries_webhook_id_id", "webhook_deliveries", ["webhook_id", "id"], unique=False)
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    # Events are append-only; webhooks are versioned records; nothing here is ever deleted.
    op.execute(
        "CREATE TRIGGER forbid_change BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
    )
    op.execute(
        "CREATE TRIGGER record_version AFTER INSERT OR UPDATE ON webhooks FOR EACH ROW EXECUTE FUNCTION record_version()"
    )
    for table in ("webhooks", "webhook_secrets", "webhook_deliveries"):
        op.execute(
            f"CREATE TRIGGER forbid_delete BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION forbid_delete()"
        )


def downgrade() -> None:
    for table in ("webhooks", "webhook_secrets", "webhook_deliveries"):
        op.execute(f"DROP TRIGGER forbid_delete ON {table}")
    op.execute("DROP TRIGGER record_version ON webhooks")
    op.execute("DROP TRIGGER forbid_change ON events")
    # The tables go, so their history goes too (an upgrade would reuse their ids).
    op.execute("ALTER TABLE record_versions DISABLE TRIGGER forbid_change")
    op.execute("DELETE FROM record_versions WHERE table_name = 'webhooks'")
    op.execute("ALTER TABLE record_versions ENABLE TRIGGER forbid_change")
    op.drop_index(
        "ix_webhook_deliveries_due", table_name="webhook_deliveries", postgresql_where=sa.text("status = 'pending'")
    )
    op.drop_index("ix_webhook_deliveries_webhook_id_id", table_name="webhook_deliveries")
    op.drop_index("uq_webhook_deliveries_event_webhook", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_secrets")
    op.drop_index(op.f("ix_webhooks_agency_id"), table_name="webhooks")
    op.drop_table("webhooks")
    op.drop_index("ix_events_agency_id_id", table_name="events")
    op.drop_table("events")
