"""Adding emails to the ledger notifies the sending worker (PostgreSQL's NOTIFY), which then
sends at once instead of at its next look.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from hub_shared.migrations import notify_on_insert, stop_notifying_on_insert

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHANNEL = "hub_notification"  # notification.workers.delivery.NOTIFY_CHANNEL when written


def upgrade() -> None:
    notify_on_insert("notification", CHANNEL)


def downgrade() -> None:
    stop_notifying_on_insert("notification")
