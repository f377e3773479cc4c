"""Each person's contact key (a member, a hear-back contact, a listed person's group welcome):
contact cards are sealed with it, and erasure destroys it with the row (hub_shared.sealing).
A row without one gets one with its next card.

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
    for table_name in ("member", "hear_back_contact", "group_invitation"):
        with op.batch_alter_table(table_name) as table:
            table.add_column(sa.Column("contact_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    for table_name in ("member", "hear_back_contact", "group_invitation"):
        with op.batch_alter_table(table_name) as table:
            table.drop_column("contact_key")
