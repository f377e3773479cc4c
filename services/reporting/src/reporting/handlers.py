"""Projection handlers: one function per event type, applied inside the consumer's
transaction (with the inbox row), so each event counts exactly once. Increments commute,
so a replay in any interleaving of partitions reproduces the same figures."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.db import bulk_insert, upsert
from hub_shared.events import (
    Channel,
    Envelope,
    FeedbackReceivedV1,
    FeedbackRespondedV1,
    FeedbackReviewedV1,
    FftMonthlyReturnV1,
)
from reporting.fft import ANSWERS
from reporting.models import (
    FeedbackCount,
    FeedbackFact,
    FftReturnCount,
    FftReturnFact,
    ResponseFact,
    ThemeCount,
)
from reporting.publication import MODES

# The FFT figures' columns (FeedbackCount, FftReturnCount) and where each answer and mode sits.
FFT_FIGURES = (*ANSWERS, *(f"mode_{m}" for m in MODES))
AT = {name: i for i, name in enumerate((*ANSWERS, *MODES))}
CHANNELS = tuple(c.value for c in Channel)
CHANNEL_AT = {c: i for i, c in enumerate(CHANNELS)}
# An individual FFT answer's collection mode is its channel; other channels are Other.
CHANNEL_MODES = {"fft_sms": "sms", "fft_online": "online", "fft_paper": "paper", "fft_telephone": "telephone"}


async def increment_many(
    session: AsyncSession, model: Any, columns: tuple[str, ...], keys: int, rows: list[tuple[Any, ...]]
) -> None:
    """INSERT .. ON CONFLICT DO UPDATE adding to each row's counts, for many rows in one
    statement: ``rows`` are tuples of ``columns``, the first ``keys`` of them the key, each
    key once."""
    if not rows:
        return
    connection = await session.connection()
    # Rows in key order: concurrent batches then lock counter rows in one order (no deadlock).
    rows = sorted(rows)
    if connection.dialect.name == "postgresql":
        # One array per column, unnested server-side: one statement and one round trip per
        # table and batch, where an executemany pays its per-row overhead a thousand times.
        arrays = {
            column: _array_literal(values, quoted=i < keys)
            for i, (column, values) in enumerate(zip(columns, zip(*rows, strict=True), strict=True))
        }
        await connection.execute(_upsert_unnested(model, columns, keys), arrays)
        return
    statement = upsert(connection.dialect.name, model, columns[:keys], add=columns[keys:])
    await connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


def _array_literal(values: Sequence[Any], quoted: bool) -> str:
    """A PostgreSQL array literal of keys (text, every element quoted and escaped) or of
    counts (numbers, which never need quoting). psycopg's list dumper tests each element
    with a regular expression to decide its quoting: that was a third of this handler's CPU."""
    if quoted:
        return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
    return "{" + ",".join(map(repr, values)) + "}"


@cache
def _upsert_unnested(model: Any, columns: tuple[str, ...], keys: int) -> Any:
    table = model.__table__
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
    added = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in columns[keys:])
    return sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(columns[:keys])}) DO UPDATE SET {added}"
    )


async def replace_many(session: AsyncSession, model: Any, key: str, rows: list[dict[str, Any]]) -> None:
    """INSERT .. ON CONFLICT DO UPDATE setting every other column: the rows as they are now."""
    if rows:
        connection = await session.connection()
        rows = sorted(rows, key=lambda row: row[key])  # one lock order for concurrent batches
        others = tuple(c.name for c in model.__table__.columns if c.name != key)
        await connection.execute(upsert(connection.dialect.name, model, (key,), update=others), rows)


FEEDBACK_COUNT = (
    "organisation_code",
    "month",
    "service_area",
    "submissions",
    *(f"channel_{c}" for c in CHANNELS),
    *FFT_FIGURES,
)
THEME_COUNT = ("organisation_code", "month", "theme", "mentions", "sentiment_sum")
FFT_RETURN_COUNT = ("organisation_code", "month", *FFT_FIGURES)


