"""Links carry the member's link version (a confirmed new email address moves it on); a PPG
list import invites people, who join once they accept; emails asked for by someone are
counted per address (a keyed digest) to cap them per hour.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("member") as table:
        table.add_column(sa.Column("link_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "group_invitation",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("member_group.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("practice_code", sa.String(10), nullable=False),
        sa.Column("consent_basis", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_group_invitation_group_id", "group_invitation", ["group_id"])
    op.create_index("ix_group_invitation_email", "group_invitation", ["email"])
    op.create_index("ix_group_invitation_created_at", "group_invitation", ["created_at"])
    op.create_table(
        "email_allowance",
        sa.Column("address_key", sa.String(64), primary_key=True),
        sa.Column("sent_at", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_allowance")
    op.drop_table("group_invitation")
    with op.batch_alter_table("member") as table:
        table.drop_column("link_version")
