"""Members: joining, confirming, fresh links, the preference centre, leaving and erasure;
the members a team may see; and what notification tells membership about a member's
email (they unsubscribed, or their address was refused for good).

No answer differs by whether an email is already registered: joining again, or asking
for a fresh link, always says "check your email", and the email says what applies."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.auth import Principal
from hub_shared.authorisation import authorise
from hub_shared.events import (
    ConsentSource,
    Envelope,
    MemberConfirmedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberPreferencesChangedV1,
    MessageKind,
    RecipientSuppressedV1,
    UnsubscribeReceivedV1,
)
from hub_shared.links import LinkProblem
from hub_shared.organisations import reference
from hub_shared.problems import Problem
from membership.handlers.email_allowance import forget_address, may_email
from membership.handlers.group_memberships import active_groups, add_to_group, check_groups, group_event
from membership.handlers.invitations import release_places
from membership.links import Links, Purpose, still_current, use_once
from membership.models import Group, GroupInvitation, GroupMembership, HearBackContact, Invitation, Member
from membership.publishing import (
    contact_card,
    facts,
    forget_contact_cards,
    place_of,
    publisher,
    tenant_of,
)
from membership.schemas import JoinRequest, MemberPreferences, MemberPublic, PreferencesUpdate


async def member_by_email(session: AsyncSession, email: str) -> Member | None:
    return await session.scalar(select(Member).where(Member.email == email))


@dataclass
class JoinOutcome:
    member: Member
    created: bool


async def join(
    session: AsyncSession,
    request: JoinRequest,
    *,
    source: ConsentSource,
    links: Links,
    wording_version: str,
    correlation_id: str,
) -> JoinOutcome:
    """A new member is pending and gets a confirmation link; someone already known gets
    the email that applies to them, and nothing else changes. The caller cannot tell, nor
    whether the address had already had its emails for the hour."""
    groups = await check_groups(session, request.practice_code, request.group_ids)
    existing = await member_by_email(session, request.email)
    if existing is not None:
        if await may_email(session, request.email, links):
            if existing.status == "pending":
                _ask_to_confirm(session, existing, links, correlation_id)
            else:
                contact_card(session, existing, links, correlation_id=correlation_id, kind=MessageKind.ALREADY_MEMBER)
        return JoinOutcome(existing, created=False)
    member = await new_member(
        session, request, source=source, wording_version=wording_version, correlation_id=correlation_id
    )
    for group in groups:
        add_to_group(session, member, group, "member", correlation_id)
    if await may_email(session, request.email, links):
        _ask_to_confirm(session, member, links, correlation_id)
    else:
        contact_card(session, member, links, correlation_id=correlation_id)
    return JoinOutcome(member, created=True)


def _ask_to_confirm(session: AsyncSession, member: Member, links: Links, correlation_id: str) -> None:
    """The card with a confirmation link: the email that makes a pending member a member."""
    confirm_url = links.url(Purpose.CONFIRM, m=str(member.id))
    contact_card(
        session,
        member,
        links,
        correlation_id=correlation_id,
        kind=MessageKind.CONFIRM_JOIN,
        extra_links={"confirm": confirm_url},
    )


async def new_member(
    session: AsyncSession,
    request: JoinRequest,
    *,
    source: ConsentSource,
    wording_version: str,
    correlation_id: str,
    basis: str | None = None,
) -> Member:
    """A pending member from what they (or a list a team holds consent for) gave."""
    now = datetime.now(UTC)
    d = request.demographics
    member = Member(
        id=uuid.uuid4(),
        status="pending",
        email=request.email,
        name=request.name,
        phone=request.phone,
        postcode=request.postcode,
        practice_code=request.practice_code,
        place_code=place_of(request.practice_code),
        interests=[i.value for i in request.interests],
        frequency="as_it_happens",
        age_band=d.age_band.value if d.age_band else None,
        sex=d.sex.value if d.sex else None,
        ethnic_group=d.ethnic_group.value if d.ethnic_group else None,
        disability=d.disability.value if d.disability else None,
        carer=d.carer.value if d.carer else None,
        consent_given=True,
        consent_wording_version=request.consent_wording_version or wording_version,
        consent_source=source.value,
        consent_basis=basis,
        consent_at=now,
        joined_at=now,
    )
    session.add(member)
    await session.flush()
    publisher.emit(
        session,
        MemberJoinedV1(
            **facts(member),
            interests=request.interests,
            consent_source=source,
            consent_wording_version=member.consent_wording_version,
            joined_at=now,
        ),
        subject=str(member.id),
        tenant=tenant_of(member),
        correlation_id=correlation_id,
    )
    return member


async def confirm(session: AsyncSession, token: str, *, links: Links, correlation_id: str) -> Member:
    claims = links.load(Purpose.CONFIRM, token)
    member = await session.get(Member, uuid.UUID(str(claims["m"])), with_for_update=True)
    if member is None or member.status == "left":
        raise LinkProblem("invalid")
    await use_once(session, claims)
    activate(session, member, links, correlation_id)
    return member


def activate(session: AsyncSession, member: Member, links: Links, correlation_id: str) -> None:
    """A pending member proved the address is theirs (they followed a link sent to it)."""
    if member.status == "pending":
        member.status = "active"
        member.confirmed_at = datetime.now(UTC)
        publisher.emit(
            session,
            MemberConfirmedV1(**facts(member), confirmed_at=member.confirmed_at),
            subject=str(member.id),
            tenant=tenant_of(member),
            correlation_id=correlation_id,
        )
        contact_card(session, member, links, correlation_id=correlation_id)


async def request_link(session: AsyncSession, email: str, *, links: Links, correlation_id: str) -> None:
    """A fresh link by email, for whoever the address belongs to (if anyone)."""
    member = await member_by_email(session, email)
    if member is None or not await may_email(session, email, links):
        return
    if member.status == "pending":
        _ask_to_confirm(session, member, links, correlation_id)
    elif member.status == "active":
        contact_card(session, member, links, correlation_id=correlation_id, kind=MessageKind.FRESH_LINK)


async def member_from_link(session: AsyncSession, token: str, links: Links, *, lock: bool = False) -> Member:
    claims = links.load(Purpose.PREFERENCES, token)
    member = await session.get(Member, uuid.UUID(str(claims["m"])), with_for_update=lock)
    if member is None:
        raise LinkProblem("invalid")
    still_current(claims, member)
    return member


async def preferences(session: AsyncSession, member: Member) -> MemberPreferences:
    return MemberPreferences(
        member_id=member.id,
        status=member.status,
        name=member.name,
        email=member.email,
        phone=member.phone,
        postcode=member.postcode,
        practice_code=member.practice_code,
        interests=list(member.interests),
        frequency=member.frequency,
        groups=[
            {"id": str(g.id), "name": g.name, "kind": g.kind, "role": m.role, "joined_on": m.joined_on.isoformat()}
            for m, g in await active_groups(session, member)
        ],
    )


async def update_preferences(
    session: AsyncSession, member: Member, update: PreferencesUpdate, *, links: Links, correlation_id: str
) -> Member:
    if member.status == "left":
        raise Problem(409, "You have left", "Join again to choose what you hear about.")
    changes = update.model_dump(exclude_unset=True)
    contact_changed = False
    if update.email is not None and update.email != member.email and await may_email(session, update.email, links):
        url = links.member_url(Purpose.NEW_EMAIL, member, e=update.email)
        contact_card(
            session,
            member,
            links,
            correlation_id=correlation_id,
            kind=MessageKind.CONFIRM_NEW_EMAIL,
            to=update.email,
            extra_links={"confirm": url},
        )
    for field in ("name", "phone", "postcode"):
        if field in changes and changes[field] != getattr(member, field):
            setattr(member, field, changes[field])
            contact_changed = True
    if update.interests is not None:
        member.interests = [i.value for i in update.interests]
    if update.frequency is not None:
        contact_changed = contact_changed or member.frequency != update.frequency.value
        member.frequency = update.frequency.value
    if update.group_ids is not None:
        wanted = {g.id: g for g in await check_groups(session, member.practice_code, update.group_ids)}
        current = await active_groups(session, member)
        for membership, group in current:
            if group.id not in wanted and membership.role == "member":
                membership.left_on = date.today()
                group_event(session, member, group, membership, correlation_id)
        held = {g.id for _m, g in current}
        for group_id, group in wanted.items():
            if group_id not in held:
                add_to_group(session, member, group, "member", correlation_id)
    preferences_changed(session, member, correlation_id)
    if contact_changed:
        contact_card(session, member, links, correlation_id=correlation_id)
    return member


def preferences_changed(session: AsyncSession, member: Member, correlation_id: str) -> None:
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


async def leave(session: AsyncSession, member: Member, *, links: Links, correlation_id: str) -> Member:
    """All contact stops at once: contact details are dropped (here and, by tombstone, on
    the contacts topic); the bands and practice stay as anonymous statistics. Booked
    places go to whoever waits longest."""
    if member.status == "left":
        return member
    await release_places(session, member.id, links=links, correlation_id=correlation_id)
    today = date.today()
    for membership, group in await active_groups(session, member):
        membership.left_on = today
        group_event(session, member, group, membership, correlation_id)
    assert member.email is not None
    await forget_address(session, member.email, links)
    member.status = "left"
    member.left_at = datetime.now(UTC)
    member.email = member.name = member.phone = member.postcode = None
    member.contact_key = None  # every card they had is unreadable from this commit
    member.frequency = "never"
    publisher.emit(
        session,
        MemberLeftV1(**facts(member), left_at=member.left_at),
        subject=str(member.id),
        tenant=tenant_of(member),
        correlation_id=correlation_id,
    )
    await forget_contact_cards(session, str(member.id))
    return member


async def erase(session: AsyncSession, member: Member, *, links: Links, correlation_id: str) -> None:
    """Forget the person: their rows here, and with the member row their contact key, so
    every card of theirs on the contacts topic is unreadable at once (and tombstoned, for
    compaction); by ``member.erased.v1``, every other service's links to them."""
    member_id = member.id
    await release_places(session, member_id, links=links, correlation_id=correlation_id)
    await session.flush()
    tenant = tenant_of(member)
    if member.email is not None:
        await forget_address(session, member.email, links)
        await forget_group_invitations(session, member.email)
    await session.execute(delete(Invitation).where(Invitation.member_id == member_id))
    await session.execute(delete(GroupMembership).where(GroupMembership.member_id == member_id))
    await session.delete(member)
    await forget_contact_cards(session, str(member_id))
    publisher.emit(
        session,
        MemberErasedV1(member_id=member_id, erased_at=datetime.now(UTC)),
        subject=str(member_id),
        tenant=tenant,
        correlation_id=correlation_id,
    )


