"""Membership measures from membership's events: members per 1,000 registered patients,
members against the registered population by age band and sex with a representativeness
score per place, PPG coverage, and invitations, replies and attendance. Every figure
leaves through the same disclosure control as the rest of reporting."""

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import GroupKind
from hub_shared.organisations import Kind, Organisations
from reporting.models import GroupMemberFact, InvitationFact, MemberFact
from reporting.queries.population import population
from reporting.rules.disclosure import SUPPRESSED, protect_counts, shown_count
from reporting.rules.representation import representation

FORMULAE = {
    "members_per_1000_registered": "1000 x confirmed members still in / registered patients",
    "participation_rate": "members in the band per 1,000 registered patients in the band",
    "representativeness": (
        "per place: participation rate of its least-represented age band and sex over its most-represented one "
        "(1 = members mirror the population, 0 = a band has no members); '*' when a band's count is suppressed"
    ),
    "ppg_coverage": "practices with a PPG of at least one current member / practices",
}


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


async def membership_scorecard(session: AsyncSession, organisations: Organisations, code: str) -> dict[str, Any]:
    practices = organisations.practices_under(code)
    registered_total = population().registered(practices)
    found = await _active_by_practice_and_band(session, practices)
    by_band = _by_band(found, practices)
    members = sum(by_band.values())
    shown_members = shown_count(members)
    not_stated = sum(n for (a, s), n in by_band.items() if "not_stated" in (a, s) or "prefer_not_to_say" in (a, s))
    places = [c for c in organisations.descendants(code) if (o := organisations.get(c)) and o.kind is Kind.PLACE]
    by_place = {}
    for place in places:
        place_practices = organisations.practices_under(place)
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
