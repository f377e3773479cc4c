"""Reporting on SQLite, the store `make run` uses when no database URL is given: every
report query answers from the rollups there as on PostgreSQL."""

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from hub_shared.consumer import Item, read_record
from hub_shared.db import create_engine, session_factory
from hub_shared.events import Envelope, FeedbackReceivedV1, FeedbackRespondedV1, decode, encode, new_envelope
from hub_shared.organisations import reference
from hub_shared.settings import ServiceSettings
from hub_shared.testing import migrated
from reporting.consumers import HANDLERS, KEYED_HANDLERS, consumers
from reporting.main import MIGRATIONS
from reporting.models import FeedbackCount, InboxMessage
from reporting.queries.comments import comments
from reporting.queries.fft import FftFilter, fft_report, fft_trend
from reporting.queries.scorecard import scorecard
from reporting.queries.themes import theme_report
from reporting.rules import cross_output, published
from reporting.rules.disclosure_audit import Report
from reporting.rules.figures import Publication


def received(i: int) -> FeedbackReceivedV1:
    return FeedbackReceivedV1(
        submission_id=uuid.uuid4(),
        organisation_code="P81001",
        counts_for="P81001",
        place_code="01A",
        submitted_by="P81001",
        service_area="general_practice",
        channel="fft_sms",
        fft_answer="very_good" if i % 3 else "poor",
        text="Long wait for an appointment." if i % 2 else None,
        occurred_at=datetime(2026, 10, 1 + i % 28, tzinfo=UTC),
        received_at=datetime(2026, 10, 1 + i % 28, 12, tzinfo=UTC),
        sentiment=-0.4 if i % 2 else None,
        themes=["access"] if i % 2 else [],
        themes_version="themes-v1" if i % 2 else None,
    )


def as_read(n: int) -> list[Envelope]:
    """``n`` feedback.received events of P81001, as the consumer reads them off the topic."""
    return [
        decode(
            encode(
                new_envelope(received(i), source="feedback-intake", subject=str(i), tenant="P81001", correlation_id="t")
            ).value
        )
        for i in range(n)
    ]


async def test_every_report_answers_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    migrated(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    envelopes = as_read(30)
    responded = FeedbackRespondedV1.model_validate(
        {
            "response_id": uuid.uuid4(),
            "organisation_code": "P81001",
            "theme": "access",
            "you_said": "Hard to get through at 8am.",
            "we_did": "More phone lines in the morning.",
            "status": "done",
            "earliest_feedback_at": "2026-10-01T12:00:00Z",
            "responded_at": "2026-10-11T12:00:00Z",
            "changed_at": "2026-10-21",
            "submission_ids": [],
        }
    )
    try:
        async with sessions() as session, session.begin():
            assert len(await KEYED_HANDLERS["feedback.received.v1"](session, envelopes)) == 30
        async with sessions() as session, session.begin():  # delivered again: counted once
            assert await KEYED_HANDLERS["feedback.received.v1"](session, envelopes[:5] + envelopes[:5]) == set()
            response = new_envelope(
                responded, source="feedback-intake", subject="r", tenant="P81001", correlation_id="t"
            )
            await HANDLERS["feedback.responded.v1"](session, response)
        organisations = reference()
        async with sessions() as session:
            fft = await fft_report(session, organisations, "01A", FftFilter())
            trend = await fft_trend(session, organisations, "01A")
            themes = await theme_report(session, organisations, "01A", None)
            found = await comments(session, organisations, "01A", None, 50)
            card = await scorecard(session, organisations, "01A")
    finally:
        await engine.dispose()
    assert fft and trend and themes
    assert len(found) == 15
    assert card["individual_submissions"] == 30
    assert card["you_said_we_did"]["responses"] == 1
    assert card["you_said_we_did"]["median_days_to_response"] == 10.0
    assert card["you_said_we_did"]["median_days_to_change"] == 20.0


async def test_a_redelivered_response_counts_once_without_an_inbox_row(tmp_path: Path) -> None:
    """feedback.received is deduplicated by its fact's key: the consumer's own way of applying
    a poll (live and replay alike) writes no inbox row for it and counts a redelivery, or a
    second copy within one poll, as a duplicate."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    migrated(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    consumer = consumers(ServiceSettings(), sessions)[0]
    messages = [
        encode(new_envelope(received(i), source="feedback-intake", subject=str(i), tenant="P81001", correlation_id="t"))
        for i in range(6)
    ]

    def poll(offsets: range) -> list[Item]:
        return [
            read_record(
                ConsumerRecord("feedback.events", 0, n, 0, 0, None, messages[n % 6].value, None, 0, 0, []),
                consumer.handles,
            )
            for n in offsets
        ]

    try:
        first, again = poll(range(0, 8)), poll(range(2, 6))  # offsets 6 and 7 repeat 0 and 1
        for items in (first, again):
            async with sessions() as session, session.begin():
                await consumer.apply(session, items)
        async with sessions() as session:
            inbox = (await session.scalars(select(InboxMessage))).all()
            counted = sum(c.submissions for c in (await session.scalars(select(FeedbackCount))).all())
    finally:
        await engine.dispose()
    assert [i.outcome for i in first] == ["applied"] * 6 + ["duplicate"] * 2
    assert [i.outcome for i in again] == ["duplicate"] * 4
    assert counted == 6 and inbox == []


async def test_an_fft_audit_runs_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing FFT views can take seconds of CPU (many starred cells): it runs on the
    audit's own thread, so the event loop goes on serving other requests meanwhile, and a
    second request for the same figures is answered from what the first published."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    migrated(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    envelopes = as_read(3)  # 1 to 4 responses: starred, so the views are audited
    real = cross_output.close
    threads: list[str] = []

    def slow_audit(pub: Publication) -> Report:
        threads.append(threading.current_thread().name)
        time.sleep(0.5)  # holds its thread as a long audit would, without giving way
        return real(pub)

    monkeypatch.setattr(cross_output, "close", slow_audit)
    published.forget()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        async with sessions() as session, session.begin():
            await KEYED_HANDLERS["feedback.received.v1"](session, envelopes)
        async with sessions() as session:
            started = ticks
            first, second = await asyncio.gather(
                fft_report(session, reference(), "P81001", FftFilter()),
                fft_report(session, reference(), "01A", FftFilter()),
            )
            during = ticks - started
    finally:
        ticker.cancel()
        await engine.dispose()
    assert threads and all(name.startswith("fft-audit") for name in threads)
    assert len(threads) == 1  # audited once: the second request found the first's views kept
    assert during >= 20  # the loop ran on (about 50 ticks in 0.5 s; none if the audit held it)
    assert first["rows"][0]["total"] == 3 and second["rows"][0]["organisation_code"] == "01A"
