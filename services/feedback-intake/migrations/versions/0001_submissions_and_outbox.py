"""Feedback submissions and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from hub_shared.migrations import create_outbox_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_submission",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("service_area", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("fft_answer", sa.String(40)),
        sa.Column("text", sa.Text()),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(10), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
    )
    create_outbox_table()


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("feedback_submission")
