"""Notification's ledger as reporting's read model: the latest state of each email, from
``notification.events``, for the notification measures (``reporting.queries.notifications``)."""

from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.db import upsert
from hub_shared.events import Envelope, NotificationStatusChangedV1
from reporting.models import NotificationFact


async def on_notification_status_changed(session: AsyncSession, envelope: Envelope) -> None:
    """Keep the latest state per email (events of one email arrive in order; an older one
    arriving late never overwrites a newer one)."""
    data = envelope.data
    assert isinstance(data, NotificationStatusChangedV1)
    values = {
        "notification_id": data.notification_id,
        "organisation_code": data.organisation_code,
        "kind": data.kind,
        "reference": data.reference,
        "recipient_kind": data.recipient_kind,
        "status": data.status.value,
        "attempts": data.attempts,
        "changed_at": data.changed_at,
    }
    connection = await session.connection()
    statement = upsert(
        connection.dialect.name,
        NotificationFact,
        ("notification_id",),
        update=tuple(k for k in values if k != "notification_id"),
        unless_newer="changed_at",
    )
    await session.execute(statement, values)
