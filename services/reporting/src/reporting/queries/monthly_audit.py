"""The disclosure audit over a month's outputs, for operators (``reporting audit MONTH``), one
ICB at a time (a hub may serve several; each ICB's readers see only its own organisations).

First, across outputs: every FFT table the ICB's reader can open (each organisation, each
month and all months) and every trend, side by side, audited as one (``published_view``).
Then for every organisation a reader may ask about, and every service area with answers that
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
from reporting.queries.fft import FftFilter, answered, answers_by_month, fft_report, fft_views
from reporting.queries.scorecard import scorecard
from reporting.queries.themes import theme_counts
from reporting.rules import fft_csv
from reporting.rules.cross_output import ALL, published_view
from reporting.rules.disclosure_audit import Finding, audit
from reporting.rules.publication import publish_themes, published_fft


@dataclass
class OutputAudit:
    output: str
    starred: int
    extra: int
    findings: list[Finding] = field(default_factory=list)


async def _across_outputs(session: AsyncSession, organisations: Organisations, icb: str, month: str) -> OutputAudit:
    """Everything the ICB's reader can put side by side, audited together from what is shown:
    every organisation's table of ``month``, of every other month and of all months (all
    services), and every organisation's trend."""
    views = await fft_views(session, organisations, icb, None)
    codes = [o.code for o in organisations if o.successor is None and o.code in views.trees.get(ALL, {})]
    labels = [m for m in views.labels if m != ALL]
    tables = [(label, views.table(code, label).rows) for label in [*labels, ALL] for code in codes]
    trends = {code: views.trend(code, sorted(await answers_by_month(session, organisations, code))) for code in codes}
    report = audit(published_view(tables, trends, labels), intervals=True)
    name = (
        f"fft across outputs: {len(codes)} organisations x {len(labels)} months + all months, trends ({month} in them)"
    )
    return OutputAudit(name, report.checked, len(views.publication.extra), report.findings)


async def audit_month(session: AsyncSession, organisations: Organisations, icb: str, month: str) -> list[OutputAudit]:
    """The audit of ``icb``'s outputs of ``month``: its organisations' only."""
    if icb not in organisations.icbs():
        raise KeyError(f"'{icb}' is not an ICB this hub holds")
    own = set(organisations.descendants(icb))
    areas = sorted(
        {
            a
            for (a,) in (
                await session.execute(
                    select(FeedbackCount.service_area).where(
                        FeedbackCount.month == month,
                        answered(FeedbackCount) > 0,
                        FeedbackCount.organisation_code.in_(sorted(own)),
                    )
                )
            ).all()
        }
    )
    results: list[OutputAudit] = [await _across_outputs(session, organisations, icb, month)]
    for org in organisations:
        if org.successor is not None or org.code not in own:
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
