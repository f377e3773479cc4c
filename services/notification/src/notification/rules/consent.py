"""Consent at send time: whether this email may go to this recipient now. Checked by the
worker as it claims each email, not only when it was queued."""

from notification.models import Recipient
from notification.rules import kinds


def refusal(recipient: Recipient | None, kind: str, *, has_farewell_address: bool = False) -> str | None:
    """None when the email may be sent; otherwise why not (the ledger's reason)."""
    if kind in kinds.FAREWELLS:
        return None if has_farewell_address or recipient is not None else "erased"
    if recipient is None:
        return "erased"
    if recipient.suppressed_at is not None:
        return "suppressed"
    if recipient.left_at is not None:
        return "left"
    if kind in kinds.CONFIRMATIONS:
        return None
    if not recipient.confirmed:
        return "unconfirmed"
    if kind in kinds.TRANSACTIONAL:
        return None
    if recipient.unsubscribed_at is not None:
        return "unsubscribed"
    if not recipient.contactable:
        return "not contactable"
    return None
