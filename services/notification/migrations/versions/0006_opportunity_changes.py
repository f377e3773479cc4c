"""notification's copy of an opportunity follows its changes and cancellation: where it is,
its version (from membership's events: the newest wins), and when and why it was cancelled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("opportunity") as table:
        table.add_column(sa.Column("location", sa.String(300), nullable=True))
        table.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        table.add_column(sa.Column("cancelled_at", TZ, nullable=True))
        table.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("opportunity") as table:
        table.drop_column("cancel_reason")
        table.drop_column("cancelled_at")
        table.drop_column("version")
        table.drop_column("location")
