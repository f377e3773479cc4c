"""Rollups for reports at scale: submissions by channel, monthly returns' answers and modes;
the fact table keeps only the indexes the comments page needs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ANSWERS = ("very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know")
MODES = ("sms", "online", "paper", "telephone", "other")
TEXT = sa.text("text IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "channel_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("service_area", sa.String(40), primary_key=True),
        sa.Column("channel", sa.String(40), primary_key=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("fft_answers", sa.Integer(), nullable=False),
    )
    op.create_table(
        "fft_return_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("answer", sa.String(40), primary_key=True),
        sa.Column("responses", sa.Integer(), nullable=False),
    )
    op.create_table(
        "fft_return_mode_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("mode", sa.String(20), primary_key=True),
        sa.Column("responses", sa.Integer(), nullable=False),
    )
    # What is already projected is counted once here; new events add to it.
    op.execute(
        "INSERT INTO channel_count (organisation_code, month, service_area, channel, submissions, fft_answers)"
        " SELECT organisation_code, month, service_area, channel, count(*), count(fft_answer)"
        " FROM feedback_fact GROUP BY organisation_code, month, service_area, channel"
    )
    for column, names, table in (("answers", ANSWERS, "fft_return_count"), ("modes", MODES, "fft_return_mode_count")):
        key = "answer" if column == "answers" else "mode"
        for name in names:
            op.execute(
                f"INSERT INTO {table} (organisation_code, month, {key}, responses)"
                f" SELECT organisation_code, month, '{name}', sum(({column}->>'{name}')::int)"
                f" FROM fft_return_fact WHERE {column}->>'{name}' IS NOT NULL GROUP BY organisation_code, month"
            )
    op.drop_index("ix_feedback_fact_org_month", table_name="feedback_fact")
    op.create_index("ix_feedback_fact_comments", "feedback_fact", ["received_at"], postgresql_where=TEXT)
    op.create_index(
        "ix_feedback_fact_org_comments",
        "feedback_fact",
        ["organisation_code", "month", "received_at"],
        postgresql_where=TEXT,
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_fact_org_comments", table_name="feedback_fact")
    op.drop_index("ix_feedback_fact_comments", table_name="feedback_fact")
    op.create_index("ix_feedback_fact_org_month", "feedback_fact", ["organisation_code", "month"])
    op.drop_table("fft_return_mode_count")
    op.drop_table("fft_return_count")
    op.drop_table("channel_count")
