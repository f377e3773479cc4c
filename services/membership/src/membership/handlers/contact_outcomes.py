"""What notification tells membership about a person's email: they unsubscribed with the
one-click link (RFC 8058), or the relay refused their address for good. Either way every
non-transactional contact stops at once: a member's frequency becomes "never" (which
invitations and "you said, we did" updates already respect) and their contact card says
they are not contactable; a hear-back address is forgotten."""

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, MemberPreferencesChangedV1, RecipientSuppressedV1, UnsubscribeReceivedV1
from membership.links import Links
from membership.models import HearBackContact, Member
from membership.publishing import contact_card, facts, forget_contact_cards, publisher, tenant_of


async def on_unsubscribed(session: AsyncSession, envelope: Envelope, links: Links) -> None:
    data = envelope.data
    assert isinstance(data, UnsubscribeReceivedV1)
    await _stop_contact(session, data.member_id, data.contact_token, links, envelope.correlation_id)


async def on_recipient_suppressed(session: AsyncSession, envelope: Envelope, links: Links) -> None:
    data = envelope.data
    assert isinstance(data, RecipientSuppressedV1)
    await _stop_contact(session, data.member_id, data.contact_token, links, envelope.correlation_id)


async def _stop_contact(
    session: AsyncSession, member_id: UUID | None, contact_token: str | None, links: Links, correlation_id: str
) -> None:
    if contact_token is not None:
        contact = await session.get(HearBackContact, contact_token, with_for_update=True)
        if contact is not None:
            await session.delete(contact)
            await forget_contact_cards(session, contact.token)
    if member_id is None:
        return
    member = await session.get(Member, member_id, with_for_update=True)
    if member is None or member.status != "active" or member.frequency == "never":
        return  # erased, left, or already silent: nothing more to stop
    member.frequency = "never"
    publisher.emit(
        session,
        MemberPreferencesChangedV1(
            **facts(member),
            interests=member.interests,
            frequency=member.frequency,
            changed_at=datetime.now(UTC),  # type: ignore[arg-type]
        ),
        subject=str(member.id),
        tenant=tenant_of(member),
        correlation_id=correlation_id,
    )
    contact_card(session, member, links, correlation_id=correlation_id)