async def confirm_new_email(session: AsyncSession, token: str, *, links: Links, correlation_id: str) -> Member:
    """The new address was confirmed from that address: it replaces the old one."""
    claims = links.load(Purpose.NEW_EMAIL, token)
    member = await session.get(Member, uuid.UUID(str(claims["m"])), with_for_update=True)
    if member is None or member.status != "active":
        raise LinkProblem("invalid")
    still_current(claims, member)
    await use_once(session, claims)
    new_email = str(claims["e"])
    holder = await member_by_email(session, new_email)
    if holder is not None and holder.id != member.id:
        # Only the owner of that address can get here, so saying so reveals nothing new.
        raise Problem(409, "Address in use", "That address already has a membership: leave that one first.")
    member.email = new_email
    member.link_version += 1  # links sent to the old address stop working
    contact_card(session, member, links, correlation_id=correlation_id)
    return member


async def forget_group_invitations(session: AsyncSession, email: str) -> None:
    """Erasure: lists that named the address no longer wait for its owner."""
    tokens = (await session.scalars(select(GroupInvitation.token).where(GroupInvitation.email == email))).all()
    for token in tokens:
        await forget_contact_cards(session, token)
    await session.execute(delete(GroupInvitation).where(GroupInvitation.email == email))


# ---- what a team sees ----


