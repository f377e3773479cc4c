"""Themes and sentiment of free text for an organisation and those under it, with their
trend by month, published under ``nhse-fft-v1`` and audited."""

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Organisations
from reporting.models import ThemeCount
from reporting.rules.disclosure import SUPPRESSED
from reporting.rules.publication import RULE_SET, publish_themes


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
