"""Report queries: figures for an organisation and the organisations under it, published
under the rule set ``nhse-fft-v1`` (``reporting.publication``) and audited before anything
leaves this module."""

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Kind, Organisations
from reporting.disclosure import SUPPRESSED
from reporting.fft import ANSWERS, FORMULAE
from reporting.handlers import CHANNELS, FFT_FIGURES
from reporting.membership_measures import membership_scorecard
from reporting.models import FeedbackCount, FeedbackFact, FftReturnCount, ResponseFact, ThemeCount
from reporting.population import population
from reporting.publication import (
    MODES,
    RULE_SET,
    RULE_SET_SUMMARY,
    FftTable,
    OrgFigures,
    publish_fft,
    publish_scorecard_counts,
    publish_themes,
    trend_input,
    trend_rows,
)


@dataclass
class FftFilter:
    month: str | None = None
    service_area: str | None = None


@dataclass
class OrgCounts:
    answers: dict[str, dict[str, int]]
    modes: dict[str, dict[str, int]]


def _fft_sums(model: Any) -> list[Any]:
    return [func.sum(getattr(model, name)) for name in FFT_FIGURES]


def _add(counts: OrgCounts, code: str, sums: Sequence[Any]) -> None:
    answers, modes = counts.answers[code], counts.modes[code]
    for answer, n in zip(ANSWERS, sums[: len(ANSWERS)], strict=True):
        answers[answer] += int(n or 0)
    for mode, n in zip(MODES, sums[len(ANSWERS) :], strict=True):
        modes[mode] += int(n or 0)


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

    def build(node: str) -> OrgFigures:
        children = [build(c.code) for c in organisations if c.parent == node and c.successor is None]
        answers = dict(counts.answers.get(node, dict.fromkeys(ANSWERS, 0)))
        modes = dict(counts.modes.get(node, dict.fromkeys(MODES, 0)))
        for child in children:
            for a in ANSWERS:
                answers[a] += child.answers[a]
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


async def fft_table(
    session: AsyncSession,
    organisations: Organisations,
    code: str,
    filters: FftFilter,
    trend: dict[str, dict[str, int]] | None = None,
) -> FftTable:
    """The table under nhse-fft-v1; with ``trend`` (the organisation's answers by month, as the
    dashboard shows beside it) audited together with that trend."""
    counts = await fft_counts_by_org(session, organisations.descendants(code), filters)
    root = org_tree(organisations, code, counts)
    link = None if filters.service_area else (filters.month or "all")
    return publish_fft(organisations, root, trend_input(code, trend, link) if trend is not None else None)


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
    """% positive by month for the organisation (nhse-v1 under nhse-fft-v1)."""
    return trend_rows(await answers_by_month(session, organisations, code))


async def theme_counts(
    session: AsyncSession, organisations: Organisations, code: str, month: str | None
) -> tuple[dict[str, tuple[int, float]], dict[str, dict[str, int]]]:
    """Mentions and summed sentiment by theme (in ``month``, or all), and mentions by month."""
    codes = organisations.descendants(code)
    query = (
        select(ThemeCount.theme, func.sum(ThemeCount.mentions), func.sum(ThemeCount.sentiment_sum))
        .where(ThemeCount.organisation_code.in_(codes))
        .group_by(ThemeCount.theme)
    )
    if month:
        query = query.where(ThemeCount.month == month)
    totals = {theme: (int(m), float(s)) for theme, m, s in (await session.execute(query)).all()}
    by_month_rows = await session.execute(
        select(ThemeCount.month, ThemeCount.theme, func.sum(ThemeCount.mentions))
        .where(ThemeCount.organisation_code.in_(codes))
        .group_by(ThemeCount.month, ThemeCount.theme)
    )
    by_month: dict[str, dict[str, int]] = defaultdict(dict)
    for m, theme, n in by_month_rows.all():
        by_month[m][theme] = int(n)
    return totals, dict(by_month)


async def theme_report(
    session: AsyncSession, organisations: Organisations, code: str, month: str | None
) -> dict[str, Any]:
    totals, by_month = await theme_counts(session, organisations, code, month)
    shown, shown_months, _, report = publish_themes({t: m for t, (m, _) in totals.items()}, by_month, month)
    themes = [
        {
            "theme": theme,
            "mentions": shown[theme],
            "mean_sentiment": round(s / m, 3) if shown[theme] != SUPPRESSED and m else (SUPPRESSED if m else None),
        }
        for theme, (m, s) in sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))
        if m
    ]
    trend = [{"month": m, **counts} for m, counts in shown_months.items()]
    return {
        "organisation_code": code,
        "month": month,
        "taxonomy": "themes-v1",
        "rule_set": RULE_SET,
        "audit": {"starred_counts": report.checked, "recoverable": len(report.findings)},
        "themes": themes,
        "trend": trend,
    }


