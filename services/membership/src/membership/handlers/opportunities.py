"""Engagement opportunities: publish with targeting, resolve the confirmed consenting
recipients (once each) and invite them, change or cancel one (everyone who said yes is
emailed), and attendance with each attendee's bands as they were at the time. Replies to
invitations and the waiting list are in ``invitations``."""

import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.auth import Principal
from hub_shared.authorisation import authorise, may_see
from hub_shared.events import (
    AttendanceRecordedV1,
    InvitationIssuedV1,
    MessageKind,
    OpportunityCancelledV1,
    OpportunityChangedV1,
    OpportunityPublishedV1,
    Place,
)
from hub_shared.events import OpportunityKind as Kind
from hub_shared.organisations import reference
from hub_shared.problems import Problem, field_errors
from membership.handlers import invitations as replies
from membership.handlers.groups import visible_groups
from membership.links import Links, Purpose
from membership.models import GroupMembership, Invitation, Member, Opportunity
from membership.publishing import bands, contact_card, facts, place_of, publisher, tenant_of
from membership.schemas import AttendanceCreate, OpportunityCancel, OpportunityChange, OpportunityCreate, Targeting

UNSTATED = {None, "prefer_not_to_say"}


def under_represented(members: list[Member]) -> set[str]:
    """Ethnic groups whose share of the area's members (those who said) is below the mean
    share of the groups present: the ones to reach out to."""
    counts = Counter(m.ethnic_group for m in members if m.ethnic_group not in UNSTATED)
    if not counts:
        return set()
    mean = sum(counts.values()) / len(counts)
    return {g for g, n in counts.items() if g is not None and n < mean}


async def resolve_recipients(session: AsyncSession, organisation_code: str, targeting: Targeting) -> list[Member]:
    """Confirmed members who consented and still want to hear, registered in the
    publisher's area, matching any target; each once."""
    area = reference().practices_under(organisation_code)
    members = (
        await session.scalars(
            select(Member)
            .where(Member.status == "active", Member.consent_given.is_(True), Member.frequency != "never")
            .where(Member.practice_code.in_(area))
            .order_by(Member.joined_at)
        )
    ).all()
    in_groups: set[uuid.UUID] = set()
    if targeting.group_ids:
        in_groups = set(
            (
                await session.scalars(
                    select(GroupMembership.member_id)
                    .where(GroupMembership.group_id.in_(targeting.group_ids))
                    .where(GroupMembership.left_on.is_(None))
                )
            ).all()
        )
    practices = {p for code in targeting.organisation_codes for p in reference().practices_under(code)}
    interests = {i.value for i in targeting.interests}
    age_bands = {a.value for a in targeting.age_bands}
    sexes = {s.value for s in targeting.sexes}
    ethnic = {e.value for e in targeting.ethnic_groups}
    if targeting.under_represented_ethnic_groups:
        ethnic |= under_represented(list(members))
    return [
        m
        for m in members
        if m.id in in_groups
        or m.practice_code in practices
        or interests & set(m.interests)
        or (m.age_band in age_bands)
        or (m.sex in sexes)
        or (m.ethnic_group in ethnic)
    ]


async def check_targeting(session: AsyncSession, principal: Principal, command: OpportunityCreate) -> None:
    """The publisher may act for the organisation, and targets only what is within it."""
    authorise(principal, command.organisation_code)
    for code in command.targeting.organisation_codes:
        if not reference().may_act_for(command.organisation_code, code):
            raise Problem(
                422,
                "Outside your area",
                f"{code} is not within {command.organisation_code}.",
                errors=[{"field": "targeting.organisation_codes", "message": f"{code} is outside", "type": "outside"}],
            )
    visible = {g.id for g in await visible_groups(session, principal)}
    unknown = [str(g) for g in command.targeting.group_ids if g not in visible]
    if unknown:
        raise Problem(
            422,
            "Unknown groups",
            f"No group {', '.join(unknown)} that you can see.",
            errors=[{"field": "targeting.group_ids", "message": f"unknown: {g}", "type": "not_found"} for g in unknown],
        )


