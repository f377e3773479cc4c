"""A member's places in groups: the groups a person may join themselves (their practice's
PPG, their place's co-production groups, the Patient Partners scheme), joining one, and
every change to a place as ``member.group_membership_changed.v1``."""

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import GroupKind, GroupMembershipChangedV1
from hub_shared.problems import Problem
from membership.models import Group, GroupMembership, Member
from membership.publishing import facts, place_of, publisher, tenant_of


def field_problem(field: str, message: str, type_: str = "value_error") -> Problem:
    return Problem(
        422,
        "Invalid request",
        "1 field(s) failed validation",
        errors=[{"field": field, "message": message, "type": type_}],
    )


async def joinable_groups(session: AsyncSession, practice_code: str) -> list[Group]:
    """Groups a person may join themselves: their practice's PPG, their place's
    co-production groups, and the ICS's Patient Partners scheme."""
    place = place_of(practice_code)
    rows = await session.scalars(select(Group).order_by(Group.kind, Group.name))
    return [
        g
        for g in rows.all()
        if (g.kind == GroupKind.PPG and g.organisation_code == practice_code)
        or (g.kind == GroupKind.COPRODUCTION and g.organisation_code == place)
        or g.kind == GroupKind.PATIENT_PARTNERS
    ]


async def check_groups(session: AsyncSession, practice_code: str, group_ids: list[uuid.UUID]) -> list[Group]:
    allowed = {g.id: g for g in await joinable_groups(session, practice_code)}
    unknown = [str(i) for i in group_ids if i not in allowed]
    if unknown:
        raise field_problem("group_ids", f"not a group you can join: {', '.join(unknown)}")
    return [allowed[i] for i in dict.fromkeys(group_ids)]


def add_to_group(
    session: AsyncSession, member: Member, group: Group, role: str, correlation_id: str, on: date | None = None
) -> GroupMembership:
    membership = GroupMembership(
        id=uuid.uuid4(), group_id=group.id, member_id=member.id, role=role, joined_on=on or date.today()
    )
    session.add(membership)
    group_event(session, member, group, membership, correlation_id)
    return membership


def group_event(
    session: AsyncSession, member: Member, group: Group, membership: GroupMembership, correlation_id: str
) -> None:
    publisher.emit(
        session,
        GroupMembershipChangedV1(
            **facts(member),
            group_id=group.id,
            group_kind=GroupKind(group.kind),
            group_organisation_code=group.organisation_code,
            role=membership.role,  # type: ignore[arg-type]
            joined_on=membership.joined_on,
            left_on=membership.left_on,
        ),
        subject=str(member.id),
        tenant=tenant_of(member),
        correlation_id=correlation_id,
    )


async def active_groups(session: AsyncSession, member: Member) -> list[tuple[GroupMembership, Group]]:
    rows = await session.execute(
        select(GroupMembership, Group)
        .join(Group, Group.id == GroupMembership.group_id)
        .where(GroupMembership.member_id == member.id)
        .where(GroupMembership.left_on.is_(None))
        .order_by(Group.name)
    )
    return [(m, g) for m, g in rows.all()]
