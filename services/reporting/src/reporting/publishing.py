"""What reporting publishes: closed months' disclosure-controlled snapshots on
``reporting.snapshots``. When a month closes, the ICS's figures for it, published under the
rule set nhse-fft-v1 and audited like every other output, go out as a report.published.v1
event (through the outbox) for downstream consumers. The rule set's name and summary
travel in ``formulae`` (``rule_set``, ``suppression``); each FFT row says why it is starred
(``suppression``, ``extra_suppression``)."""

from datetime import UTC, datetime

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


async def publish_snapshot(
    session: AsyncSession, organisations: Organisations, month: str, *, correlation_id: str
) -> ReportPublishedV1:
    if not closed(month):
        raise Problem(409, "Month not closed", f"{month} has not ended yet; snapshots are of closed months.")
    if await session.get(PublishedSnapshot, month) is not None:
        raise Problem(409, "Already published", f"The snapshot for {month} was already published.")
    icb = organisations.icb_of()
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
    session.add(PublishedSnapshot(month=month, published_at=now))
    publisher.emit(session, event, subject=month, tenant=icb, correlation_id=correlation_id)
    return event
