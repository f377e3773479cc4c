"""Membership's events as reporting's read model: one row per member, group membership and
invitation, upserted by their ids (one member's events share a partition, so they arrive
in order). The measures read from it are ``reporting.queries.membership``."""

from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import (
    AttendanceRecordedV1,
    Envelope,
    GroupMembershipChangedV1,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    MemberConfirmedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberPreferencesChangedV1,
)
from reporting.models import GroupMemberFact, InvitationFact, MemberFact


async def _member(session: AsyncSession, data: Any, status: str | None = None) -> MemberFact:
    fact = await session.get(MemberFact, data.member_id)
    if fact is None:
        fact = MemberFact(member_id=data.member_id, status=status or "pending")
        session.add(fact)
        await session.flush()  # a batch may carry this member's next event in the same session
    fact.practice_code = data.practice_code
    fact.place_code = data.place_code
    fact.age_band = data.bands.age_band.value if data.bands.age_band else None
    fact.sex = data.bands.sex.value if data.bands.sex else None
    fact.ethnic_group = data.bands.ethnic_group.value if data.bands.ethnic_group else None
    if status:
        fact.status = status
    return fact


async def on_member_joined(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, MemberJoinedV1)
    fact = await session.get(MemberFact, envelope.data.member_id)
    await _member(session, envelope.data, None if fact is not None else "pending")


async def on_member_confirmed(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, MemberConfirmedV1)
    await _member(session, envelope.data, "active")


async def on_member_preferences_changed(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, MemberPreferencesChangedV1)
    await _member(session, envelope.data)


async def on_member_left(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, MemberLeftV1)
    await _member(session, envelope.data, "left")


async def on_member_erased(session: AsyncSession, envelope: Envelope) -> None:
    """Forget the member's row and group memberships; invitations carry no member id."""
    assert isinstance(envelope.data, MemberErasedV1)
    await session.execute(delete(MemberFact).where(MemberFact.member_id == envelope.data.member_id))
    await session.execute(delete(GroupMemberFact).where(GroupMemberFact.member_id == envelope.data.member_id))


async def on_group_membership_changed(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, GroupMembershipChangedV1)
    fact = await session.get(GroupMemberFact, (data.group_id, data.member_id))
    values = {
        "group_kind": data.group_kind.value,
        "organisation_code": data.group_organisation_code,
        "active": data.left_on is None,
    }
    if fact is None:
        session.add(GroupMemberFact(group_id=data.group_id, member_id=data.member_id, **values))
        await session.flush()  # a batch may carry this membership's next change in the same session
        return
    for name, value in values.items():
        setattr(fact, name, value)


async def _invitation(session: AsyncSession, data: Any) -> InvitationFact:
    fact = await session.get(InvitationFact, data.invitation_id)
    if fact is None:
        fact = InvitationFact(
            invitation_id=data.invitation_id,
            organisation_code=data.organisation_code,
            practice_code=data.practice_code,
            attended=False,
        )
        session.add(fact)
        await session.flush()
    return fact


async def on_invitation_issued(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, InvitationIssuedV1)
    await _invitation(session, envelope.data)


async def on_invitation_answered(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, InvitationAnsweredV1)
    fact = await _invitation(session, envelope.data)
    fact.answer = envelope.data.answer.value


async def on_attendance_recorded(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, AttendanceRecordedV1)
    if data.invitation_id is None:
        return
    fact = await _invitation(session, data)
    fact.attended = True
    fact.age_band = data.bands.age_band.value if data.bands.age_band else None
    fact.sex = data.bands.sex.value if data.bands.sex else None
