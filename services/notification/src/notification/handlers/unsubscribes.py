"""One-click unsubscribe (RFC 8058): the person stops every non-transactional email at
once, and membership is told (``notification.unsubscribed.v1``)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import UnsubscribeReceivedV1
from hub_shared.logging import get_logger
from notification.handlers import notifications as ledger
from notification.handlers.recipients import organisation_of
from notification.models import Recipient
from notification.publishing import publisher
from notification.rules import kinds

log = get_logger(__name__)


async def unsubscribe(session: AsyncSession, claims: dict[str, Any]) -> bool:
    """True if this changed anything (a second click changes nothing and tells nobody)."""
    key = str(claims["k"])
    recipient = await session.get(Recipient, key, with_for_update=True)
    if recipient is None or recipient.unsubscribed_at is not None:
        return False
    now = datetime.now(UTC)
    recipient.unsubscribed_at = now
    await ledger.withhold_pending(session, key, "unsubscribed", only_kinds=kinds.NON_TRANSACTIONAL)
    notification_id = claims.get("n")
    organisation = await organisation_of(session, recipient)
    if organisation is None:  # no card, email or single ICB names one: nothing to file it under
        log.warning("unsubscribed; no organisation known to tell membership for", recipient_key=key)
        return True
    publisher.emit(
        session,
        UnsubscribeReceivedV1(
            member_id=recipient.member_id,
            contact_token=key if recipient.kind == "hear_back" else None,
            notification_id=notification_id,
            unsubscribed_at=now,
        ),
        subject=key,
        tenant=organisation,
    )
    return True