async def comments(
    session: AsyncSession, organisations: Organisations, code: str, month: str | None, limit: int
) -> list[dict[str, Any]]:
    """Free text, newest first. Text flagged for review is left out until a reviewer clears it."""
    query = (
        select(FeedbackFact)
        .where(FeedbackFact.organisation_code.in_(organisations.descendants(code)), FeedbackFact.text.is_not(None))
        .where((FeedbackFact.review_required.is_(False)) | (FeedbackFact.review_decision == "cleared"))
        .order_by(FeedbackFact.received_at.desc())
        .limit(limit)
    )
    if month:
        query = query.where(FeedbackFact.month == month)
    return [
        {
            "organisation_code": f.organisation_code,
            "month": f.month,
            "service_area": f.service_area,
            "text": f.text,
            "sentiment": f.sentiment,
            "themes": f.themes,
        }
        for f in (await session.scalars(query)).all()
    ]


def _median_days(pairs: list[tuple[Any, Any]]) -> float | None:
    days = [(end - start).total_seconds() / 86400 for start, end in pairs if start is not None and end is not None]
    return round(statistics.median(days), 1) if days else None


async def scorecard(session: AsyncSession, organisations: Organisations, code: str) -> dict[str, Any]:
    """Involvement per organisation: volume, rate per 1,000 registered patients, channels,
    and 'you said, we did'. Measures from membership and notification slot in as those
    services publish their events (``pending_measures``). Counted in SQL from the rollups."""
    codes = organisations.descendants(code)
    practices = [c for c in codes if (o := organisations.get(c)) is not None and o.kind is Kind.PRACTICE]
    # Two statements: the counts of people, then "you said, we did".
    returned = select(func.sum(answered(FftReturnCount))).where(FftReturnCount.organisation_code.in_(codes))
    *by_channel, returns = (
        await session.execute(
            select(
                *(func.sum(getattr(FeedbackCount, f"channel_{c}")) for c in CHANNELS), returned.scalar_subquery()
            ).where(FeedbackCount.organisation_code.in_(codes))
        )
    ).one()
    channel_counts = {c: int(n) for c, n in zip(CHANNELS, by_channel, strict=True) if n}
    volume = sum(channel_counts.values())
    return_responses = int(returns or 0)
    registered = population().registered(practices)
    raised = select(ThemeCount.theme).where(ThemeCount.organisation_code.in_(codes)).distinct()
    of_codes = ResponseFact.organisation_code.in_(codes)
    answered_themes = select(func.count(ResponseFact.theme.distinct())).where(of_codes, ResponseFact.theme.in_(raised))
    themes_raised, themes_answered = (
        await session.execute(
            select(
                select(func.count()).select_from(raised.subquery()).scalar_subquery(), answered_themes.scalar_subquery()
            )
        )
    ).one()
    # Responses are a few per theme and month, not one per feedback: their times come back
    # as rows and the medians are taken here, the same on PostgreSQL and SQLite.
    times = (
        await session.execute(
            select(ResponseFact.earliest_feedback_at, ResponseFact.first_responded_at, ResponseFact.changed_at).where(
                of_codes
            )
        )
    ).all()
    responses = len(times)
    to_response = _median_days([(earliest, responded) for earliest, responded, _ in times])
    to_change = _median_days([(earliest.date() if earliest else None, changed) for earliest, _, changed in times])
    total_volume = volume + return_responses
    counted, _, counts_audit = publish_scorecard_counts(channel_counts, volume, return_responses)
    channels = {c: counted[f"channel:{c}"] for c in channel_counts}
    small = counted["feedback_volume"] == SUPPRESSED
    return {
        "organisation_code": code,
        "rule_set": RULE_SET,
        "audit": {"starred_counts": counts_audit.checked, "recoverable": len(counts_audit.findings)},
        "feedback_volume": counted["feedback_volume"],
        "individual_submissions": counted["individual_submissions"],
        "fft_return_responses": counted["fft_return_responses"],
        "registered_patients": registered,
        "rate_per_1000_registered": (
            SUPPRESSED if small else round(1000 * total_volume / registered, 1) if registered else None
        ),
        "channels": channels,
        "involvement_channels_used": sorted(
            c for c in ("ppg_meeting", "coproduction_workshop") if channels.get(c) not in (None, 0)
        ),
        "you_said_we_did": {
            "themes_raised": themes_raised,
            "themes_with_published_response": themes_answered,
            "share_of_themes_answered": round(themes_answered / themes_raised, 3) if themes_raised else None,
            "responses": responses,
            "median_days_to_response": to_response,
            "median_days_to_change": to_change,
        },
        "membership": await membership_scorecard(session, organisations, code),
        "pending_measures": {
            "invitations_and_email_reach": "awaits notification events",
        },
    }
