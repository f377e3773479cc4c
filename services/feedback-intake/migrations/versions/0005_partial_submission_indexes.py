"""Partial indexes for what is rare: submissions linked to a member, and those awaiting
review. Most submissions are neither, and every index on the table is written for every
row accepted (the national month's bulk path spends most of its database time there).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_feedback_submission_member_id", table_name="feedback_submission")
    op.drop_index("ix_feedback_submission_review_status", table_name="feedback_submission")
    op.create_index(
        "ix_submission_member",
        "feedback_submission",
        ["member_id"],
        postgresql_where=sa.text("member_id IS NOT NULL"),
        sqlite_where=sa.text("member_id IS NOT NULL"),
    )
    op.create_index(
        "ix_submission_awaiting_review",
        "feedback_submission",
        ["received_at", "id"],
        postgresql_where=sa.text("review_status = 'pending'"),
        sqlite_where=sa.text("review_status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_submission_awaiting_review", table_name="feedback_submission")
    op.drop_index("ix_submission_member", table_name="feedback_submission")
    op.create_index("ix_feedback_submission_review_status", "feedback_submission", ["review_status"])
    op.create_index("ix_feedback_submission_member_id", "feedback_submission", ["member_id"])
