"""Hearing back: someone who left feedback gives an address to hear what changed because of
it, without joining (a pseudonymous contact token, double opt-in, forgotten on request);
and closing the loop: a published "you said, we did" response reaches the people who
contributed (member ids, hear-back contact tokens) and the members of the matching PPG or
co-production group who asked to hear about that service area; one event each."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, FeedbackRespondedV1, GroupKind, MessageKind, UpdateDueV1
from hub_shared.links import LinkProblem
from hub_shared.organisations import reference
from hub_shared.references import grouped, new_reference
from membership.handlers.email_allowance import forget_address, may_email
from membership.links import Links, Purpose, use_once
from membership.models import FeedbackPageSubmission, Group, GroupMembership, HearBackContact, Member
from membership.publishing import contact_card, forget_contact_cards, hear_back_card, publisher, tenant_of


class OrganisationNeeded(ValueError):
    """A hear-back request that does not say which organisation the feedback is for, in a
    deployment of several ICBs (or naming one the hub does not hold)."""


def feedback_organisation(code: str | None) -> str | None:
    """The organisation a hear-back contact's feedback is for, checked: a known code (upper
    case), or None where the deployment has one ICB to fall back to."""
    organisations = reference()
    if code is not None:
        if organisations.get(code) is None:
            raise OrganisationNeeded(f"'{code}' is not an organisation of this ICS")
        return code.upper()
    if organisations.only_icb() is None:
        raise OrganisationNeeded("this hub serves several ICBs: name the practice or place the feedback is for")
    return None


async def request_hear_back(
    session: AsyncSession, email: str, *, organisation_code: str | None, links: Links, correlation_id: str
) -> str:
    """Issue a hear-back reference for feedback (``hub_shared.references``: short, grouped,
    with a check symbol; given with feedback as ``hear_back.reference`` or its canonical form
    as ``hear_back.contact_token``). It is emailed with the confirmation link, and nothing
    else is sent to it until the address's owner confirms (double opt-in); each request gets
    its own reference, so the answer says nothing about earlier ones. Past the address's
    emails for the hour, the reference is issued all the same but nothing is kept or sent: it
    leads nowhere. ``organisation_code`` is the organisation the feedback is given to
    (``OrganisationNeeded`` if unknown, or missing where several ICBs are held)."""
    organisation_code = feedback_organisation(organisation_code)
    token = new_reference()
    if not await may_email(session, email, links):
        return token
    contact = HearBackContact(
        token=token, email=email, organisation_code=organisation_code, created_at=datetime.now(UTC)
    )
    session.add(contact)
    url = links.url(Purpose.HEAR_BACK, t=contact.token)
    hear_back_card(
        session,
        contact,
        correlation_id=correlation_id,
        kind=MessageKind.CONFIRM_HEAR_BACK,
        links={"confirm": url, "reference": grouped(contact.token)},
    )
    return contact.token


async def confirm_hear_back(session: AsyncSession, token: str, *, links: Links, correlation_id: str) -> HearBackContact:
    claims = links.load(Purpose.HEAR_BACK, token)
    contact = await session.get(HearBackContact, str(claims["t"]), with_for_update=True)
    if contact is None:
        raise LinkProblem("invalid")
    await use_once(session, claims)
    if contact.confirmed_at is None:
        contact.confirmed_at = datetime.now(UTC)
        # A contact from before organisations were recorded, in a hub of several ICBs, has no
        # card yet: its first update (which names the organisation) carries it, confirmed.
        hear_back_card(session, contact, correlation_id=correlation_id)
    return contact


async def stop_hearing_back(session: AsyncSession, token: str, *, links: Links) -> None:
    """Forget a hear-back address: the row here and, by tombstone, its card on the topic.
    Feedback keeps the token, which now leads nowhere."""
    claims = links.load(Purpose.HEAR_BACK_STOP, token)
    contact = await session.get(HearBackContact, str(claims["t"]), with_for_update=True)
    if contact is None:
        return  # already forgotten
    await session.delete(contact)
    # A feedback page's form that gave it no longer leads to it either.
    await session.execute(
        update(FeedbackPageSubmission)
        .where(FeedbackPageSubmission.contact_token == contact.token)
        .values(contact_token=None)
    )
    await forget_contact_cards(session, contact.token)
    await forget_address(session, contact.email, links)


async def on_feedback_responded(session: AsyncSession, envelope: Envelope, links: Links) -> None:
    data = envelope.data
    assert isinstance(data, FeedbackRespondedV1)
    now = datetime.now(UTC)
    reasons: dict[uuid.UUID, str] = {}
    for member_id in data.notify_member_ids:
        reasons.setdefault(member_id, "contributor")
    areas = {a.value for a in data.service_areas}
    if areas:
        organisations = reference()
        place = organisations.place_of(data.organisation_code)
        groups = (await session.scalars(select(Group))).all()
        matching = [
            g.id
            for g in groups
            if (
                g.kind == GroupKind.PPG.value and organisations.may_act_for(data.organisation_code, g.organisation_code)
            )
            or (g.kind == GroupKind.COPRODUCTION.value and g.place_code == place and g.service_area in areas)
        ]
        if matching:
            in_groups = (
                (
                    await session.scalars(
                        select(Member)
                        .join(GroupMembership, GroupMembership.member_id == Member.id)
                        .where(GroupMembership.group_id.in_(matching), GroupMembership.left_on.is_(None))
                    )
                )
                .unique()
                .all()
            )
            for member in in_groups:
                if areas & set(member.interests):
                    reasons.setdefault(member.id, "group_interest")
    if reasons:
        members = (await session.scalars(select(Member).where(Member.id.in_(list(reasons))))).all()
        for member in sorted(members, key=lambda m: str(m.id)):
            if member.status != "active" or member.frequency == "never" or not member.consent_given:
                continue
            publisher.emit(
                session,
                UpdateDueV1(
                    response_id=data.response_id,
                    organisation_code=data.organisation_code,
                    member_id=member.id,
                    reason=reasons[member.id],
                    due_at=now,
                ),
                subject=str(member.id),
                tenant=tenant_of(member),
                correlation_id=envelope.correlation_id,
            )
            contact_card(
                session,
                member,
                links,
                correlation_id=envelope.correlation_id,
                kind=MessageKind.UPDATE_DUE,
                reference_id=str(data.response_id),
                # Why they hear of it, so the email tells a contributor it was their
                # feedback and a group member that it was others'.
                extra_links={"because": reasons[member.id]},
            )
    if data.notify_contact_tokens:
        contacts = (
            await session.scalars(
                select(HearBackContact).where(HearBackContact.token.in_(sorted(set(data.notify_contact_tokens))))
            )
        ).all()
        for contact in contacts:
            if contact.confirmed_at is None:
                continue
            if contact.organisation_code is None:
                # From before organisations were recorded: the feedback answered was theirs.
                contact.organisation_code = data.organisation_code
            publisher.emit(
                session,
                UpdateDueV1(
                    response_id=data.response_id,
                    organisation_code=data.organisation_code,
                    contact_token=contact.token,
                    reason="contributor",
                    due_at=now,
                ),
                subject=contact.token,
                tenant=data.organisation_code,
                correlation_id=envelope.correlation_id,
            )
            hear_back_card(
                session,
                contact,
                correlation_id=envelope.correlation_id,
                kind=MessageKind.UPDATE_DUE,
                reference_id=str(data.response_id),
                links={"stop": links.url(Purpose.HEAR_BACK_STOP, t=contact.token), "because": "contributor"},
            )