async def on_feedback_received(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Set-based: one COPY of the facts and one upsert per counter table for the whole batch
    (counted here first, so each counter row is written once). Sentiment and themes were
    worked out at intake and travel in the event."""
    facts: list[dict[str, Any]] = []
    width = len(FEEDBACK_COUNT) - 3
    counted: dict[tuple[str, str, str], list[int]] = {}
    themes: defaultdict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for envelope in envelopes:
        data = envelope.data
        assert isinstance(data, FeedbackReceivedV1)
        organisation = data.counts_for or data.organisation_code
        occurred = data.occurred_at
        month = f"{occurred.year:04d}-{occurred.month:02d}"
        area, channel = data.service_area.value, data.channel.value
        answer = data.fft_answer.value if data.fft_answer else None
        demographics = data.demographics
        facts.append(
            dict(
                submission_id=data.submission_id,
                organisation_code=organisation,
                month=month,
                service_area=area,
                channel=channel,
                fft_answer=answer,
                text=data.text,
                sentiment=data.sentiment,
                themes=data.themes,
                review_required=data.review_required,
                review_decision=None,
                age_band=demographics.age_band if demographics else None,
                sex=demographics.sex if demographics else None,
                ethnic_group=demographics.ethnic_group if demographics else None,
                occurred_at=occurred,
                received_at=data.received_at,
            )
        )
        if (counts := counted.get((organisation, month, area))) is None:
            counts = counted[(organisation, month, area)] = [0] * width
        counts[0] += 1
        counts[1 + CHANNEL_AT[channel]] += 1
        if answer:
            counts[1 + len(CHANNELS) + AT[answer]] += 1
            counts[1 + len(CHANNELS) + AT[CHANNEL_MODES.get(channel, "other")]] += 1
        for theme in data.themes:
            mentioned = themes[(organisation, month, theme)]
            mentioned[0] += 1
            mentioned[1] += data.sentiment or 0.0
    await bulk_insert(session, FeedbackFact, facts)
    await increment_many(session, FeedbackCount, FEEDBACK_COUNT, 3, [(*k, *v) for k, v in counted.items()])
    await increment_many(session, ThemeCount, THEME_COUNT, 3, [(*k, *v) for k, v in themes.items()])


async def on_feedback_reviewed(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, FeedbackReviewedV1)
    fact = await session.get(FeedbackFact, data.submission_id)
    if fact is not None:  # reviewed events follow received ones on the same key and partition
        fact.review_decision = data.decision.value


async def on_fft_returns(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Set-based, as feedback: one read of the returns already held, one upsert of the facts
    and one of the rollup for the batch. A corrected return takes its earlier counts out of
    the rollup as it adds its own (in order, also when both are in this batch)."""
    returns: list[FftMonthlyReturnV1] = []
    for envelope in envelopes:
        assert isinstance(envelope.data, FftMonthlyReturnV1)
        returns.append(envelope.data)
    held = await session.execute(
        select(
            FftReturnFact.return_id,
            FftReturnFact.organisation_code,
            FftReturnFact.month,
            FftReturnFact.answers,
            FftReturnFact.modes,
        ).where(FftReturnFact.return_id.in_({data.return_id for data in returns}))
    )
    facts: dict[uuid.UUID, dict[str, Any]] = {
        return_id: {"organisation_code": o, "month": m, "answers": a, "modes": x}
        for return_id, o, m, a, x in held.all()
    }
    counts: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(AT))

    def count(fact: dict[str, Any], sign: int) -> None:
        figures = counts[(fact["organisation_code"], fact["month"])]
        for answer, n in fact["answers"].items():
            figures[AT[answer]] += sign * int(n)
        for mode, n in (fact["modes"] or {}).items():
            if mode in MODES:  # a return's modes are as returned; others count in no mode
                figures[AT[mode]] += sign * int(n)

    for data in returns:
        if (earlier := facts.get(data.return_id)) is not None:
            count(earlier, -1)
        fact = {
            "organisation_code": data.counts_for,
            "month": data.period,
            "answers": {k.value if hasattr(k, "value") else str(k): v for k, v in data.answers.items()},
            "modes": data.modes,
        }
        count(fact, 1)
        facts[data.return_id] = fact
    await replace_many(session, FftReturnFact, "return_id", [{"return_id": i, **f} for i, f in facts.items()])
    await increment_many(session, FftReturnCount, FFT_RETURN_COUNT, 2, [(*k, *v) for k, v in counts.items()])


async def on_feedback_responded(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, FeedbackRespondedV1)
    fact = await session.get(ResponseFact, data.response_id)
    if fact is None:
        fact = ResponseFact(response_id=data.response_id, first_responded_at=data.responded_at)
        session.add(fact)
    fact.organisation_code = data.organisation_code
    fact.theme = data.theme
    fact.status = data.status.value
    fact.earliest_feedback_at = data.earliest_feedback_at
    fact.changed_at = data.changed_at


async def feedback_received(session: AsyncSession, organisation_codes: list[str]) -> int:
    total = await session.scalar(
        select(func.sum(FeedbackCount.submissions)).where(FeedbackCount.organisation_code.in_(organisation_codes))
    )
    return int(total or 0)
