"""Every way in: demographics, consent to hear back, client references, de-identification
and triage on submissions; FFT returns and upload jobs; responses; idempotency; inbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from hub_shared.migrations import create_inbox_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback_submission") as batch:
        batch.add_column(sa.Column("counts_for", sa.String(10), nullable=False, server_default=""))
        batch.add_column(sa.Column("client_reference", sa.String(100)))
        batch.add_column(sa.Column("age_band", sa.String(30)))
        batch.add_column(sa.Column("sex", sa.String(30)))
        batch.add_column(sa.Column("ethnic_group", sa.String(50)))
        batch.add_column(sa.Column("postcode_district", sa.String(4)))
        batch.add_column(sa.Column("member_id", sa.Uuid()))
        batch.add_column(sa.Column("contact_token", sa.String(200)))
        batch.add_column(sa.Column("redactions", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("triage_flags", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("review_status", sa.String(30), nullable=False, server_default="not_required"))
        batch.add_column(sa.Column("reviewed_by", sa.String(10)))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True)))
        batch.create_unique_constraint("uq_submission_client_reference", ["submitted_by", "client_reference"])
        batch.create_index("ix_submission_listing", ["received_at", "id"])
        batch.create_index("ix_feedback_submission_member_id", ["member_id"])
        batch.create_index("ix_feedback_submission_review_status", ["review_status"])
    op.execute("UPDATE feedback_submission SET counts_for = organisation_code")

    op.create_table(
        "fft_upload",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("submitted_by", sa.String(10), nullable=False, index=True),
        sa.Column("filename", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "fft_return",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("upload_id", sa.Uuid(), sa.ForeignKey("fft_upload.id"), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organisation_code", "period", name="uq_fft_return_period"),
    )
    op.create_table(
        "feedback_response",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("theme", sa.String(100)),
        sa.Column("submission_ids", sa.JSON(), nullable=False),
        sa.Column("you_said", sa.Text(), nullable=False),
        sa.Column("we_did", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text()),
        sa.Column("evidence_url", sa.String(500)),
        sa.Column("change_due", sa.Date()),
        sa.Column("changed_at", sa.Date()),
        sa.Column("created_by", sa.String(10), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "idempotency_record",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_inbox_table()


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("idempotency_record")
    op.drop_table("feedback_response")
    op.drop_table("fft_return")
    op.drop_table("fft_upload")
    with op.batch_alter_table("feedback_submission") as batch:
        for index in (
            "ix_feedback_submission_review_status",
            "ix_feedback_submission_member_id",
            "ix_submission_listing",
        ):
            batch.drop_index(index)
        batch.drop_constraint("uq_submission_client_reference")
        for column in (
            "reviewed_at",
            "reviewed_by",
            "review_status",
            "triage_flags",
            "redactions",
            "contact_token",
            "member_id",
            "postcode_district",
            "ethnic_group",
            "sex",
            "age_band",
            "client_reference",
            "counts_for",
        ):
            batch.drop_column(column)
