"""FFT uploads stored as parts of whole CSV records (about 1 MiB each) as they stream in,
instead of one text value: an upload of any size is never held whole in memory.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fft_upload_part",
        sa.Column("upload_id", sa.Uuid(), sa.ForeignKey("fft_upload.id"), primary_key=True),
        sa.Column("part", sa.Integer(), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.execute("INSERT INTO fft_upload_part (upload_id, part, content) SELECT id, 0, content FROM fft_upload")
    with op.batch_alter_table("fft_upload") as batch:
        batch.drop_column("content")


def downgrade() -> None:
    with op.batch_alter_table("fft_upload") as batch:
        batch.add_column(sa.Column("content", sa.Text(), nullable=False, server_default=""))
    postgresql = op.get_bind().dialect.name == "postgresql"
    joined = "string_agg(content, '' ORDER BY part)" if postgresql else "group_concat(content, '')"
    op.execute(
        f"UPDATE fft_upload SET content = coalesce((SELECT {joined} "
        "FROM fft_upload_part WHERE upload_id = fft_upload.id), '')"
    )
    op.drop_table("fft_upload_part")
