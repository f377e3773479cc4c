"""Groups (a PPG per practice, co-production groups per place and service area, the
Patient Partners scheme), their members and roles. (Imports of PPG lists:
group_invitations.py.)"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.auth import Principal
from hub_shared.authorisation import authorise, may_see
from hub_shared.events import GroupKind
from hub_shared.organisations import reference
from hub_shared.problems import Problem
from membership.handlers.group_memberships import add_to_group, group_event
from membership.models import Group, GroupMembership, Member
from membership.publishing import place_of
from membership.schemas import GroupCreate, GroupMemberAdd, GroupMemberUpdate


def group_public(group: Group, members: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(group.id),
        "kind": group.kind,
        "name": group.name,
        "organisation_code": group.organisation_code,
        "place_code": group.place_code,
        "service_area": group.service_area,
    }
    if members is not None:
        out["members"] = members
    return out


async def create_group(session: AsyncSession, principal: Principal, command: GroupCreate) -> Group:
    authorise(principal, command.organisation_code)
    if command.kind is GroupKind.PPG:
        existing = await session.scalar(
            select(Group).where(Group.kind == GroupKind.PPG.value, Group.organisation_code == command.organisation_code)
        )
        if existing is not None:
            raise Problem(409, "PPG exists", f"{command.organisation_code} already has a PPG ({existing.id}).")
    group = Group(
        id=uuid.uuid4(),
        kind=command.kind.value,
        name=command.name,
        organisation_code=command.organisation_code,
        place_code=place_of(command.organisation_code) if command.kind is not GroupKind.PATIENT_PARTNERS else None,
        service_area=command.service_area.value if command.service_area else None,
        created_at=datetime.now(UTC),
    )
    session.add(group)
    return group


async def visible_groups(session: AsyncSession, principal: Principal) -> list[Group]:
    """A practice sees its PPG and the groups above it; a place its own and its practices'."""
    organisations = reference()
    rows = (await session.scalars(select(Group).order_by(Group.kind, Group.name))).all()
    return [
        g
        for g in rows
        if may_see(principal, g.organisation_code, organisations)
        or organisations.may_act_for(g.organisation_code, principal.organisation)
    ]


async def managed_group(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> Group:
    group = await session.get(Group, group_id)
    if group is None or group not in await visible_groups(session, principal):
        raise Problem(404, "No such group", f"No group {group_id} that you can see.")
    if not may_see(principal, group.organisation_code):
        raise Problem(403, "Not your group", f"{group.organisation_code} manages this group.")
    return group


def may_belong(group: Group, member: Member) -> bool:
    return reference().may_act_for(group.organisation_code, member.practice_code) or (
        group.kind == GroupKind.PATIENT_PARTNERS.value
    )


async def add_member(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, command: GroupMemberAdd, correlation_id: str
) -> GroupMembership:
    group = await managed_group(session, principal, group_id)
    member = await session.get(Member, command.member_id)
    if member is None or member.status == "left" or not may_see(principal, member.practice_code):
        raise Problem(404, "No such member", f"No member {command.member_id} that you can see.")
    if not may_belong(group, member):
        raise Problem(422, "Not in this group's area", "The member is registered outside the group's area.")
    current = await session.scalar(
        select(GroupMembership).where(
            GroupMembership.group_id == group.id,
            GroupMembership.member_id == member.id,
            GroupMembership.left_on.is_(None),
        )
    )
    if current is not None:
        if current.role != command.role.value:
            current.role = command.role.value
            group_event(session, member, group, current, correlation_id)
        return current
    return add_to_group(session, member, group, command.role.value, correlation_id, on=command.joined_on)


async def update_member(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    command: GroupMemberUpdate,
    correlation_id: str,
) -> GroupMembership:
    group = await managed_group(session, principal, group_id)
    row = await session.execute(
        select(GroupMembership, Member)
        .join(Member, Member.id == GroupMembership.member_id)
        .where(GroupMembership.group_id == group.id, GroupMembership.member_id == member_id)
        .where(GroupMembership.left_on.is_(None))
    )
    found = row.first()
    if found is None:
        raise Problem(404, "Not a member", f"{member_id} is not a current member of this group.")
    membership, member = found
    if command.role is not None:
        membership.role = command.role.value
    if command.left_on is not None:
        membership.left_on = command.left_on
    group_event(session, member, group, membership, correlation_id)
    return membership


async def group_members(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who is in a group: ids, roles and dates; contact details never leave membership."""
    group = await session.get(Group, group_id)
    if group is None or group not in await visible_groups(session, principal):
        raise Problem(404, "No such group", f"No group {group_id} that you can see.")
    rows = await session.execute(
        select(GroupMembership, Member)
        .join(Member, Member.id == GroupMembership.member_id)
        .where(GroupMembership.group_id == group_id)
        .order_by(GroupMembership.joined_on)
    )
    return [
        {
            "member_id": str(m.id),
            "status": m.status,
            "practice_code": m.practice_code,
            "role": gm.role,
            "joined_on": gm.joined_on.isoformat(),
            "left_on": gm.left_on.isoformat() if gm.left_on else None,
        }
        for gm, m in rows.all()
        if may_see(principal, m.practice_code) or may_see(principal, group.organisation_code)
    ]


def may_belong_code(group: Group, practice_code: str) -> bool:
    return group.kind == GroupKind.PATIENT_PARTNERS.value or reference().may_act_for(
        group.organisation_code, practice_code
    )
