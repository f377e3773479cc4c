"""Staging notification's events in the outbox (``notification.events``)."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import DeliveryStatus, NotificationStatusChangedV1
from hub_shared.outbox import Publisher
from hub_shared.topics import NOTIFICATION_EVENTS
from notification import SERVICE_NAME
from notification.models import Notification, OutboxMessage
from notification.rules.reasons import without_addresses

publisher = Publisher(source=SERVICE_NAME, outbox=OutboxMessage, topic=NOTIFICATION_EVENTS.name)


def move(
    session: AsyncSession,
    row: Notification,
    status: DeliveryStatus,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Change a ledger entry's state and publish the change, in the caller's transaction."""
    now = now or datetime.now(UTC)
    reason = without_addresses(reason)  # relays echo addresses; the ledger never shows one
    row.status = status.value
    row.reason = reason
    row.updated_at = now
    if status.value in FINAL:
        row.farewell_address = None
    publisher.emit(
        session,
        NotificationStatusChangedV1(
            notification_id=row.id,
            organisation_code=row.organisation_code,
            kind=row.kind,
            reference=row.reference,
            member_id=row.member_id,
            recipient_kind=row.recipient_kind,
            status=status,
            reason=reason,
            attempts=row.attempts,
            changed_at=now,
        ),
        subject=str(row.id),
        tenant=row.organisation_code,
    )


FINAL = frozenset(
    {
        DeliveryStatus.DELIVERED.value,
        DeliveryStatus.PERMANENT_FAILURE.value,
        DeliveryStatus.TECHNICAL_FAILURE.value,
        DeliveryStatus.UNKNOWN.value,
        DeliveryStatus.WITHHELD.value,
        DeliveryStatus.DIGESTED.value,
    }
)
# States from which the worker may still send.
PENDING = frozenset(
    {DeliveryStatus.CREATED.value, DeliveryStatus.TEMPORARY_FAILURE.value, DeliveryStatus.HELD_FOR_DIGEST.value}
)
