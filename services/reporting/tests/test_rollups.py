"""Rollup counters on a real PostgreSQL store: one statement adds a batch's counts, keys
with any characters arrive as they were sent, and a second batch adds to the first."""

from sqlalchemy import select

from hub_shared import migrations
from hub_shared.db import create_engine, session_factory
from reporting.handlers import THEME_COUNT, increment_many
from reporting.main import MIGRATIONS
from reporting.models import ThemeCount

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
