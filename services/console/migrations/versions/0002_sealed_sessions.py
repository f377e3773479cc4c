"""Sessions sealed with their own id: the person's tokens are no longer readable in the store.
Existing sessions end (their data is dropped); people sign in again.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM staff_session")
    with op.batch_alter_table("staff_session") as table:
        table.drop_column("data")
        table.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM staff_session")
    with op.batch_alter_table("staff_session") as table:
        table.drop_column("sealed")
        table.add_column(sa.Column("data", sa.JSON(), nullable=False))
