"""Membership measures: member facts, group memberships, invitations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_fact",
        sa.Column("member_id", sa.Uuid(), primary_key=True),
        sa.Column("practice_code", sa.String(10), nullable=True, index=True),
        sa.Column("place_code", sa.String(10), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("age_band", sa.String(30), nullable=True),
        sa.Column("sex", sa.String(30), nullable=True),
        sa.Column("ethnic_group", sa.String(50), nullable=True),
    )
    op.create_table(
        "group_member_fact",
        sa.Column("group_id", sa.Uuid(), primary_key=True),
        sa.Column("member_id", sa.Uuid(), primary_key=True, index=True),
        sa.Column("group_kind", sa.String(20), nullable=False),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "invitation_fact",
        sa.Column("invitation_id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("practice_code", sa.String(10), nullable=True, index=True),
        sa.Column("answer", sa.String(10), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("age_band", sa.String(30), nullable=True),
        sa.Column("sex", sa.String(30), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("invitation_fact")
    op.drop_table("group_member_fact")
    op.drop_table("member_fact")