async def publish(
    session: AsyncSession, principal: Principal, command: OpportunityCreate, *, links: Links, correlation_id: str
) -> tuple[Opportunity, int]:
    await check_targeting(session, principal, command)
    now = datetime.now(UTC)
    opportunity = Opportunity(
        id=uuid.uuid4(),
        organisation_code=command.organisation_code,
        place_code=place_of(command.organisation_code),
        kind=command.kind.value,
        title=command.title,
        description=command.description,
        starts_at=command.starts_at,
        location=command.location,
        online=command.online,
        capacity=command.capacity,
        closes_at=command.closes_at,
        targeting=command.targeting.model_dump(mode="json"),
        published_at=now,
    )
    session.add(opportunity)
    await session.flush()
    recipients = await resolve_recipients(session, command.organisation_code, command.targeting)
    for member in recipients:
        invitation = Invitation(
            id=uuid.uuid4(), opportunity_id=opportunity.id, member_id=member.id, issued_at=now, attended=False
        )
        session.add(invitation)
        publisher.emit(
            session,
            InvitationIssuedV1(
                **facts(member),
                invitation_id=invitation.id,
                opportunity_id=opportunity.id,
                organisation_code=opportunity.organisation_code,
                issued_at=now,
            ),
            subject=str(member.id),
            tenant=tenant_of(member),
            correlation_id=correlation_id,
        )
        contact_card(
            session,
            member,
            links,
            correlation_id=correlation_id,
            kind=MessageKind.INVITATION,
            reference_id=str(opportunity.id),
            extra_links={"reply": links.url(Purpose.REPLY, i=str(invitation.id))},
        )
    publisher.emit(
        session,
        OpportunityPublishedV1(
            opportunity_id=opportunity.id,
            organisation_code=opportunity.organisation_code,
            place_code=opportunity.place_code,
            kind=Kind(opportunity.kind),
            title=opportunity.title,
            starts_at=opportunity.starts_at,
            online=opportunity.online,
            capacity=opportunity.capacity,
            closes_at=opportunity.closes_at,
            invited=len(recipients),
            published_at=now,
        ),
        subject=str(opportunity.id),
        tenant=opportunity.organisation_code,
        correlation_id=correlation_id,
    )
    return opportunity, len(recipients)


async def managed_opportunity(session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID) -> Opportunity:
    opportunity = await session.get(Opportunity, opportunity_id)
    if opportunity is None or not may_see(principal, opportunity.organisation_code):
        raise Problem(404, "No such opportunity", f"No opportunity {opportunity_id} that you can see.")
    return opportunity


async def visible_opportunities(session: AsyncSession, principal: Principal) -> list[Opportunity]:
    rows = (await session.scalars(select(Opportunity).order_by(Opportunity.starts_at))).all()
    return [o for o in rows if may_see(principal, o.organisation_code)]


async def summary(session: AsyncSession, opportunity: Opportunity) -> dict[str, Any]:
    rows = (await session.scalars(select(Invitation).where(Invitation.opportunity_id == opportunity.id))).all()
    return {
        "id": str(opportunity.id),
        "organisation_code": opportunity.organisation_code,
        "kind": opportunity.kind,
        "title": opportunity.title,
        "starts_at": opportunity.starts_at.isoformat(),
        "closes_at": opportunity.closes_at.isoformat(),
        "capacity": opportunity.capacity,
        "online": opportunity.online,
        "location": opportunity.location,
        "description": opportunity.description,
        "targeting": opportunity.targeting,
        "invited": len(rows),
        "answers": dict(Counter(r.answer for r in rows if r.answer)),
        "booked": sum(1 for r in rows if r.place == Place.BOOKED.value),
        "waiting_list": sum(1 for r in rows if r.place == Place.WAITING_LIST.value),
        "attended": sum(1 for r in rows if r.attended),
        "status": status_of(opportunity),
        "version": opportunity.version,
        "changed_at": opportunity.changed_at.isoformat() if opportunity.changed_at else None,
        "cancelled_at": opportunity.cancelled_at.isoformat() if opportunity.cancelled_at else None,
        "cancel_reason": opportunity.cancel_reason,
    }


def status_of(opportunity: Opportunity) -> str:
    """open (taking replies), closed (replies closed), started, or cancelled."""
    now = datetime.now(UTC)
    if opportunity.cancelled_at is not None:
        return "cancelled"
    if now >= opportunity.starts_at:
        return "started"
    return "closed" if now > opportunity.closes_at else "open"


async def record_attendance(
    session: AsyncSession,
    principal: Principal,
    opportunity_id: uuid.UUID,
    command: AttendanceCreate,
    correlation_id: str,
) -> int:
    opportunity = await managed_opportunity(session, principal, opportunity_id)
    authorise(principal, opportunity.organisation_code)
    if opportunity.cancelled_at is not None:
        raise Problem(409, "Cancelled", f"'{opportunity.title}' was cancelled: nobody attended it.")
    on = command.attended_on or date.today()
    invitations = {
        i.member_id: i
        for i in (
            await session.scalars(
                select(Invitation).where(
                    Invitation.opportunity_id == opportunity.id, Invitation.member_id.in_(command.member_ids)
                )
            )
        ).all()
    }
    members = {m.id: m for m in (await session.scalars(select(Member).where(Member.id.in_(command.member_ids)))).all()}
    unknown = [
        str(i)
        for i in command.member_ids
        if i not in invitations or i not in members or not may_see(principal, members[i].practice_code)
    ]
    if unknown:
        raise Problem(
            422,
            "Not invited",
            f"{len(unknown)} member(s) were not invited to this opportunity.",
            errors=[{"field": "member_ids", "message": f"not invited: {i}", "type": "not_invited"} for i in unknown],
        )
    recorded = 0
    for member_id in dict.fromkeys(command.member_ids):
        invitation, member = invitations[member_id], members[member_id]
        if invitation.attended:
            continue
        snapshot = bands(member)
        invitation.attended = True
        invitation.attendance_bands = snapshot.model_dump(mode="json")
        publisher.emit(
            session,
            AttendanceRecordedV1(
                **facts(member),
                invitation_id=invitation.id,
                opportunity_id=opportunity.id,
                organisation_code=opportunity.organisation_code,
                attended_on=on,
                recorded_at=datetime.now(UTC),
            ),
            subject=str(member.id),
            tenant=tenant_of(member),
            correlation_id=correlation_id,
        )
        recorded += 1
    return recorded


