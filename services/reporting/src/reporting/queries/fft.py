"""FFT figures for an organisation and the organisations under it, from the rollups,
published under the rule set ``nhse-fft-v1`` (``reporting.rules.publication``) and audited
before anything leaves this module: the table, the report and the trend by month."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Organisations
from reporting.models import FFT_FIGURES, FeedbackCount, FftReturnCount
from reporting.rules.cross_output import ALL, FftViews, fft_views_off_loop
from reporting.rules.fft import ANSWERS, FORMULAE, MODES
from reporting.rules.publication import (
    RULE_SET,
    RULE_SET_SUMMARY,
    FftTable,
    OrgFigures,
    publish_fft,
)


@dataclass
class FftFilter:
    month: str | None = None
    service_area: str | None = None


ZERO_ANSWERS = dict.fromkeys(ANSWERS, 0)
ZERO_MODES = dict.fromkeys(MODES, 0)


@dataclass
class OrgCounts:
    answers: dict[str, dict[str, int]]
    modes: dict[str, dict[str, int]]


def _fft_sums(model: Any) -> list[Any]:
    return [func.sum(getattr(model, name)) for name in FFT_FIGURES]


def _add(counts: OrgCounts, code: str, sums: Sequence[Any]) -> None:
    # A report reads a row per organisation and month: this runs thousands of times a request.
    answers, modes = counts.answers[code], counts.modes[code]
    for i, answer in enumerate(ANSWERS):
        if sums[i]:
            answers[answer] += int(sums[i])
    for i, mode in enumerate(MODES, len(ANSWERS)):
        if sums[i]:
            modes[mode] += int(sums[i])


async def fft_counts_by_org(session: AsyncSession, codes: list[str], filters: FftFilter) -> OrgCounts:
    """Answer and collection-mode counts per organisation code (as counted: merged practices
    already moved). An individual submission's mode is its channel (other channels: Other);
    a monthly return's modes are as returned (a return without them adds to no mode)."""
    counts = OrgCounts(defaultdict(lambda: dict.fromkeys(ANSWERS, 0)), defaultdict(lambda: dict.fromkeys(MODES, 0)))
    query = (
        select(FeedbackCount.organisation_code, *_fft_sums(FeedbackCount))
        .where(FeedbackCount.organisation_code.in_(codes))
        .group_by(FeedbackCount.organisation_code)
    )
    if filters.month:
        query = query.where(FeedbackCount.month == filters.month)
    if filters.service_area:
        query = query.where(FeedbackCount.service_area == filters.service_area)
    for code, *sums in (await session.execute(query)).all():
        _add(counts, code, sums)
    # Monthly returns are general practice FFT: they belong to that service area only.
    if filters.service_area in (None, "general_practice"):
        returned = (
            select(FftReturnCount.organisation_code, *_fft_sums(FftReturnCount))
            .where(FftReturnCount.organisation_code.in_(codes))
            .group_by(FftReturnCount.organisation_code)
        )
        if filters.month:
            returned = returned.where(FftReturnCount.month == filters.month)
        for code, *sums in (await session.execute(returned)).all():
            _add(counts, code, sums)
    return counts


def org_tree(organisations: Organisations, code: str, counts: OrgCounts) -> OrgFigures:
    """The organisation's figures, everything under it included, over its children's."""

    under: dict[str, list[str]] = defaultdict(list)  # one pass, not one per organisation of the tree
    for org in organisations:
        if org.parent is not None and org.successor is None:
            under[org.parent].append(org.code)

    def build(node: str) -> OrgFigures:
        children = [build(c) for c in under.get(node, ())]
        answers = dict(counts.answers.get(node, ZERO_ANSWERS))
        modes = dict(counts.modes.get(node, ZERO_MODES))
        for child in children:
            if child.answers != ZERO_ANSWERS:
                for a in ANSWERS:
                    answers[a] += child.answers[a]
            if child.modes != ZERO_MODES:
                for m in MODES:
                    modes[m] += child.modes[m]
        return OrgFigures(node, answers, modes, children)

    return build(code)


def _report(table: FftTable, code: str, filters: FftFilter) -> dict[str, Any]:
    return {
        "organisation_code": code,
        "month": filters.month,
        "service_area": filters.service_area,
        "rule_set": RULE_SET,
        "suppression": RULE_SET_SUMMARY,
        "formulae": FORMULAE,
        "extra_suppression": table.extra_suppression,
        "audit": {"starred_counts": table.audit.checked, "recoverable": len(table.audit.findings)},
        "rows": table.rows,
    }


