"""Feedback volume projection and the inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from hub_shared.migrations import create_inbox_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_volume",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("received", sa.Integer(), nullable=False, server_default="0"),
    )
    create_inbox_table()


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("feedback_volume")
