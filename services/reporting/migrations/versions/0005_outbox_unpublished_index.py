"""Partial index on unpublished outbox rows (the relay's claim).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

from hub_shared.migrations import create_unpublished_outbox_index

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_unpublished_outbox_index()


def downgrade() -> None:
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