async def preview(session: AsyncSession, principal: Principal, command: OpportunityCreate) -> dict[str, Any]:
    """What publishing would do, without doing it: how many would be invited and their
    demographic bands (counts per band, no one named), checked as publishing checks."""
    await check_targeting(session, principal, command)
    recipients = await resolve_recipients(session, command.organisation_code, command.targeting)
    counted: dict[str, Counter[str]] = {name: Counter() for name in ("age_band", "sex", "ethnic_group")}
    for member in recipients:
        for name, counter in counted.items():
            counter[getattr(member, name) or "not_stated"] += 1
    area = []
    if command.targeting.under_represented_ethnic_groups:
        members = (
            await session.scalars(
                select(Member)
                .where(Member.status == "active", Member.consent_given.is_(True), Member.frequency != "never")
                .where(Member.practice_code.in_(reference().practices_under(command.organisation_code)))
            )
        ).all()
        area = sorted(under_represented(list(members)))
    return {
        "invited": len(recipients),
        "bands": {name: dict(counter.most_common()) for name, counter in counted.items()},
        "under_represented_ethnic_groups": area,
    }


async def invitations(session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who was invited and where they stand (answer, booked or waiting, attended), by member
    id, practice and bands: no names or contact details. Booked first, then the waiting
    list in the order it is served, then the rest."""
    opportunity = await managed_opportunity(session, principal, opportunity_id)
    rows = (
        await session.execute(
            select(Invitation, Member)
            .join(Member, Member.id == Invitation.member_id)
            .where(Invitation.opportunity_id == opportunity.id)
        )
    ).all()
    order = {Place.BOOKED.value: 0, Place.WAITING_LIST.value: 1}
    rows = sorted(rows, key=lambda r: (order.get(r[0].place or "", 2), r[0].answered_at or r[0].issued_at))
    return [
        {
            "invitation_id": str(invitation.id),
            "member_id": str(member.id),
            "practice_code": member.practice_code,
            "bands": bands(member).model_dump(mode="json"),
            "answer": invitation.answer,
            "place": invitation.place,
            "answered_at": invitation.answered_at.isoformat() if invitation.answered_at else None,
            "attended": invitation.attended,
        }
        for invitation, member in rows
        if may_see(principal, member.practice_code)
    ]


CHANGEABLE = ("title", "description", "starts_at", "closes_at", "location", "online", "capacity")
# What those who said yes are emailed about; a capacity alone moves people between booked
# and the waiting list, and they hear of that as of any other move (reply received, place offered).
WORTH_AN_EMAIL = frozenset(CHANGEABLE) - {"capacity"}


async def _changeable(session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID) -> Opportunity:
    """The opportunity, locked, when the caller may act for its organisation and it has not
    started; a cancelled one is ``409``."""
    opportunity = await managed_opportunity(session, principal, opportunity_id)
    authorise(principal, opportunity.organisation_code)
    await session.get(Opportunity, opportunity.id, with_for_update=True, populate_existing=True)
    if opportunity.cancelled_at is None and datetime.now(UTC) >= opportunity.starts_at:
        raise Problem(409, "Already started", f"'{opportunity.title}' has started: it can no longer be changed.")
    return opportunity


async def _said_yes(session: AsyncSession, opportunity: Opportunity) -> list[tuple[Invitation, Member]]:
    """Those booked and those waiting, who can still be written to: booked first, each in
    the order they replied."""
    rows = (
        await session.execute(
            select(Invitation, Member)
            .join(Member, Member.id == Invitation.member_id)
            .where(Invitation.opportunity_id == opportunity.id)
            .where(Invitation.place.in_((Place.BOOKED.value, Place.WAITING_LIST.value)))
            .where(Member.status == "active", Member.email.is_not(None))
            .order_by(Invitation.place, Invitation.answered_at)
        )
    ).all()
    return [(invitation, member) for invitation, member in rows]


async def change(
    session: AsyncSession,
    principal: Principal,
    opportunity_id: uuid.UUID,
    command: OpportunityChange,
    *,
    links: Links,
    correlation_id: str,
    dry_run: bool = False,
) -> tuple[Opportunity, list[str], int]:
    """Change what was asked, checked as a new opportunity is; a capacity change moves people
    between booked and the waiting list. Everyone who said yes is emailed the new details
    with their reply link. Asking for what is already so changes nothing and sends nothing.
    Returns the opportunity, what changed and how many were emailed; a dry run saves and
    sends nothing and says what would change and how many would be emailed."""
    opportunity = await _changeable(session, principal, opportunity_id)
    if opportunity.cancelled_at is not None:
        raise Problem(409, "Cancelled", f"'{opportunity.title}' was cancelled: it can no longer be changed.")
    current = {name: getattr(opportunity, name) for name in CHANGEABLE}
    wanted = {name: getattr(command, name) for name in command.model_fields_set}
    merged = {**current, **wanted}
    try:
        OpportunityCreate.model_validate(
            {
                **merged,
                "organisation_code": opportunity.organisation_code,
                "kind": opportunity.kind,
                "targeting": opportunity.targeting,
            }
        )
    except ValidationError as exc:
        errors = field_errors(exc.errors())
        raise Problem(422, "Invalid request", f"{len(errors)} field(s) failed validation", errors=errors) from exc
    changed = [name for name in CHANGEABLE if name in wanted and merged[name] != current[name]]
    told = [name for name in changed if name in WORTH_AN_EMAIL]
    if dry_run or not changed:
        return opportunity, changed, len(await _said_yes(session, opportunity)) if told else 0
    now = datetime.now(UTC)
    for name in changed:
        setattr(opportunity, name, merged[name])
    opportunity.version += 1
    opportunity.changed_at = now
    if "capacity" in changed:
        await replies.fit_capacity(session, opportunity, links=links, correlation_id=correlation_id)
    publisher.emit(
        session,
        OpportunityChangedV1(
            opportunity_id=opportunity.id,
            organisation_code=opportunity.organisation_code,
            place_code=opportunity.place_code,
            kind=Kind(opportunity.kind),
            title=opportunity.title,
            starts_at=opportunity.starts_at,
            closes_at=opportunity.closes_at,
            online=opportunity.online,
            location=opportunity.location,
            capacity=opportunity.capacity,
            changed=changed,
            version=opportunity.version,
            changed_at=now,
        ),
        subject=str(opportunity.id),
        tenant=opportunity.organisation_code,
        correlation_id=correlation_id,
    )
    if not told:
        return opportunity, changed, 0
    await session.flush()
    emailed = await _said_yes(session, opportunity)
    for invitation, member in emailed:
        contact_card(
            session,
            member,
            links,
            correlation_id=correlation_id,
            kind=MessageKind.OPPORTUNITY_CHANGED,
            reference_id=str(opportunity.id),
            extra_links={
                "reply": links.url(Purpose.REPLY, i=str(invitation.id)),
                "place": invitation.place or "",
                "changed": ",".join(told),
                "version": str(opportunity.version),
            },
        )
    return opportunity, changed, len(emailed)


async def cancel(
    session: AsyncSession,
    principal: Principal,
    opportunity_id: uuid.UUID,
    command: OpportunityCancel,
    *,
    links: Links,
    correlation_id: str,
) -> tuple[Opportunity, int]:
    """Cancel it: no more replies, and everyone who said yes (booked or waiting) is emailed
    the reason. Places and replies stay as they were, for the record. Cancelling what is
    already cancelled changes nothing and sends nothing (the first reason stands).
    Returns the opportunity and how many were emailed."""
    opportunity = await _changeable(session, principal, opportunity_id)
    if opportunity.cancelled_at is not None:
        return opportunity, 0
    now = datetime.now(UTC)
    opportunity.cancelled_at = now
    opportunity.cancel_reason = command.reason
    opportunity.version += 1
    publisher.emit(
        session,
        OpportunityCancelledV1(
            opportunity_id=opportunity.id,
            organisation_code=opportunity.organisation_code,
            reason=command.reason,
            version=opportunity.version,
            cancelled_at=now,
        ),
        subject=str(opportunity.id),
        tenant=opportunity.organisation_code,
        correlation_id=correlation_id,
    )
    emailed = await _said_yes(session, opportunity)
    for invitation, member in emailed:
        contact_card(
            session,
            member,
            links,
            correlation_id=correlation_id,
            kind=MessageKind.OPPORTUNITY_CANCELLED,
            reference_id=str(opportunity.id),
            extra_links={"place": invitation.place or "", "version": str(opportunity.version)},
        )
    return opportunity, len(emailed)
