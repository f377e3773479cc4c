"""Rollup counters on a real PostgreSQL store: one statement adds a batch's counts, keys
with any characters arrive as they were sent, and a second batch adds to the first; the
upgrade that brings the rollups counts what the store already holds."""

import uuid

import psycopg
from alembic import command
from sqlalchemy import select

from hub_shared import migrations
from hub_shared.db import create_engine, session_factory
from reporting.main import MIGRATIONS
from reporting.models import FeedbackCount, FftReturnCount, ThemeCount
from reporting.projections.feedback import THEME_COUNT
from reporting.projections.rollups import increment_many

AWKWARD = ['quote " inside', "back\\slash", "comma, brace { } and space ", "NULL", "é", ""]


async def test_counts_are_added_per_key_whatever_the_key_holds(new_postgres_database) -> None:  # type: ignore[no-untyped-def]
    url = new_postgres_database("reporting")
    migrations.upgrade(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows = [("P81001", "2025-06", theme, i + 1, -0.25 * i) for i, theme in enumerate(AWKWARD)]
    try:
        for _ in range(2):
            async with sessions() as session, session.begin():
                await increment_many(session, ThemeCount, THEME_COUNT, 3, rows)
        async with sessions() as session:
            stored = {t.theme: (t.mentions, t.sentiment_sum) for t in (await session.scalars(select(ThemeCount))).all()}
    finally:
        await engine.dispose()
    assert stored == {theme: (2 * n, 2 * s) for _, _, theme, n, s in rows}


async def test_the_upgrade_counts_what_a_store_already_holds(new_postgres_database) -> None:  # type: ignore[no-untyped-def]
    url = new_postgres_database("reporting")
    command.upgrade(migrations.alembic_config(MIGRATIONS, url), "0005")
    facts = [  # organisation, month, area, channel, answer
        ("P81001", "2025-06", "dermatology", "fft_sms", "good"),
        ("P81001", "2025-06", "dermatology", "ppg_meeting", "poor"),
        ("P81001", "2025-06", "dermatology", "online_comment", None),
        ("P81002", "2025-07", "maternity", "fft_paper", "dont_know"),
    ]
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for organisation, month, area, channel, answer in facts:
            conn.execute(
                "INSERT INTO feedback_fact (submission_id, organisation_code, month, service_area, channel, fft_answer,"
                " themes, review_required, occurred_at, received_at) VALUES (%s, %s, %s, %s, %s, %s, '[]', false,"
                " now(), now())",
                (uuid.uuid4(), organisation, month, area, channel, answer),
            )
        conn.execute(
            "INSERT INTO fft_return_fact (return_id, organisation_code, month, answers, modes) VALUES"
            """ (%s, 'P81001', '2025-06', '{"very_good": 5, "good": 2}', '{"sms": 6, "paper": 1, "fax": 3}')""",
            (uuid.uuid4(),),
        )
    migrations.upgrade(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            counted = {
                (c.organisation_code, c.month, c.service_area): c for c in await session.scalars(select(FeedbackCount))
            }
            returned = (await session.scalars(select(FftReturnCount))).one()
    finally:
        await engine.dispose()
    derm = counted[("P81001", "2025-06", "dermatology")]
    assert (derm.submissions, derm.good, derm.poor, derm.mode_sms, derm.mode_other) == (3, 1, 1, 1, 1)
    assert (derm.channel_fft_sms, derm.channel_ppg_meeting, derm.channel_online_comment, derm.channel_fft_paper) == (
        1,
        1,
        1,
        0,
    )
    maternity = counted[("P81002", "2025-07", "maternity")]
    assert (maternity.submissions, maternity.dont_know, maternity.mode_paper) == (1, 1, 1)
    assert (returned.very_good, returned.good, returned.poor, returned.mode_sms, returned.mode_paper) == (5, 2, 0, 6, 1)
