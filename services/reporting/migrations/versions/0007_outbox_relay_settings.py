"""The outbox as the relay now uses it: room on each page for the claim's heap-only update,
and no index on published_at (published rows are deleted, so it is never set).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from alembic import op

from hub_shared.migrations import drop_outbox_published_index, leave_room_for_outbox_claims

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    leave_room_for_outbox_claims()
    drop_outbox_published_index()


def downgrade() -> None:
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
