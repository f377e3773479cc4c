"""Report queries: figures for an organisation and the organisations under it, with
disclosure control applied before anything leaves this module."""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Kind, Organisations
from reporting.disclosure import SUPPRESSED, Cell, protect, protect_counts, shown_count
from reporting.fft import ANSWERS, FORMULAE, scores
from reporting.membership_measures import membership_scorecard
from reporting.models import FeedbackFact, FftCount, FftReturnFact, ResponseFact, ThemeCount
from reporting.population import population


@dataclass
class FftFilter:
    month: str | None = None
    service_area: str | None = None


async def fft_counts_by_org(session: AsyncSession, codes: list[str], filters: FftFilter) -> dict[str, dict[str, int]]:
    """Answer counts per organisation code (as counted: merged practices already moved)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ANSWERS, 0))
    query = (
        select(FftCount.organisation_code, FftCount.answer, func.sum(FftCount.responses))
        .where(FftCount.organisation_code.in_(codes))
        .group_by(FftCount.organisation_code, FftCount.answer)
    )
    if filters.month:
        query = query.where(FftCount.month == filters.month)
    if filters.service_area:
        query = query.where(FftCount.service_area == filters.service_area)
    for code, answer, total in (await session.execute(query)).all():
        counts[code][answer] += int(total)
    # Monthly returns are general practice FFT: they belong to that service area only.
    if filters.service_area in (None, "general_practice"):
        returns = select(FftReturnFact).where(FftReturnFact.organisation_code.in_(codes))
        if filters.month:
            returns = returns.where(FftReturnFact.month == filters.month)
        for fact in (await session.scalars(returns)).all():
            for answer, n in fact.answers.items():
                counts[fact.organisation_code][answer] += int(n)
    return counts


def _tree(
    organisations: Organisations, code: str, leaf_counts: dict[str, dict[str, int]]
) -> tuple[Cell, dict[str, dict[str, int]]]:
    """The organisation's total over its children's totals, and every node's answer counts."""
    answers: dict[str, dict[str, int]] = {}

    def build(node: str) -> Cell:
        own = dict(leaf_counts.get(node, dict.fromkeys(ANSWERS, 0)))
        children = [build(c.code) for c in organisations if c.parent == node and c.successor is None]
        for child in children:
            for answer, n in answers[child.key].items():
                own[answer] += n
        answers[node] = own
        return Cell(node, sum(own.values()), children)

    return build(code), answers


def _row(organisations: Organisations, cell: Cell, answers: dict[str, int]) -> dict[str, Any]:
    answer_cells = protect(
        Cell("total", cell.count, [Cell(a, answers[a]) for a in ANSWERS], suppressed=cell.suppressed)
    )
    shown = {c.key: c.shown for c in answer_cells.children}
    s = scores(answers)
    org = organisations.get(cell.key)
    visible = not cell.suppressed
    return {
        "organisation_code": cell.key,
        "name": org.name if org else cell.key,
        "kind": org.kind.value if org else None,
        "parent": org.parent if org else None,
        "total": cell.shown,
        "answers": shown,
        "pct_positive": s.pct_positive if visible else SUPPRESSED if s.total else None,
        "pct_negative": s.pct_negative if visible else SUPPRESSED if s.total else None,
        "pct_positive_excl_dont_know": s.pct_positive_excl_dont_know if visible else SUPPRESSED if s.total else None,
        "pct_negative_excl_dont_know": s.pct_negative_excl_dont_know if visible else SUPPRESSED if s.total else None,
    }


async def fft_report(
    session: AsyncSession, organisations: Organisations, code: str, filters: FftFilter
) -> dict[str, Any]:
    codes = organisations.descendants(code)
    counts = await fft_counts_by_org(session, codes, filters)
    root, answers = _tree(organisations, code, counts)
    protect(root)
    rows = []

    def walk(cell: Cell) -> None:
        rows.append(_row(organisations, cell, answers[cell.key]))
        for child in cell.children:
            walk(child)

    walk(root)
    return {
        "organisation_code": code,
        "month": filters.month,
        "service_area": filters.service_area,
        "formulae": FORMULAE,
        "suppression": "NHS England FFT rules: counts 1-4 shown as *",
        "rows": rows,
    }


async def fft_trend(session: AsyncSession, organisations: Organisations, code: str) -> list[dict[str, Any]]:
    """% positive by month for the organisation (nhse-v1), suppressed months shown as *."""
    codes = organisations.descendants(code)
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ANSWERS, 0))
    rows = await session.execute(
        select(FftCount.month, FftCount.answer, func.sum(FftCount.responses))
        .where(FftCount.organisation_code.in_(codes))
        .group_by(FftCount.month, FftCount.answer)
    )
    for month, answer, n in rows.all():
        by_month[month][answer] += int(n)
    for fact in (await session.scalars(select(FftReturnFact).where(FftReturnFact.organisation_code.in_(codes)))).all():
        for answer, n in fact.answers.items():
            by_month[fact.month][answer] += int(n)
    trend = []
    for month in sorted(by_month):
        s = scores(by_month[month])
        small = shown_count(s.total) == SUPPRESSED
        trend.append(
            {
                "month": month,
                "total": SUPPRESSED if small else s.total,
                "pct_positive": SUPPRESSED if small else s.pct_positive,
            }
        )
    return trend


