"""sealed webhook secrets: stored encrypted with WEBHOOK_SECRET_KEY

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 20:20:00.000000

A webhook's signing secret must be read back to sign deliveries, so it cannot be a hash; it
was stored in the clear. It is now stored as `sealed:` and a Fernet token
(services/core/sealing.py). A migration has no key, so secrets stored before stay as they are
until `adoption-register webhooks seal-secrets` seals them; both forms are read. Down: refused
while any sealed secret exists (they would break the narrower constraint).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _form(condition: str) -> None:
    op.drop_constraint(op.f("ck_webhook_secrets_standard_form"), "webhook_secrets", type_="check")
    op.create_check_constraint(op.f("ck_webhook_secrets_standard_form"), "webhook_secrets", condition)


def upgrade() -> None:
    _form("secret LIKE 'sealed:%' OR secret LIKE 'whsec_%'")


def downgrade() -> None:
    _form("secret LIKE 'whsec_%'")
