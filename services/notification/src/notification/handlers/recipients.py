"""Recipients: notification's own copy of the people it writes to, from membership's
contact cards (and the emails membership asks it to send with them), opened with each
person's key from membership (a card of someone erased opens no more); confirmation,
leaving and erasure (a tombstone or ``member.erased.v1``), each with one goodbye; and
suppression of an address the relay refused for good."""

import uuid
from datetime import UTC, datetime, timedelta

from aiokafka.structs import ConsumerRecord
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.consumer import PermanentFailure
from hub_shared.events import (
    ContactDetails,
    Envelope,
    MemberConfirmedV1,
    MemberContactV2,
    MemberErasedV1,
    MemberLeftV1,
    RecipientSuppressedV1,
)
from hub_shared.logging import get_logger
from hub_shared.organisations import reference
from hub_shared.sealing import ContactKeys, Unreadable, card_key
from hub_shared.topics import MEMBERSHIP_CONTACTS
from notification.handlers import notifications as ledger
from notification.models import InvitationRef, Notification, Opportunity, Recipient, ResponseContent
from notification.publishing import PENDING, publisher
from notification.rules import kinds
from notification.rules.reasons import without_addresses
from notification.settings import NotificationSettings

log = get_logger(__name__)


def _recipient_kind(card: MemberContactV2) -> str:
    return "member" if card.member_id is not None else "hear_back"


async def on_contact_card(
    session: AsyncSession, envelope: Envelope, settings: NotificationSettings, keys: ContactKeys
) -> None:
    sealed = envelope.data
    assert isinstance(sealed, MemberContactV2)
    key = envelope.subject or card_key(sealed)
    try:
        card = await keys.open(sealed)
    except Unreadable as exc:
        raise PermanentFailure(f"contact card for {key} does not open with its person's key") from exc
    if card is None:
        # Erased (or left) since: their key is gone, and so is anything to send them.
        log.info("contact card of someone membership no longer knows; nothing kept", recipient_key=key)
        return
    now = datetime.now(UTC)
    recipient = await session.get(Recipient, key, with_for_update=True)
    if recipient is None:
        recipient = Recipient(key=key, kind=_recipient_kind(sealed), confirmed=False, updated_at=now)
        session.add(recipient)
    if recipient.suppressed_at is not None and card.contactable and recipient.email != card.email:
        recipient.suppressed_at = None  # a new address: the old one's refusal no longer applies
        recipient.suppression_reason = None
    recipient.member_id = sealed.member_id
    recipient.email = card.email
    recipient.name = card.name
    recipient.organisation_code = envelope.tenant
    recipient.frequency = card.frequency.value
    recipient.contactable = card.contactable
    recipient.confirmed = recipient.confirmed or card.contactable
    recipient.updated_at = now
    await session.flush()
    if card.message is None:
        return
    kind = kinds.FROM_MEMBERSHIP.get(card.message.kind)
    if kind is None:
        log.warning("no email for this message kind", message_kind=card.message.kind)
        return
    await ledger.queue(
        session,
        settings,
        dedupe_key=f"{envelope.id}:{key}",
        kind=kind,
        recipient=recipient,
        recipient_key=key,
        recipient_kind=recipient.kind,
        member_id=sealed.member_id,
        organisation_code=await _sender(session, kind, card.message.reference, envelope.tenant),
        reference=card.message.reference,
        links=card.message.links,
        farewell_address=_own_address(kind, card),
    )


def _own_address(kind: str, card: ContactDetails) -> str | None:
    """Where an email that goes to an address of its own goes: a goodbye to the address the
    person had, a confirmation to the new address they gave."""
    if kind in kinds.FAREWELLS:
        return card.email
    return card.message.to if kind in kinds.OWN_ADDRESS and card.message else None


async def _sender(session: AsyncSession, kind: str, reference: str | None, fallback: str) -> str:
    """The organisation an email is sent for: the opportunity's or the response's when known
    (the worker settles it at send time otherwise), else the member's practice."""
    try:
        ref = uuid.UUID(reference) if reference else None
    except ValueError:
        ref = None
    if ref is not None and kind in kinds.ABOUT_OPPORTUNITY:
        opportunity = await session.get(Opportunity, ref)
        if opportunity is not None:
            return opportunity.organisation_code
    if ref is not None and kind == kinds.UPDATE:
        response = await session.get(ResponseContent, ref)
        if response is not None:
            return response.organisation_code
    return fallback


async def on_contact_tombstone(
    session: AsyncSession, record: ConsumerRecord, reason: str, settings: NotificationSettings
) -> None:
    """A null value on the compacted contacts topic: the person's card is gone (they left
    or were erased). Anything else that is not a valid event is dead-lettered."""
    if record.topic != MEMBERSHIP_CONTACTS.name or record.value is not None or record.key is None:
        raise PermanentFailure(reason)
    key = record.key.decode()
    recipient = await session.get(Recipient, key)
    if recipient is not None and recipient.kind == "member":
        # Whichever of the tombstone and member.left.v1 / member.erased.v1 comes first
        # queues the goodbye; it waits a few seconds so an erasure can say so.
        await farewell(session, recipient, kinds.LEFT, settings)
    await erase_recipient(session, key, "erased")


