"""Room on each outbox page for the relay's claim (a heap-only update).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from alembic import op

from hub_shared.migrations import leave_room_for_outbox_claims

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    leave_room_for_outbox_claims()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox RESET (fillfactor)")
