"""The GP Patient Survey's practice results, year by year.

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
        "survey_result",
        sa.Column("year", sa.String(4), primary_key=True),
        sa.Column("practice_code", sa.String(10), primary_key=True),
        sa.Column("icb_code", sa.String(10), nullable=False, index=True),
        sa.Column("question", sa.String(20), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float()),
        sa.Column("lower", sa.Float()),
        sa.Column("upper", sa.Float()),
    )


def downgrade() -> None:
    op.drop_table("survey_result")
