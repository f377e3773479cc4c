"""Rollups for reports at scale: one row of submissions by channel and FFT answers and modes
per organisation, month and service area (replacing fft_count's row per answer), monthly
returns summed alike; the fact table keeps only the indexes the comments page needs.

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
CHANNELS = (
    "fft_sms",
    "fft_online",
    "fft_paper",
    "fft_telephone",
    "online_comment",
    "ppg_meeting",
    "coproduction_workshop",
)
CHANNEL_MODES = {"fft_sms": "sms", "fft_online": "online", "fft_paper": "paper", "fft_telephone": "telephone"}
TEXT = sa.text("text IS NOT NULL")


def fft_figures() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in (*ANSWERS, *(f"mode_{m}" for m in MODES))]


def upgrade() -> None:
    op.create_table(
        "feedback_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("service_area", sa.String(40), primary_key=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        *(sa.Column(f"channel_{c}", sa.Integer(), nullable=False) for c in CHANNELS),
        *fft_figures(),
    )
    op.create_table(
        "fft_return_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        *fft_figures(),
    )
    # What is already projected is counted once here; new events add to it.
    answered = [f"count(*) FILTER (WHERE fft_answer = '{a}')" for a in ANSWERS]
    fft_channels = ", ".join(f"'{c}'" for c in CHANNEL_MODES)
    modes = [f"count(*) FILTER (WHERE fft_answer IS NOT NULL AND channel = '{c}')" for c in CHANNEL_MODES] + [
        f"count(*) FILTER (WHERE fft_answer IS NOT NULL AND channel NOT IN ({fft_channels}))"
    ]
    figures = ", ".join((*ANSWERS, *(f"mode_{m}" for m in MODES)))
    channels = ", ".join(f"channel_{c}" for c in CHANNELS)
    by_channel = [f"count(*) FILTER (WHERE channel = '{c}')" for c in CHANNELS]
    op.execute(
        f"INSERT INTO feedback_count (organisation_code, month, service_area, submissions, {channels}, {figures})"
        f" SELECT organisation_code, month, service_area, count(*), {', '.join(by_channel + answered + modes)}"
        " FROM feedback_fact GROUP BY organisation_code, month, service_area"
    )
    returned = [f"coalesce(sum(CAST(answers->>'{a}' AS INTEGER)), 0)" for a in ANSWERS]
    returned += [f"coalesce(sum(CAST(modes->>'{m}' AS INTEGER)), 0)" for m in MODES]
    op.execute(
        f"INSERT INTO fft_return_count (organisation_code, month, {figures})"
        f" SELECT organisation_code, month, {', '.join(returned)} FROM fft_return_fact"
        " GROUP BY organisation_code, month"
    )
    op.drop_table("fft_count")
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
    op.create_table(
        "fft_count",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("service_area", sa.String(40), primary_key=True),
        sa.Column("answer", sa.String(40), primary_key=True),
        sa.Column("responses", sa.Integer(), nullable=False),
    )
    for answer in ANSWERS:
        op.execute(
            "INSERT INTO fft_count (organisation_code, month, service_area, answer, responses)"
            f" SELECT organisation_code, month, service_area, '{answer}', {answer} FROM feedback_count"
            f" WHERE {answer} > 0"
        )
    op.drop_table("fft_return_count")
    op.drop_table("feedback_count")
