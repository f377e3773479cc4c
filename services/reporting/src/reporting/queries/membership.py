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
from reporting.rules.disclosure import SUPPRESSED, shown_count
from reporting.rules.membership_measures import (
    REPLIES,
    MemberCounts,
    MembershipPublication,
    band_column,
    publish_membership,
)
from reporting.rules.population import Population
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


async def _invitations_by_org(session: AsyncSession, codes: list[str]) -> dict[str, tuple[dict[str, int], int]]:
    """Invitations by reply and attendance, per organisation whose opportunity they were for."""
    answered = await session.execute(
        select(
            InvitationFact.organisation_code,
            InvitationFact.answer,
            func.count(),
            func.count().filter(InvitationFact.attended.is_(True)),
        )
        .where(InvitationFact.organisation_code.in_(codes))
        .group_by(InvitationFact.organisation_code, InvitationFact.answer)
    )
    found: dict[str, tuple[dict[str, int], int]] = {}
    for code, answer, n, came in answered.all():
        replies, attended = found.get(code, (dict.fromkeys(REPLIES, 0), 0))
        column = "no_reply" if answer is None else f"replied_{answer}"
        if column in replies:
            replies[column] += int(n)
        found[code] = (replies, attended + int(came))
    return found


async def member_counts(
    session: AsyncSession, organisations: Organisations, icb: str, registered_population: Population
) -> MemberCounts:
    """Every organisation's membership counts under the ICB (everything under it included),
    in the bands of its registered population."""
    found = await _active_by_practice_and_band(session, organisations.practices_under(icb))
    invitations = await _invitations_by_org(session, organisations.descendants(icb))

    def build(code: str) -> MemberCounts:
        children = [build(o.code) for o in organisations if o.parent == code]
        practices = organisations.practices_under(code)
        by_band = _by_band(found, practices)
        registered = registered_population.by_band_and_sex(practices)
        bands = {b: by_band.get(b, 0) for b in sorted(registered)}
        not_stated = sum(n for (a, s), n in by_band.items() if _not_stated(a) or _not_stated(s))
        other = sum(by_band.values()) - sum(bands.values()) - not_stated
        replies, attended = invitations.get(code, (dict.fromkeys(REPLIES, 0), 0))
        replies = {r: replies[r] + sum(c.invitations[r] for c in children) for r in REPLIES}
        attended += sum(c.attended for c in children)
        return MemberCounts(code, bands, not_stated, other, replies, attended, children)

    return build(icb)


def _not_stated(answer: str) -> bool:
    return answer in ("not_stated", "prefer_not_to_say")


def _representation(
    published: MembershipPublication, node: MemberCounts, registered_population: Population, practices: list[str]
) -> dict[str, Any]:
    shown = {b: published.shown(node.code, band_column(b)) for b in node.bands}
    registered = registered_population.by_band_and_sex(practices)
    return representation(node.bands, registered, shown, published.shown(node.code, "members_in_bands"))


async def membership_scorecard(session: AsyncSession, organisations: Organisations, code: str) -> dict[str, Any]:
    """``code``'s membership measures: one view of every organisation's under its ICB,
    published and audited together (``reporting.rules.membership_measures``)."""
    icb = organisations.icb_of(code)
    registered_population = await population(session)
    root = await member_counts(session, organisations, icb, registered_population)
    nodes = {n.code: n for n in _nodes(root)}
    published = publish_membership(root)
    node = nodes[code.upper()]
    practices = organisations.practices_under(code)
    registered_total = registered_population.registered(practices)
    members = published.shown(node.code, "members")
    places = [c for c in nodes if (o := organisations.get(c)) and o.kind is Kind.PLACE and c in _subtree(node)]
    ppg_rows = await session.execute(
        select(GroupMemberFact.organisation_code, func.count())
        .join(MemberFact, MemberFact.member_id == GroupMemberFact.member_id)
        .where(GroupMemberFact.group_kind == GroupKind.PPG.value, GroupMemberFact.active.is_(True))
        .where(MemberFact.status == "active", GroupMemberFact.organisation_code.in_(practices))
        .group_by(GroupMemberFact.organisation_code)
    )
    ppg_sizes = {p: int(n) for p, n in ppg_rows.all()}
    return {
        "formulae": FORMULAE,
        "members": members,
        "members_per_1000_registered": (
            SUPPRESSED
            if members == SUPPRESSED
            else round(1000 * node.members / registered_total, 2)
            if registered_total
            else None
        ),
        "members_not_stating_age_or_sex": published.shown(node.code, "not_stated"),
        "registered_population_month": registered_population.month,
        "representation": _representation(published, node, registered_population, practices),
        "representativeness_by_place": {
            p: _representation(published, nodes[p], registered_population, organisations.practices_under(p))[
                "representativeness"
            ]
            for p in places
        },
        "ppg_coverage": {
            "practices": len(practices),
            "practices_with_active_ppg": len(ppg_sizes),
            "share": round(len(ppg_sizes) / len(practices), 3) if practices else None,
            "ppg_members": {p: shown_count(n) for p, n in sorted(ppg_sizes.items())},
        },
        "invitations": {
            "invited": published.shown(node.code, "invited"),
            **{r: published.shown(node.code, r) for r in REPLIES},
            "attended": published.shown(node.code, "attended"),
        },
        "extra_suppression": published.extra(node.code),
        "audit": {"starred_counts": published.audit.checked, "recoverable": len(published.audit.findings)},
    }


def _nodes(node: MemberCounts) -> list[MemberCounts]:
    return [node, *[n for c in node.children for n in _nodes(c)]]


def _subtree(node: MemberCounts) -> set[str]:
    return {n.code for n in _nodes(node)}
