"""Rejections of Kafka ingress events, kept for the authenticated sender.

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
        "ingress_rejection",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("sender", sa.String(10)),
        sa.Column("tenant", sa.String(100)),
        sa.Column("source_event_id", sa.String(200)),
        sa.Column("client_reference", sa.String(200)),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingress_rejection_sender", "ingress_rejection", ["sender", "rejected_at"])


def downgrade() -> None:
    op.drop_index("ix_ingress_rejection_sender", table_name="ingress_rejection")
    op.drop_table("ingress_rejection")