async def counts_by_month(
    session: AsyncSession, organisations: Organisations, icb: str, service_area: str | None
) -> dict[str, OrgCounts]:
    """Answer and mode counts per organisation of the ICB, per month (``fft_counts_by_org``'s, for
    every month at once)."""
    codes = organisations.descendants(icb)
    by_month: dict[str, OrgCounts] = {}

    def of(month: str) -> OrgCounts:
        if month not in by_month:
            fresh = OrgCounts(
                defaultdict(lambda: dict.fromkeys(ANSWERS, 0)), defaultdict(lambda: dict.fromkeys(MODES, 0))
            )
            by_month[month] = fresh
        return by_month[month]

    query = (
        select(FeedbackCount.month, FeedbackCount.organisation_code, *_fft_sums(FeedbackCount))
        .where(FeedbackCount.organisation_code.in_(codes))
        .group_by(FeedbackCount.month, FeedbackCount.organisation_code)
    )
    if service_area:
        query = query.where(FeedbackCount.service_area == service_area)
    queries = [query]
    if service_area in (None, "general_practice"):
        queries.append(
            select(FftReturnCount.month, FftReturnCount.organisation_code, *_fft_sums(FftReturnCount))
            .where(FftReturnCount.organisation_code.in_(codes))
            .group_by(FftReturnCount.month, FftReturnCount.organisation_code)
        )
    for q in queries:
        for month, code, *sums in (await session.execute(q)).all():
            _add(of(month), code, sums)
    return by_month


async def fft_views(
    session: AsyncSession, organisations: Organisations, code: str, service_area: str | None
) -> FftViews:
    """Every FFT table (each month and all months, the ICB's and everything under it) and trend
    point of ``code``'s ICB for a service area (or all), published and audited together, so that
    nothing starred in one can be worked out from the others."""
    icb = organisations.icb_of(code)
    by_month = await counts_by_month(session, organisations, icb, service_area)
    trees = {m: org_tree(organisations, icb, counts) for m, counts in by_month.items()}
    return await fft_views_off_loop(organisations, {m: t for m, t in trees.items() if t.total > 0})


async def fft_table(
    session: AsyncSession,
    organisations: Organisations,
    code: str,
    filters: FftFilter,
    trend: dict[str, dict[str, int]] | None = None,
) -> FftTable:
    """The table under nhse-fft-v1, as one view of every table and trend point the same reader
    can see (``fft_views``). ``trend`` (the dashboard's) is one of those views already."""
    views = await fft_views(session, organisations, code, filters.service_area)
    label = filters.month or ALL
    if label in views.trees:
        return views.table(code, label)
    # A month with no responses at all: every count is a shown zero.
    empty = OrgCounts(defaultdict(lambda: dict.fromkeys(ANSWERS, 0)), defaultdict(lambda: dict.fromkeys(MODES, 0)))
    return publish_fft(organisations, org_tree(organisations, code, empty))


async def fft_report(
    session: AsyncSession, organisations: Organisations, code: str, filters: FftFilter
) -> dict[str, Any]:
    return _report(await fft_table(session, organisations, code, filters), code, filters)


def answered(model: Any) -> Any:
    """The number of FFT answers in a rollup row."""
    return sum((getattr(model, a) for a in ANSWERS[1:]), getattr(model, ANSWERS[0]))


async def answers_by_month(session: AsyncSession, organisations: Organisations, code: str) -> dict[str, dict[str, int]]:
    """The organisation's FFT answers (everything under it, every service area) by month:
    the months with individual answers, and those with a monthly return."""
    codes = organisations.descendants(code)
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ANSWERS, 0))
    individual = (
        select(FeedbackCount.month, *(func.sum(getattr(FeedbackCount, a)) for a in ANSWERS))
        .where(FeedbackCount.organisation_code.in_(codes))
        .group_by(FeedbackCount.month)
        .having(func.sum(answered(FeedbackCount)) > 0)  # submissions without an answer count too
    )
    returned = (
        select(FftReturnCount.month, *(func.sum(getattr(FftReturnCount, a)) for a in ANSWERS))
        .where(FftReturnCount.organisation_code.in_(codes))
        .group_by(FftReturnCount.month)
    )
    for query in (individual, returned):
        for month, *sums in (await session.execute(query)).all():
            for answer, n in zip(ANSWERS, sums, strict=True):
                by_month[month][answer] += int(n)
    return dict(by_month)


async def fft_trend(session: AsyncSession, organisations: Organisations, code: str) -> list[dict[str, Any]]:
    """% positive by month for the organisation (nhse-v1 under nhse-fft-v1): each point is the
    organisation's row of that month's table, starred as the table stars it."""
    months = await answers_by_month(session, organisations, code)
    views = await fft_views(session, organisations, code, None)
    return views.trend(code, sorted(months))