async def members_in_area(
    session: AsyncSession,
    principal: Principal,
    *,
    practice_code: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[MemberPublic]:
    """Members registered at practices the caller acts for, with the groups they hold; no
    contact details."""
    area = reference().practices_under(principal.organisation)
    if practice_code is not None:  # an empty code is no organisation (422), not "all of mine"
        area = [authorise(principal, practice_code, field="practice_code")]
    query = select(Member).where(Member.practice_code.in_(area)).order_by(Member.joined_at, Member.id)
    if status:
        query = query.where(Member.status == status)
    rows = (await session.scalars(query.limit(limit).offset(offset))).all()
    held = await session.execute(
        select(GroupMembership.member_id, Group.id, Group.name, GroupMembership.role)
        .join(Group, Group.id == GroupMembership.group_id)
        .where(GroupMembership.member_id.in_([m.id for m in rows]), GroupMembership.left_on.is_(None))
    )
    by_member: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for member_id, group_id, name, role in held.all():
        by_member.setdefault(member_id, []).append({"id": str(group_id), "name": name, "role": role})
    return [
        MemberPublic.model_validate(m, from_attributes=True).model_copy(update={"groups": by_member.get(m.id, [])})
        for m in rows
    ]


# ---- what notification tells us: all contact stops ----


async def on_unsubscribed(session: AsyncSession, envelope: Envelope, links: Links) -> None:
    """They unsubscribed with the one-click link (RFC 8058)."""
    data = envelope.data
    assert isinstance(data, UnsubscribeReceivedV1)
    await _stop_contact(session, data.member_id, data.contact_token, links, envelope.correlation_id)


async def on_recipient_suppressed(session: AsyncSession, envelope: Envelope, links: Links) -> None:
    """The relay refused their address for good."""
    data = envelope.data
    assert isinstance(data, RecipientSuppressedV1)
    await _stop_contact(session, data.member_id, data.contact_token, links, envelope.correlation_id)


async def _stop_contact(
    session: AsyncSession, member_id: uuid.UUID | None, contact_token: str | None, links: Links, correlation_id: str
) -> None:
    """Every non-transactional contact stops at once: a member's frequency becomes "never"
    (which invitations and "you said, we did" updates already respect) and their contact
    card says they are not contactable; a hear-back address is forgotten."""
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
    preferences_changed(session, member, correlation_id)
    contact_card(session, member, links, correlation_id=correlation_id)


# ---- what notification asks for: the key that opens a person's contact cards ----


async def contact_key(session: AsyncSession, card_key: str) -> bytes | None:
    """The contact key of a member (by id), a hear-back contact or a group welcome (by token);
    None for someone erased, who left, or was never here: their cards stay sealed for good."""
    try:
        member_id = uuid.UUID(card_key)
    except ValueError:
        contact = await session.get(HearBackContact, card_key)
        if contact is not None:
            return contact.contact_key
        welcome = await session.get(GroupInvitation, card_key)
        return welcome.contact_key if welcome is not None else None
    member = await session.get(Member, member_id)
    return member.contact_key if member is not None else None
