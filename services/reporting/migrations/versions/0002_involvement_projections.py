"""Involvement projections: feedback facts, FFT counts and returns, themes, responses,
published snapshots, and the outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from hub_shared.migrations import create_outbox_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_fact",
        sa.Column("submission_id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("service_area", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("fft_answer", sa.String(40)),
        sa.Column("text", sa.Text()),
        sa.Column("sentiment", sa.Float()),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        sa.Column("review_decision", sa.String(30)),
        sa.Column("age_band", sa.String(30)),
        sa.Column("sex", sa.String(30)),
        sa.Column("ethnic_group", sa.String(50)),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_fact_org_month", "feedback_fact", ["organisation_code", "month"])
    op.create_table(
        "fft_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("service_area", sa.String(40), primary_key=True),
        sa.Column("answer", sa.String(40), primary_key=True),
        sa.Column("responses", sa.Integer(), nullable=False),
    )
    op.create_table(
        "fft_return_fact",
        sa.Column("return_id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
    )
    op.create_table(
        "theme_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("theme", sa.String(40), primary_key=True),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
    )
    op.create_table(
        "response_fact",
        sa.Column("response_id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("theme", sa.String(100)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("earliest_feedback_at", sa.DateTime(timezone=True)),
        sa.Column("first_responded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.Date()),
    )
    op.create_table(
        "published_snapshot",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_outbox_table()


def downgrade() -> None:
    for table in (
        "outbox",
        "published_snapshot",
        "response_fact",
        "theme_count",
        "fft_return_fact",
        "fft_count",
        "feedback_fact",
    ):
        op.drop_table(table)
