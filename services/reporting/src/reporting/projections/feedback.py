"""Feedback as reporting's read models: one fact per submission (``FeedbackFact``) and the
rollups every report reads (``FeedbackCount``, ``ThemeCount``), applied inside the
consumer's transaction. Each submission has one feedback.received event, so the fact's
primary key (the submission id) is the event's dedupe key: a redelivered event finds its
fact and counts nothing, with no inbox row written beside the fact."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.db import bulk_insert
from hub_shared.events import Envelope, FeedbackReceived, FeedbackReviewedV1
from reporting.models import CHANNELS, FFT_FIGURES, FeedbackCount, FeedbackFact, ThemeCount
from reporting.projections.rollups import AT, increment_many

CHANNEL_AT = {c: i for i, c in enumerate(CHANNELS)}
# An individual FFT answer's collection mode is its channel; other channels are Other.
CHANNEL_MODES = {"fft_sms": "sms", "fft_online": "online", "fft_paper": "paper", "fft_telephone": "telephone"}
FEEDBACK_COUNT = (
    "organisation_code",
    "month",
    "service_area",
    "submissions",
    *(f"channel_{c}" for c in CHANNELS),
    *FFT_FIGURES,
)
THEME_COUNT = ("organisation_code", "month", "theme", "mentions", "sentiment_sum")


async def on_feedback_received(session: AsyncSession, envelopes: Sequence[Envelope]) -> set[str]:
    """Set-based: one COPY of the facts and one upsert per counter table for the whole batch
    (counted here first, so each counter row is written once); returns the ids of the events
    applied. An event whose fact is stored (or earlier in the batch) is a duplicate. Two
    consumers applying one event at once cannot both count it: the second's fact collides
    with the first's primary key and its whole transaction (counters included) is undone,
    to be applied again and found a duplicate. Sentiment and themes were worked out at
    intake and travel in the event."""
    seen = await _stored_facts(session, [cast(FeedbackReceived, e.data).submission_id for e in envelopes])
    applied: set[str] = set()
    facts: list[dict[str, Any]] = []
    width = len(FEEDBACK_COUNT) - 3
    counted: dict[tuple[str, str, str], list[int]] = {}
    themes: defaultdict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for envelope in envelopes:
        data = envelope.data
        assert isinstance(data, FeedbackReceived)
        if data.submission_id in seen:
            continue
        seen.add(data.submission_id)
        applied.add(envelope.id)
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
    return applied


async def _stored_facts(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these submissions already have their fact (one array parameter on
    PostgreSQL: an IN list of a thousand parameters costs more to plan than to run)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        where = FeedbackFact.submission_id == any_(bindparam("ids", ids, type_=ARRAY(Uuid)))
    else:
        where = FeedbackFact.submission_id.in_(ids)
    return set((await session.scalars(select(FeedbackFact.submission_id).where(where))).all())


async def on_feedback_reviewed(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, FeedbackReviewedV1)
    fact = await session.get(FeedbackFact, data.submission_id)
    if fact is not None:  # reviewed events follow received ones on the same key and partition
        fact.review_decision = data.decision.value
