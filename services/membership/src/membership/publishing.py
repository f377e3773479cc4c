"""Staging membership's events in the outbox: ordinary events (ids and bands) on
``membership.events``, contact cards on the compacted ``membership.contacts``, sealed with
the person's own key (``hub_shared.sealing``), which erasure destroys."""

import uuid
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Bands, ContactDetails, ContactMessage, MessageKind
from hub_shared.logging import get_logger
from hub_shared.organisations import reference
from hub_shared.outbox import Publisher
from hub_shared.sealing import card_key, new_key, seal
from hub_shared.topics import MEMBERSHIP_CONTACTS, MEMBERSHIP_EVENTS
from membership import SERVICE_NAME
from membership.links import Links, Purpose
from membership.models import GroupInvitation, HearBackContact, Member, OutboxMessage

log = get_logger(__name__)

# Ordinary events (ids and bands) on membership.events; contact cards name their topic.
publisher = Publisher(source=SERVICE_NAME, outbox=OutboxMessage, topic=MEMBERSHIP_EVENTS.name)


def bands(member: Member) -> Bands:
    return Bands.model_validate(
        {
            "age_band": member.age_band,
            "sex": member.sex,
            "ethnic_group": member.ethnic_group,
            "disability": member.disability,
            "carer": member.carer,
        }
    )


def facts(member: Member) -> dict[str, Any]:
    """The non-identifying facts every member event carries."""
    return {
        "member_id": member.id,
        "practice_code": member.practice_code,
        "place_code": member.place_code,
        "bands": bands(member),
    }


def tenant_of(member: Member) -> str:
    return member.practice_code


def place_of(practice_code: str) -> str | None:
    return reference().place_of(practice_code)


def contact_card(
    session: AsyncSession,
    member: Member,
    links: Links,
    *,
    correlation_id: str,
    kind: MessageKind | None = None,
    reference_id: str | None = None,
    extra_links: dict[str, str] | None = None,
    to: str | None = None,
) -> None:
    """The member's current contact card on the compacted topic, with the email to send."""
    assert member.email is not None, "a member without contact details has no card"
    message = None
    if kind is not None:
        message_links = dict(extra_links or {})
        if member.status == "active":
            message_links.setdefault("preferences", links.member_url(Purpose.PREFERENCES, member))
        message = ContactMessage(kind=kind, to=to, reference=reference_id, links=message_links)
    details = ContactDetails(
        name=member.name,
        email=member.email,
        phone=member.phone,
        frequency=member.frequency,  # type: ignore[arg-type]
        contactable=member.status == "active" and member.frequency != "never",
        message=message,
    )
    stage_card(session, member, details, tenant=tenant_of(member), correlation_id=correlation_id, member_id=member.id)


def hear_back_tenant(contact: HearBackContact) -> str | None:
    """The ICB a hear-back contact's cards belong to: that of the organisation its feedback was
    given to; for a contact from before that was recorded, the deployment's ICB when it holds
    exactly one, else None (nobody can tell which ICB it is; ``hear_back`` waits for the
    feedback's response to say)."""
    organisations = reference()
    if contact.organisation_code is not None and organisations.get(contact.organisation_code) is not None:
        return organisations.icb_of(contact.organisation_code)
    return organisations.only_icb()


def hear_back_card(
    session: AsyncSession,
    contact: HearBackContact,
    *,
    correlation_id: str,
    kind: MessageKind | None = None,
    reference_id: str | None = None,
    links: dict[str, str] | None = None,
) -> bool:
    """Stage the contact's card (with the email to send); False, staging nothing, when the
    contact's ICB is not known (see ``hear_back_tenant``)."""
    tenant = hear_back_tenant(contact)
    if tenant is None:
        log.warning("hear-back contact of no known ICB; its card waits for its feedback's response", kind=kind)
        return False
    details = ContactDetails(
        email=contact.email,
        contactable=contact.confirmed_at is not None,
        message=ContactMessage(kind=kind, reference=reference_id, links=links or {}) if kind else None,
    )
    stage_card(session, contact, details, tenant=tenant, correlation_id=correlation_id, contact_token=contact.token)
    return True


def welcome_card(
    session: AsyncSession, invitation: GroupInvitation, group_organisation: str, *, correlation_id: str, url: str
) -> None:
    """The welcome to a group for someone a team listed, keyed by the invitation's token (no
    member id: whether the address belongs to a member is nobody's business until they
    accept)."""
    details = ContactDetails(
        name=invitation.name,
        email=invitation.email,
        contactable=False,
        message=ContactMessage(kind=MessageKind.WELCOME_IMPORTED, links={"confirm": url}),
    )
    stage_card(
        session,
        invitation,
        details,
        tenant=group_organisation,
        correlation_id=correlation_id,
        contact_token=invitation.token,
    )


async def forget_contact_cards(session: AsyncSession, key: str) -> None:
    """Delete every card of this key still held in the outbox (sent or not) and stage a
    tombstone, so neither membership's store nor, once compacted, the topic keeps them. The
    caller destroys the person's key (deleting their row, or leaving): from that commit on,
    every card already published is unreadable."""
    await session.execute(
        delete(OutboxMessage).where(OutboxMessage.topic == MEMBERSHIP_CONTACTS.name).where(OutboxMessage.key == key)
    )
    publisher.tombstone(session, key, topic=MEMBERSHIP_CONTACTS.name)


def stage_card(
    session: AsyncSession,
    holder: Member | HearBackContact | GroupInvitation,
    details: ContactDetails,
    *,
    tenant: str,
    correlation_id: str,
    member_id: uuid.UUID | None = None,
    contact_token: str | None = None,
) -> None:
    """Stage a person's contact card on the compacted contacts topic, keyed as the card is (member
    id or token), ``details`` sealed with their own key, made with their first card."""
    if holder.contact_key is None:
        holder.contact_key = new_key()
    card = seal(holder.contact_key, details, member_id=member_id, contact_token=contact_token)
    publisher.emit(
        session,
        card,
        subject=card_key(card),
        tenant=tenant,
        correlation_id=correlation_id,
        topic=MEMBERSHIP_CONTACTS.name,
    )
