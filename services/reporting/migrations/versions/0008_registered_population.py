"""Registered population month by month, from NHS England's published files.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_population",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("practice_code", sa.String(10), primary_key=True),
        sa.Column("age_band", sa.String(20), primary_key=True),
        sa.Column("sex", sa.String(20), primary_key=True),
        sa.Column("icb_code", sa.String(10), nullable=False, index=True),
        sa.Column("patients", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("registered_population")
