"""Room on each outbox page for the relay's claim (a heap-only update).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

from hub_shared.migrations import leave_room_for_outbox_claims

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    leave_room_for_outbox_claims()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox RESET (fillfactor)")