async def theme_report(
    session: AsyncSession, organisations: Organisations, code: str, month: str | None
) -> dict[str, Any]:
    codes = organisations.descendants(code)
    query = (
        select(ThemeCount.theme, func.sum(ThemeCount.mentions), func.sum(ThemeCount.sentiment_sum))
        .where(ThemeCount.organisation_code.in_(codes))
        .group_by(ThemeCount.theme)
    )
    if month:
        query = query.where(ThemeCount.month == month)
    totals = {theme: (int(m), float(s)) for theme, m, s in (await session.execute(query)).all()}
    shown = protect_counts({t: m for t, (m, _) in totals.items()}, total_key="mentions")
    themes = [
        {
            "theme": theme,
            "mentions": shown[theme],
            "mean_sentiment": round(s / m, 3) if shown[theme] != SUPPRESSED and m else (SUPPRESSED if m else None),
        }
        for theme, (m, s) in sorted(totals.items(), key=lambda kv: -kv[1][0])
    ]
    by_month_rows = await session.execute(
        select(ThemeCount.month, ThemeCount.theme, func.sum(ThemeCount.mentions))
        .where(ThemeCount.organisation_code.in_(codes))
        .group_by(ThemeCount.month, ThemeCount.theme)
    )
    by_month: dict[str, dict[str, int]] = defaultdict(dict)
    for m, theme, n in by_month_rows.all():
        by_month[m][theme] = int(n)
    trend = [
        {"month": m, **{k: v for k, v in protect_counts(c, "mentions").items()}} for m, c in sorted(by_month.items())
    ]
    return {"organisation_code": code, "month": month, "taxonomy": "themes-v1", "themes": themes, "trend": trend}


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
    services publish their events (``pending_measures``)."""
    codes = organisations.descendants(code)
    practices = [c for c in codes if (o := organisations.get(c)) is not None and o.kind is Kind.PRACTICE]
    volume = int(
        await session.scalar(
            select(func.count()).select_from(FeedbackFact).where(FeedbackFact.organisation_code.in_(codes))
        )
        or 0
    )
    returns = (await session.scalars(select(FftReturnFact).where(FftReturnFact.organisation_code.in_(codes)))).all()
    return_responses = sum(sum(r.answers.values()) for r in returns)
    channel_rows = await session.execute(
        select(FeedbackFact.channel, func.count())
        .where(FeedbackFact.organisation_code.in_(codes))
        .group_by(FeedbackFact.channel)
    )
    channels = protect_counts({c: int(n) for c, n in channel_rows.all()}, total_key="submissions")
    registered = population().registered(practices)
    theme_rows = await session.execute(
        select(ThemeCount.theme).where(ThemeCount.organisation_code.in_(codes)).distinct()
    )
    themes_raised = {t for (t,) in theme_rows.all()}
    responses = (await session.scalars(select(ResponseFact).where(ResponseFact.organisation_code.in_(codes)))).all()
    themes_answered = {r.theme for r in responses if r.theme} & themes_raised
    total_volume = volume + return_responses
    small = shown_count(total_volume) == SUPPRESSED
    return {
        "organisation_code": code,
        "feedback_volume": SUPPRESSED if small else total_volume,
        "individual_submissions": shown_count(volume),
        "fft_return_responses": shown_count(return_responses),
        "registered_patients": registered,
        "rate_per_1000_registered": (
            SUPPRESSED if small else round(1000 * total_volume / registered, 1) if registered else None
        ),
        "channels": channels,
        "involvement_channels_used": sorted(
            c for c in ("ppg_meeting", "coproduction_workshop") if channels.get(c) not in (None, 0)
        ),
        "you_said_we_did": {
            "themes_raised": len(themes_raised),
            "themes_with_published_response": len(themes_answered),
            "share_of_themes_answered": round(len(themes_answered) / len(themes_raised), 3) if themes_raised else None,
            "responses": len(responses),
            "median_days_to_response": _median_days(
                [(r.earliest_feedback_at, r.first_responded_at) for r in responses]
            ),
            "median_days_to_change": _median_days(
                [(r.earliest_feedback_at.date() if r.earliest_feedback_at else None, r.changed_at) for r in responses]
            ),
        },
        "membership": await membership_scorecard(session, organisations, code),
        "pending_measures": {
            "invitations_and_email_reach": "awaits notification events",
        },
    }
