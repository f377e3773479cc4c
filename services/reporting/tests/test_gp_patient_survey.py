"""Involvement as patients report it (GP Patient Survey) in the scorecard: a practice's own
result, a place's and the ICS's weighted by the practices' eligible populations as the survey
weights, with bases, intervals and the survey's small-base flags."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub_shared.db import create_engine, session_factory
from hub_shared.events import (
    AgeBand,
    Envelope,
    GpPatientSurveyPublishedV1,
    RegisteredPatients,
    RegisteredPopulationPublishedV1,
    Sex,
    SurveyResult,
    new_envelope,
)
from hub_shared.organisations import reference
from hub_shared.testing import migrated
from reporting.consumers import STATISTICS_HANDLERS
from reporting.main import MIGRATIONS
from reporting.queries.scorecard import scorecard

NOW = datetime.now(UTC)


def event(data: GpPatientSurveyPublishedV1 | RegisteredPopulationPublishedV1) -> Envelope:
    return new_envelope(data, source="hub-reference-import", subject="QZZ", tenant="QZZ", correlation_id="c")


def population() -> RegisteredPopulationPublishedV1:
    """P81001: 300 patients aged 16 and over, P81002: 100 (and children, who are not asked)."""
    counts = [
        RegisteredPatients(practice_code=p, age_band=band, sex=Sex.FEMALE, patients=n)
        for p, adults in (("P81001", 300), ("P81002", 100), ("P81003", 50))
        for band, n in ((AgeBand.AGE_25_34, adults), (AgeBand.UNDER_16, 1000))
    ]
    return RegisteredPopulationPublishedV1(icb_code="QZZ", month="2026-11", counts=counts, published_at=NOW)


def survey(
    year: str, results: list[tuple[str, int, float | None, float | None, float | None]]
) -> GpPatientSurveyPublishedV1:
    return GpPatientSurveyPublishedV1(
        icb_code="QZZ",
        year=year,
        question="Q90",
        results=[SurveyResult(practice_code=p, base=b, share=s, lower=lo, upper=hi) for p, b, s, lo, hi in results],
        published_at=NOW,
    )


async def test_practice_place_and_ics_figures_with_bases_and_flags(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    migrated(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            before = await scorecard(session, reference(), "01A")
        async with sessions() as session, session.begin():
            for data in (
                population(),
                survey("2025", [("P81001", 40, 0.5, 0.4, 0.6)]),
                survey(
                    "2026",
                    [("P81001", 50, 0.9, 0.85, 0.95), ("P81002", 150, 0.7, 0.6, 0.8), ("P81003", 5, None, None, None)],
                ),
            ):
                handler = STATISTICS_HANDLERS[data.event_type]
                await handler(session, event(data))
        async with sessions() as session:
            practice = (await scorecard(session, reference(), "P81001"))["involvement_reported_by_patients"]
            place = (await scorecard(session, reference(), "01A"))["involvement_reported_by_patients"]
            ics = (await scorecard(session, reference(), "QZZ"))["involvement_reported_by_patients"]
            suppressed = (await scorecard(session, reference(), "P81003"))["involvement_reported_by_patients"]
            other_place = (await scorecard(session, reference(), "02B"))["involvement_reported_by_patients"]
    finally:
        await engine.dispose()
    assert before["involvement_reported_by_patients"] is None
    assert practice["year"] == "2026" and practice["share"] == 0.9 and practice["confidence_interval"] == [0.85, 0.95]
    assert practice["base"] == 50 and practice["flag"] == "caution: fewer than 100 answers"
    # Weighted by eligible patients (300 and 100), not by who answered (50 and 150, which would give 0.75).
    assert place["share"] == pytest.approx(0.85, abs=1e-4)
    low, high = place["confidence_interval"]
    assert low == pytest.approx(0.8049, abs=1e-3) and high == pytest.approx(0.8951, abs=1e-3)
    assert place["base"] == 205 and place["flag"] is None
    assert place["practices_with_results"] == 2 and place["practices_suppressed"] == 1
    assert ics["share"] == place["share"] and ics["base"] == 205
    assert suppressed["share"] is None and suppressed["flag"] == "suppressed: fewer than 10 answers"
    assert other_place is None  # no survey results for its practices
