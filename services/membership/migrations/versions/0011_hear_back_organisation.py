"""A hear-back contact records the organisation its feedback was given to (the practice of
the feedback page, or the organisation whose token asked for the contact token): its cards'
tenant is that organisation's ICB. Rows from before stay null.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hear_back_contact") as table:
        table.add_column(sa.Column("organisation_code", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hear_back_contact") as table:
        table.drop_column("organisation_code")
