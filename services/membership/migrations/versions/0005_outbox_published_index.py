"""No index on outbox.published_at: the relay deletes published rows, so it is never set.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

from hub_shared.migrations import drop_outbox_published_index

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    drop_outbox_published_index()


def downgrade() -> None:
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
