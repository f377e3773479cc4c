"""Invitations: a member's signed reply link, yes, no or maybe, a place while capacity
lasts then the waiting list, and a given-up place offered to whoever waited longest
(also when someone leaves or is erased, or the capacity grows); a smaller capacity moves
the latest booked back to the waiting list. A cancelled opportunity takes no replies."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Answer, InvitationAnsweredV1, MessageKind, Place
from hub_shared.links import LinkProblem
from hub_shared.problems import Problem
from membership.links import Links, Purpose
from membership.models import Invitation, Member, Opportunity
from membership.publishing import contact_card, facts, publisher, tenant_of


async def invitation_from_link(
    session: AsyncSession, token: str, links: Links
) -> tuple[Invitation, Opportunity, Member]:
    claims = links.load(Purpose.REPLY, token)
    invitation = await session.get(Invitation, uuid.UUID(str(claims["i"])))
    if invitation is None:
        raise LinkProblem("invalid")
    opportunity = await session.get(Opportunity, invitation.opportunity_id)
    member = await session.get(Member, invitation.member_id)
    if opportunity is None or member is None or member.status != "active":
        raise LinkProblem("invalid")
    return invitation, opportunity, member


def _answered(
    session: AsyncSession, invitation: Invitation, opportunity: Opportunity, member: Member, correlation_id: str
) -> None:
    publisher.emit(
        session,
        InvitationAnsweredV1(
            **facts(member),
            invitation_id=invitation.id,
            opportunity_id=opportunity.id,
            organisation_code=opportunity.organisation_code,
            answer=Answer(invitation.answer or Answer.MAYBE),
            place=Place(invitation.place) if invitation.place else None,
            answered_at=invitation.answered_at or datetime.now(UTC),
        ),
        subject=str(member.id),
        tenant=tenant_of(member),
        correlation_id=correlation_id,
    )


async def reply(
    session: AsyncSession, token: str, answer: Answer, *, links: Links, correlation_id: str
) -> tuple[Invitation, Opportunity]:
    invitation, opportunity, member = await invitation_from_link(session, token, links)
    now = datetime.now(UTC)
    if opportunity.cancelled_at is not None:
        raise Problem(
            410,
            "Cancelled",
            f"'{opportunity.title}' was cancelled: {opportunity.cancel_reason}",
            reason="cancelled",
        )
    if now > opportunity.closes_at.replace(tzinfo=opportunity.closes_at.tzinfo or UTC):
        raise Problem(
            410, "Replies have closed", f"Replies to '{opportunity.title}' closed on {opportunity.closes_at:%d %B %Y}."
        )
    # One reply at a time per opportunity, so capacity cannot be overbooked.
    await session.get(Opportunity, opportunity.id, with_for_update=True, populate_existing=True)
    was_booked = invitation.place == Place.BOOKED.value
    invitation.answer = answer.value
    invitation.answered_at = now
    if answer is Answer.YES:
        if not was_booked:
            booked = await _booked(session, opportunity.id)
            full = opportunity.capacity is not None and booked >= opportunity.capacity
            invitation.place = Place.WAITING_LIST.value if full else Place.BOOKED.value
    else:
        invitation.place = None
    _answered(session, invitation, opportunity, member, correlation_id)
    if was_booked and invitation.place is None:
        await _offer_next_place(session, opportunity, links=links, correlation_id=correlation_id)
    return invitation, opportunity


async def _booked(session: AsyncSession, opportunity_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.opportunity_id == opportunity_id, Invitation.place == Place.BOOKED.value)
        )
        or 0
    )


async def _offer_next_place(
    session: AsyncSession, opportunity: Opportunity, *, links: Links, correlation_id: str
) -> bool:
    """A booked place was given up (or the capacity grew): the longest-waiting person gets
    it. False when nobody was waiting."""
    if opportunity.cancelled_at is not None:
        return False
    await session.flush()
    waiting = await session.scalar(
        select(Invitation)
        .where(Invitation.opportunity_id == opportunity.id, Invitation.place == Place.WAITING_LIST.value)
        .order_by(Invitation.answered_at)
        .limit(1)
    )
    if waiting is None:
        return False
    member = await session.get(Member, waiting.member_id)
    if member is None:
        return False
    waiting.place = Place.BOOKED.value
    _answered(session, waiting, opportunity, member, correlation_id)
    contact_card(
        session,
        member,
        links,
        correlation_id=correlation_id,
        kind=MessageKind.PLACE_OFFERED,
        reference_id=str(opportunity.id),
        extra_links={"reply": links.url(Purpose.REPLY, i=str(waiting.id))},
    )
    return True


async def fit_capacity(session: AsyncSession, opportunity: Opportunity, *, links: Links, correlation_id: str) -> None:
    """The capacity changed (the caller holds the opportunity's lock). Past it, the latest
    booked move to the waiting list, where they come first (they replied before those
    waiting); within it, the longest waiting are booked, each told as a given-up place is.
    Everyone moved gets ``invitation.answered.v1`` with their new place."""
    await session.flush()
    booked = (
        await session.scalars(
            select(Invitation)
            .where(Invitation.opportunity_id == opportunity.id, Invitation.place == Place.BOOKED.value)
            .order_by(Invitation.answered_at.desc())
        )
    ).all()
    capacity = opportunity.capacity
    if capacity is not None and len(booked) > capacity:
        for invitation in booked[: len(booked) - capacity]:
            invitation.place = Place.WAITING_LIST.value
            member = await session.get(Member, invitation.member_id)
            if member is not None:
                _answered(session, invitation, opportunity, member, correlation_id)
        return
    room = None if capacity is None else capacity - len(booked)
    while room is None or room > 0:
        if not await _offer_next_place(session, opportunity, links=links, correlation_id=correlation_id):
            return
        room = None if room is None else room - 1


async def release_places(session: AsyncSession, member_id: uuid.UUID, *, links: Links, correlation_id: str) -> None:
    """Someone leaving gives up their booked places at what has not closed yet; each goes
    to the longest-waiting person."""
    now = datetime.now(UTC)
    booked = (
        await session.scalars(
            select(Invitation).where(Invitation.member_id == member_id, Invitation.place == Place.BOOKED.value)
        )
    ).all()
    for invitation in booked:
        opportunity = await session.get(Opportunity, invitation.opportunity_id, with_for_update=True)
        invitation.place = None
        if opportunity is not None and opportunity.starts_at.replace(tzinfo=opportunity.starts_at.tzinfo or UTC) > now:
            await _offer_next_place(session, opportunity, links=links, correlation_id=correlation_id)
