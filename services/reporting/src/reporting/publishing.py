"""What reporting publishes: closed months' disclosure-controlled snapshots on
``reporting.snapshots``, one per ICB and month. When a month closes, an ICB's figures for it, published under the
rule set nhse-fft-v1 and audited like every other output, go out as a report.published.v1
event (through the outbox) for downstream consumers. The rule set's name and summary
travel in ``formulae`` (``rule_set``, ``suppression``); each FFT row says why it is starred
(``suppression``, ``extra_suppression``)."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import ReportPublishedV1
from hub_shared.organisations import Organisations
from hub_shared.outbox import Publisher
from hub_shared.problems import Problem
from hub_shared.topics import REPORTING_SNAPSHOTS
from reporting import SERVICE_NAME
from reporting.models import OutboxMessage, PublishedSnapshot
from reporting.queries.fft import FftFilter, fft_report
from reporting.queries.themes import theme_report
from reporting.rules.fft import FORMULAE
from reporting.rules.publication import RULE_SET, RULE_SET_SUMMARY

publisher = Publisher(source=SERVICE_NAME, outbox=OutboxMessage, topic=REPORTING_SNAPSHOTS.name)


def closed(month: str, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return month < now.strftime("%Y-%m")


async def already_published(session: AsyncSession, organisations: Organisations, icb: str, month: str) -> bool:
    """Whether ``icb``'s snapshot of ``month`` went out: its own row, or a row from before
    snapshots were per ICB (no ICB recorded), which was the one ICB the hub held then and is
    taken as every ICB's when there are several now, so that none is published twice."""
    icbs = {
        code
        for (code,) in (
            await session.execute(select(PublishedSnapshot.icb_code).where(PublishedSnapshot.month == month))
        ).all()
    }
    return icb in icbs or "" in icbs


async def publish_snapshot(
    session: AsyncSession, organisations: Organisations, icb: str, month: str, *, correlation_id: str
) -> ReportPublishedV1:
    """Stage ``icb``'s snapshot of ``month``: its own FFT table and themes, nothing of another
    ICB's."""
    if icb not in organisations.icbs():
        raise Problem(404, "Not an ICB", f"'{icb}' is not an ICB this hub holds; snapshots are per ICB.")
    if not closed(month):
        raise Problem(409, "Month not closed", f"{month} has not ended yet; snapshots are of closed months.")
    if await already_published(session, organisations, icb, month):
        raise Problem(409, "Already published", f"The snapshot of {icb} for {month} was already published.")
    fft = await fft_report(session, organisations, icb, FftFilter(month=month))
    themes = await theme_report(session, organisations, icb, month)
    now = datetime.now(UTC)
    event = ReportPublishedV1(
        month=month,
        published_at=now,
        formulae={**FORMULAE, "rule_set": RULE_SET, "suppression": RULE_SET_SUMMARY},
        fft=fft["rows"],
        themes=themes["themes"],
    )
    session.add(PublishedSnapshot(icb_code=icb, month=month, published_at=now))
    publisher.emit(session, event, subject=month, tenant=icb, correlation_id=correlation_id)
    return event
