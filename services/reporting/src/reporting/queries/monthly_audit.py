"""The disclosure audit over a month's outputs, for operators (``reporting audit MONTH``).

For every organisation a reader may ask about, and every service area with answers that
month (and all of them together), it takes the FFT table as published (the API rows, and
the CSV read back) and audits it from its shown figures alone (``published_fft``); it
audits the month's theme report of each organisation (overall mentions beside the
monthly trend); and it reports the scorecard's own audit. The ICB's table and themes are
what the month's snapshot event carries."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Organisations
from reporting.models import FeedbackCount
from reporting.queries.fft import FftFilter, answered, fft_report
from reporting.queries.scorecard import scorecard
from reporting.queries.themes import theme_counts
from reporting.rules import fft_csv
from reporting.rules.disclosure_audit import Finding, audit
from reporting.rules.publication import publish_themes, published_fft


@dataclass
class OutputAudit:
    output: str
    starred: int
    extra: int
    findings: list[Finding] = field(default_factory=list)


async def audit_month(session: AsyncSession, organisations: Organisations, month: str) -> list[OutputAudit]:
    areas = sorted(
        {
            a
            for (a,) in (
                await session.execute(
                    select(FeedbackCount.service_area).where(FeedbackCount.month == month, answered(FeedbackCount) > 0)
                )
            ).all()
        }
    )
    results: list[OutputAudit] = []
    for org in organisations:
        if org.successor is not None:
            continue
        for area in [None, *areas]:
            filters = FftFilter(month=month, service_area=area)
            report = await fft_report(session, organisations, org.code, filters)
            shown = audit(published_fft(report["rows"]), intervals=True)
            name = f"fft {org.code} {area or 'all services'}"
            results.append(OutputAudit(name, shown.checked, len(report["extra_suppression"]), shown.findings))
            back = fft_csv.read(fft_csv.write(report["rows"], organisations, month))
            csv_audit = audit(published_fft(back), intervals=True)
            results.append(OutputAudit(f"csv {name[4:]}", csv_audit.checked, 0, csv_audit.findings))
        totals, by_month = await theme_counts(session, organisations, org.code, month)
        _, _, pub, _ = publish_themes({t: m for t, (m, _) in totals.items()}, by_month, month)
        themes = audit(pub, intervals=True)
        results.append(OutputAudit(f"themes {org.code}", themes.checked, len(pub.extra), themes.findings))
        card = await scorecard(session, organisations, org.code)
        results.append(OutputAudit(f"scorecard {org.code}", card["audit"]["starred_counts"], 0, []))
        if card["audit"]["recoverable"]:
            results[-1].findings.append(Finding((org.code, "scorecard"), 0, "recoverable exactly"))
    return results
