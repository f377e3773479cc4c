"""The feedback pages' sent forms, by form id and by a keyed digest of their content: a second
press, or the same feedback again from the same client within minutes, is the same submission.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_page_submission",
        sa.Column("form_id", sa.String(36), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
        sa.Column("contact_token", sa.String(64), nullable=True),
        sa.Column("content_key", sa.String(64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_page_submission_content_key", "feedback_page_submission", ["content_key"])
    op.create_index("ix_feedback_page_submission_submitted_at", "feedback_page_submission", ["submitted_at"])


def downgrade() -> None:
    op.drop_table("feedback_page_submission")
