"""Registered population month by month: reporting holds each imported month and counts rates
and representativeness against the month that matches, and says which month that is."""

from datetime import UTC, datetime
from pathlib import Path

from hub_shared.db import create_engine, session_factory
from hub_shared.events import AgeBand, RegisteredPatients, RegisteredPopulationPublishedV1, Sex, new_envelope
from hub_shared.organisations import reference
from hub_shared.testing import migrated
from reporting.consumers import STATISTICS_HANDLERS
from reporting.main import MIGRATIONS
from reporting.queries.population import demo_population, population
from reporting.queries.scorecard import scorecard


def month_of(month: str, patients: int) -> RegisteredPopulationPublishedV1:
    return RegisteredPopulationPublishedV1(
        icb_code="QZZ",
        month=month,
        counts=[
            RegisteredPatients(practice_code=p, age_band=band, sex=sex, patients=patients)
            for p in ("P81001", "P81002")
            for band in (AgeBand.UNDER_16, AgeBand.AGE_65_74)
            for sex in (Sex.FEMALE, Sex.MALE)
        ],
        published_at=datetime.now(UTC),
    )


async def test_the_month_that_matches_is_the_base(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    migrated(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    handler = STATISTICS_HANDLERS[RegisteredPopulationPublishedV1.event_type]
    try:
        async with sessions() as session:
            demo = await population(session)
            assert demo.month == "2026-11" and demo is demo_population()  # nothing imported: the demo ICS's
        async with sessions() as session, session.begin():
            for data in (month_of("2026-10", 100), month_of("2026-12", 250), month_of("2026-12", 300)):
                envelope = new_envelope(
                    data, source="hub-reference-import", subject="QZZ", tenant="QZZ", correlation_id="c"
                )
                await handler(session, envelope)
        async with sessions() as session:
            latest = await population(session)
            october = await population(session, "2026-11")
            before = await population(session, "2026-09")
            card = await scorecard(session, reference(), "01A")
            practice = await scorecard(session, reference(), "P81001")
    finally:
        await engine.dispose()
    assert latest.month == "2026-12" and latest.registered(["P81001"]) == 4 * 300  # the later import replaced it
    assert october.month == "2026-10" and october.registered(["P81001", "P81002"]) == 8 * 100
    assert before.month == "2026-10"  # older than every imported month: the earliest
    assert card["registered_patients"] == 8 * 300 and card["registered_population_month"] == "2026-12"
    assert practice["registered_patients"] == 4 * 300
    assert card["membership"]["registered_population_month"] == "2026-12"
    bands = {(b["age_band"], b["sex"]): b["registered_patients"] for b in card["membership"]["representation"]["bands"]}
    assert bands == {(a, s): 2 * 300 for a in ("under_16", "65_74") for s in ("female", "male")}
