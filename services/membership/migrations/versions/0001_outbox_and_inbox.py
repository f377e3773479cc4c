"""Outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from hub_shared.migrations import create_inbox_table, create_outbox_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_table()
    create_inbox_table()


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
