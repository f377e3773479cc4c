"""Members, hear-back contacts, used links, groups, opportunities and invitations.

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

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("email", sa.String(320), nullable=True, unique=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=True),
        sa.Column("practice_code", sa.String(10), nullable=False, index=True),
        sa.Column("place_code", sa.String(10), nullable=True, index=True),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("age_band", sa.String(30), nullable=True),
        sa.Column("sex", sa.String(30), nullable=True),
        sa.Column("ethnic_group", sa.String(50), nullable=True),
        sa.Column("disability", sa.String(30), nullable=True),
        sa.Column("carer", sa.String(30), nullable=True),
        sa.Column("consent_given", sa.Boolean(), nullable=False),
        sa.Column("consent_wording_version", sa.String(40), nullable=False),
        sa.Column("consent_source", sa.String(20), nullable=False),
        sa.Column("consent_basis", sa.String(200), nullable=True),
        sa.Column("consent_at", TZ, nullable=False),
        sa.Column("joined_at", TZ, nullable=False),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.Column("left_at", TZ, nullable=True),
    )
    op.create_table(
        "hear_back_contact",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, index=True),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "used_link",
        sa.Column("link_id", sa.String(64), primary_key=True),
        sa.Column("used_at", TZ, nullable=False),
    )
    op.create_table(
        "member_group",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("place_code", sa.String(10), nullable=True),
        sa.Column("service_area", sa.String(40), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "group_membership",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "group_id", sa.Uuid(), sa.ForeignKey("member_group.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("member_id", sa.Uuid(), sa.ForeignKey("member.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_group_membership_member", "group_membership", ["member_id"])
    op.create_table(
        "opportunity",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_code", sa.String(10), nullable=False, index=True),
        sa.Column("place_code", sa.String(10), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("location", sa.String(300), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("closes_at", TZ, nullable=False),
        sa.Column("targeting", sa.JSON(), nullable=False),
        sa.Column("published_at", TZ, nullable=False),
    )
    op.create_table(
        "invitation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "opportunity_id", sa.Uuid(), sa.ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("member_id", sa.Uuid(), sa.ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("answer", sa.String(10), nullable=True),
        sa.Column("place", sa.String(20), nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("attendance_bands", sa.JSON(), nullable=True),
        sa.UniqueConstraint("opportunity_id", "member_id", name="uq_invitation_once"),
    )


def downgrade() -> None:
    for table in ("invitation", "opportunity", "group_membership", "member_group", "used_link", "hear_back_contact"):
        op.drop_table(table)
    op.drop_table("member")
