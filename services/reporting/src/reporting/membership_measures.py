"""Membership measures from membership's events: members per 1,000 registered patients,
members against the registered population by age band and sex with a representativeness
score per place, PPG coverage, and invitations, replies and attendance.

Projection handlers keep one row per member, group membership and invitation, upserted
by their ids (one member's events share a partition, so they arrive in order). Every
figure leaves through the same disclosure control as the rest of reporting."""

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import (
    AttendanceRecordedV1,
    Envelope,
    GroupKind,
    GroupMembershipChangedV1,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    MemberConfirmedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberPreferencesChangedV1,
)
from hub_shared.organisations import Kind, Organisations
from reporting.disclosure import SUPPRESSED, Cell, protect, protect_counts, shown_count
from reporting.models import GroupMemberFact, InvitationFact, MemberFact
from reporting.population import population

# ---- projections ----


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


HANDLERS = {
    MemberJoinedV1.event_type: on_member_joined,
    MemberConfirmedV1.event_type: on_member_confirmed,
    MemberPreferencesChangedV1.event_type: on_member_preferences_changed,
    MemberLeftV1.event_type: on_member_left,
    MemberErasedV1.event_type: on_member_erased,
    GroupMembershipChangedV1.event_type: on_group_membership_changed,
    InvitationIssuedV1.event_type: on_invitation_issued,
    InvitationAnsweredV1.event_type: on_invitation_answered,
    AttendanceRecordedV1.event_type: on_attendance_recorded,
}

# ---- measures ----

FORMULAE = {
    "members_per_1000_registered": "1000 x confirmed members still in / registered patients",
    "participation_rate": "members in the band per 1,000 registered patients in the band",
    "representativeness": (
        "per place: participation rate of its least-represented age band and sex over its most-represented one "
        "(1 = members mirror the population, 0 = a band has no members); '*' when a band's count is suppressed"
    ),
    "ppg_coverage": "practices with a PPG of at least one current member / practices",
}


def _practices(organisations: Organisations, code: str) -> list[str]:
    return [c for c in organisations.descendants(code) if (o := organisations.get(c)) and o.kind is Kind.PRACTICE]


async def _active_by_practice_and_band(
    session: AsyncSession, practices: list[str]
) -> dict[str, Counter[tuple[str, str]]]:
    """Active members per practice by age band and sex: one query, summed per place after."""
    rows = await session.execute(
        select(MemberFact.practice_code, MemberFact.age_band, MemberFact.sex, func.count())
        .where(MemberFact.status == "active", MemberFact.practice_code.in_(practices))
        .group_by(MemberFact.practice_code, MemberFact.age_band, MemberFact.sex)
    )
    found: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for practice, a, s, n in rows.all():
        found[str(practice)][(a or "not_stated", s or "not_stated")] += int(n)
    return found


def _by_band(found: dict[str, Counter[tuple[str, str]]], practices: list[str]) -> dict[tuple[str, str], int]:
    return dict(sum((found[p] for p in practices if p in found), Counter()))


def representation(counts: dict[tuple[str, str], int], registered: dict[tuple[str, str], int]) -> dict[str, Any]:
    """Members against the registered population by age band and sex, disclosure
    controlled, with the representativeness score (min rate / max rate)."""
    bands = sorted(registered)
    cells = [Cell(f"{a}|{s}", counts.get((a, s), 0)) for a, s in bands]
    root = protect(Cell("members", sum(c.count for c in cells), cells))
    rows, rates, hidden = [], [], False
    for (age, sex), cell in zip(bands, root.children, strict=True):
        patients = registered[(age, sex)]
        rate = 1000 * cell.count / patients if patients else None
        hidden = hidden or cell.suppressed
        rows.append(
            {
                "age_band": age,
                "sex": sex,
                "members": cell.shown,
                "registered_patients": patients,
                "per_1000": SUPPRESSED if cell.suppressed else (round(rate, 2) if rate is not None else None),
            }
        )
        if rate is not None:
            rates.append(rate)
    score: float | str | None = None
    if rates and max(rates) > 0:
        score = SUPPRESSED if hidden else round(min(rates) / max(rates), 3)
    return {"bands": rows, "members_in_bands": root.shown, "representativeness": score}


async def membership_scorecard(session: AsyncSession, organisations: Organisations, code: str) -> dict[str, Any]:
    practices = _practices(organisations, code)
    registered_total = population().registered(practices)
    found = await _active_by_practice_and_band(session, practices)
    by_band = _by_band(found, practices)
    members = sum(by_band.values())
    shown_members = shown_count(members)
    not_stated = sum(n for (a, s), n in by_band.items() if "not_stated" in (a, s) or "prefer_not_to_say" in (a, s))
    places = [c for c in organisations.descendants(code) if (o := organisations.get(c)) and o.kind is Kind.PLACE]
    by_place = {}
    for place in places:
        place_practices = _practices(organisations, place)
        by_place[place] = representation(
            _by_band(found, place_practices), population().by_band_and_sex(place_practices)
        )
    ppg_rows = await session.execute(
        select(GroupMemberFact.organisation_code, func.count())
        .join(MemberFact, MemberFact.member_id == GroupMemberFact.member_id)
        .where(GroupMemberFact.group_kind == GroupKind.PPG.value, GroupMemberFact.active.is_(True))
        .where(MemberFact.status == "active", GroupMemberFact.organisation_code.in_(practices))
        .group_by(GroupMemberFact.organisation_code)
    )
    ppg_sizes = {p: int(n) for p, n in ppg_rows.all()}
    answered = await session.execute(
        select(InvitationFact.answer, func.count(), func.count().filter(InvitationFact.attended.is_(True)))
        .where(InvitationFact.organisation_code.in_(organisations.descendants(code)))
        .group_by(InvitationFact.answer)
    )
    by_answer = {a: (int(n), int(came)) for a, n, came in answered.all()}
    replies = {a: by_answer.get(a, (0, 0))[0] for a in ("yes", "no", "maybe")}
    return {
        "formulae": FORMULAE,
        "members": shown_members,
        "members_per_1000_registered": (
            SUPPRESSED
            if shown_members == SUPPRESSED
            else round(1000 * members / registered_total, 2)
            if registered_total
            else None
        ),
        "members_not_stating_age_or_sex": shown_count(not_stated),
        "representation": representation(by_band, population().by_band_and_sex(practices)),
        "representativeness_by_place": {p: r["representativeness"] for p, r in by_place.items()},
        "ppg_coverage": {
            "practices": len(practices),
            "practices_with_active_ppg": len(ppg_sizes),
            "share": round(len(ppg_sizes) / len(practices), 3) if practices else None,
            "ppg_members": {p: shown_count(n) for p, n in sorted(ppg_sizes.items())},
        },
        "invitations": {
            **protect_counts(
                {"replied_" + a: n for a, n in replies.items()} | {"no_reply": by_answer.get(None, (0, 0))[0]},
                total_key="invited",
            ),
            "attended": shown_count(sum(came for _, came in by_answer.values())),
        },
    }
