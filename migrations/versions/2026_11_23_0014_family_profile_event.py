"""family_profile_submitted: the household's agency is told when adopters send their profile

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 20:00:00.000000

Adopters send their family profile for approval from the adopters' app; until now nothing told
the agency, which had to look. A new event kind, so the CHECK constraint on events.kind is
widened (and narrowed again on the way down, which fails while such events exist: they are
never deleted).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "'proposal_received', 'interest_received', 'link_requested', 'link_agreed', 'link_refused', "
    "'link_withdrawn', 'link_panel', 'link_decided', 'placement_recorded', 'placement_disrupted', "
    "'adoption_order_recorded', 'invoice_raised'"
)
AFTER = BEFORE + ", 'family_profile_submitted'"


def _kinds(values: str) -> None:
    op.drop_constraint(op.f("ck_events_kind_known"), "events", type_="check")
    op.create_check_constraint(op.f("ck_events_kind_known"), "events", f"kind IN ({values})")


def upgrade() -> None:
    _kinds(AFTER)


def downgrade() -> None:
    _kinds(BEFORE)
