"""Closing the loop: a published "you said, we did" response reaches the people who
contributed (member ids, hear-back contact tokens) and the members of the matching PPG or
co-production group who asked to hear about that service area; one event each."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, FeedbackRespondedV1, GroupKind, MessageKind, UpdateDueV1
from hub_shared.organisations import reference
from membership.links import Links, Purpose
from membership.models import Group, GroupMembership, HearBackContact, Member
from membership.publishing import contact_card, hear_back_card, publisher, tenant_of


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
                links={"stop": links.url(Purpose.HEAR_BACK_STOP, t=contact.token)},
            )