async def organisation_of(session: AsyncSession, recipient: Recipient) -> str | None:
    """The organisation a recipient's emails and events are for: the tenant of their cards
    (membership names one on every card: a member's practice, a hear-back contact's ICB);
    for a row without one, that of the last email queued to them, else the deployment's ICB
    when it holds exactly one. None only when none of these is known (several ICBs)."""
    if recipient.organisation_code:
        return recipient.organisation_code
    last = await session.scalar(
        select(Notification.organisation_code)
        .where(Notification.recipient_key == recipient.key)
        .order_by(Notification.created_at.desc())
        .limit(1)
    )
    return last or reference().only_icb()


async def farewell(session: AsyncSession, recipient: Recipient, kind: str, settings: NotificationSettings) -> None:
    """One goodbye per member (left, or erased), sent from an address the ledger keeps only
    until the email is final. Never to an address nobody confirmed."""
    if not recipient.confirmed:
        return
    organisation = await organisation_of(session, recipient)
    if organisation is None:
        log.warning("no organisation known to say goodbye for; no goodbye queued", recipient_key=recipient.key)
        return
    dedupe_key = f"farewell:{recipient.key}"
    pending = await session.scalar(select(Notification).where(Notification.dedupe_key == ledger.dedupe(dedupe_key)))
    if pending is not None:
        if kind == kinds.ERASED and pending.status in PENDING:
            pending.kind = kinds.ERASED
        return
    await ledger.queue(
        session,
        settings,
        dedupe_key=dedupe_key,
        kind=kind,
        recipient=recipient,
        recipient_key=recipient.key,
        recipient_kind=recipient.kind,
        member_id=recipient.member_id,
        organisation_code=organisation,
        farewell_address=recipient.email,
        due_at=datetime.now(UTC) + timedelta(seconds=settings.farewell_grace_seconds),
    )


async def erase_recipient(session: AsyncSession, key: str, reason: str) -> None:
    await ledger.withhold_pending(session, key, reason)
    await session.execute(delete(Recipient).where(Recipient.key == key))
    await session.execute(delete(InvitationRef).where(InvitationRef.member_id == _uuid_or_none(key)))
    await ledger.forget(session, key)


def _uuid_or_none(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


async def on_member_confirmed(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, MemberConfirmedV1)
    recipient = await session.get(Recipient, str(data.member_id), with_for_update=True)
    if recipient is not None:
        recipient.confirmed = True


async def on_member_left(session: AsyncSession, envelope: Envelope, settings: NotificationSettings) -> None:
    data = envelope.data
    assert isinstance(data, MemberLeftV1)
    key = str(data.member_id)
    recipient = await session.get(Recipient, key, with_for_update=True)
    if recipient is None:
        return  # the tombstone came first and queued the goodbye
    recipient.left_at = data.left_at
    await ledger.withhold_pending(session, key, "left")
    await farewell(session, recipient, kinds.LEFT, settings)


async def on_member_erased(session: AsyncSession, envelope: Envelope, settings: NotificationSettings) -> None:
    data = envelope.data
    assert isinstance(data, MemberErasedV1)
    key = str(data.member_id)
    recipient = await session.get(Recipient, key)
    if recipient is not None:
        await farewell(session, recipient, kinds.ERASED, settings)
    else:  # the tombstone came first: its goodbye says erased, if still waiting
        pending = await session.scalar(
            select(Notification).where(Notification.dedupe_key == ledger.dedupe(f"farewell:{key}"))
        )
        if pending is not None and pending.status in PENDING:
            pending.kind = kinds.ERASED
    await erase_recipient(session, key, "erased")


async def suppress(session: AsyncSession, row: Notification, reply: str, now: datetime) -> None:
    """The relay refused this email's address for good (5xx): nothing more goes to it until
    membership sends a new address, and membership is told."""
    if not row.recipient_key:
        return
    recipient = await session.get(Recipient, row.recipient_key, with_for_update=True)
    if recipient is None or recipient.suppressed_at is not None:
        return
    reply = without_addresses(reply) or ""  # relays echo the address; it is not a reason
    recipient.suppressed_at = now
    recipient.suppression_reason = reply[:2000]
    await ledger.withhold_pending(session, recipient.key, "suppressed")
    publisher.emit(
        session,
        RecipientSuppressedV1(
            member_id=recipient.member_id,
            contact_token=recipient.key if recipient.kind == "hear_back" else None,
            reason=reply[:500],
            suppressed_at=now,
        ),
        subject=recipient.key,
        tenant=recipient.organisation_code or row.organisation_code,
    )
