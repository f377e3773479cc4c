"""Recipients, the delivery ledger, opportunities, responses, branding.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipient",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("member_id", sa.Uuid(), index=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("organisation_code", sa.String(10)),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("contactable", sa.Boolean(), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True)),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True)),
        sa.Column("suppressed_at", sa.DateTime(timezone=True)),
        sa.Column("suppression_reason", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("recipient_key", sa.String(64), index=True),
        sa.Column("recipient_kind", sa.String(20), nullable=False),
        sa.Column("member_id", sa.Uuid(), index=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(100)),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest_id", sa.Uuid(), index=True),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("message_id", sa.String(200)),
        sa.Column("relay_reply", sa.Text()),
        sa.Column("farewell_address", sa.String(320)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_notification_due", "notification", ["status", "due_at"])
    op.create_index("ix_notification_org_created", "notification", ["organisation_code", "created_at"])
    op.create_table(
        "opportunity",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "invitation_ref",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("opportunity_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("member_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
    )
    op.create_table(
        "response_content",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False),
        sa.Column("you_said", sa.Text(), nullable=False),
        sa.Column("we_did", sa.Text(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("evidence_url", sa.Text()),
    )
    op.create_table(
        "branding",
        sa.Column("organisation_code", sa.String(10), primary_key=True),
        sa.Column("sign_off", sa.Text(), nullable=False),
        sa.Column("team_name", sa.String(200)),
        sa.Column("contact_email", sa.String(320)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("branding", "response_content", "invitation_ref", "opportunity", "notification", "recipient"):
        op.drop_table(table)
