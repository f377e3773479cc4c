"""Adding outbox rows notifies the relay (PostgreSQL's NOTIFY), which then need not poll.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from hub_shared.migrations import notify_relay_of_outbox_rows, stop_notifying_relay

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    notify_relay_of_outbox_rows()


def downgrade() -> None:
    stop_notifying_relay()
