"""Notification measures: the latest state of each email notification sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_fact",
        sa.Column("notification_id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(100), index=True),
        sa.Column("recipient_kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_notification_fact_org_kind", "notification_fact", ["organisation_code", "kind"])


def downgrade() -> None:
    op.drop_table("notification_fact")
