"""A month's snapshot is one per ICB: the published-snapshot key becomes (ICB, month).

A snapshot published before takes its ICB from its own event while the outbox still holds
it (the event's tenant); otherwise its ICB is left empty (``''``): published when the hub
held one ICB, which ``reporting.publishing`` reads as the deployment's one ICB, or, once
there are several, as that month's snapshot of every ICB (nothing is published twice).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SNAPSHOT_EVENT = "report.published.v1"


def _icb_of_published_months() -> dict[str, str]:
    rows = op.get_bind().execute(
        sa.text("SELECT key, payload FROM outbox WHERE event_type = :type ORDER BY seq"), {"type": SNAPSHOT_EVENT}
    )
    icbs: dict[str, str] = {}
    for month, payload in rows:
        tenant = json.loads(payload).get("tenant") if payload else None
        if isinstance(tenant, str):
            icbs[month] = tenant
    return icbs


def upgrade() -> None:
    op.create_table(
        "published_snapshot_by_icb",
        sa.Column("icb_code", sa.String(10), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("icb_code", "month", name="pk_published_snapshot_icb_month"),
    )
    icbs = _icb_of_published_months()
    bind = op.get_bind()
    for month, published_at in bind.execute(sa.text("SELECT month, published_at FROM published_snapshot")).all():
        bind.execute(
            sa.text("INSERT INTO published_snapshot_by_icb (icb_code, month, published_at) VALUES (:icb, :month, :at)"),
            {"icb": icbs.get(month, ""), "month": month, "at": published_at},
        )
    op.drop_table("published_snapshot")
    op.rename_table("published_snapshot_by_icb", "published_snapshot")


def downgrade() -> None:
    op.create_table(
        "published_snapshot_by_month",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO published_snapshot_by_month (month, published_at) "
        "SELECT month, MIN(published_at) FROM published_snapshot GROUP BY month"
    )
    op.drop_table("published_snapshot")
    op.rename_table("published_snapshot_by_month", "published_snapshot")
