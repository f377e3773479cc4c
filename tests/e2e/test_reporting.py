"""reporting over the real broker and PostgreSQL: FFT figures with disclosure control,
CSV export, withheld text until review, snapshot events, and a replay that reproduces
exactly the same figures."""

import asyncio
import csv
import io
from typing import Any

from sqlalchemy import select

from hub_shared import kafka_admin, migrations
from hub_shared.db import create_engine, session_factory
from hub_shared.events import decode
from hub_shared.topics import REPORTING_SNAPSHOTS
from reporting.consumers import consumers
from reporting.main import MIGRATIONS
from reporting.models import PROJECTIONS
from reporting.replay import replay

from .conftest import Hub, eventually

MONTH = "2025-03"  # no other test posts feedback for this month
WHEN = "2025-03-14T10:00:00Z"


async def post_answers(hub: Hub, org: str, answers: dict[str, int], area: str = "ophthalmology") -> None:
    for answer, n in answers.items():
        for _ in range(n):
            r = await hub.post_feedback(org, fft_answer=answer, service_area=area, occurred_at=WHEN)
            assert r.status_code == 201, r.text


async def fft(hub: Hub, org: str, token_org: str = "QZZ", **params: str) -> dict[str, Any]:
    response = await hub.reporting.get(
        f"/v1/reports/fft/{org}", params={"month": MONTH, **params}, headers=hub.token(token_org)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_fft_figures_are_rolled_up_and_disclosure_controlled(hub: Hub) -> None:
    await post_answers(hub, "P83003", {"very_good": 6, "good": 2})
    await post_answers(hub, "P83004", {"poor": 3})
    await post_answers(hub, "P83008", {"very_good": 1})  # merged into P83001: counts there

    async def all_in() -> bool:
        rows = {r["organisation_code"]: r for r in (await fft(hub, "03C", service_area="ophthalmology"))["rows"]}
        return rows["03C"]["total"] == 12

    await eventually(all_in, what="twelve answers in reporting")
    rows = {r["organisation_code"]: r for r in (await fft(hub, "03C", service_area="ophthalmology"))["rows"]}
    place = rows["03C"]
    assert place["answers"] == {
        "very_good": 7,
        "good": "*",
        "neither_good_nor_poor": 0,
        "poor": "*",
        "very_poor": 0,
        "dont_know": 0,
    }
    assert (place["pct_positive"], place["pct_negative"]) == (75, 25)  # 9/12, 3/12
    # P83004 (3) and P83001 (1, from its merged predecessor P83008) are small and protect
    # each other: 12 - 8 tells only their sum. P83003's 6 + 2 hides its 2 and so its 6.
    assert rows["P83004"]["total"] == "*" and rows["P83001"]["total"] == "*"
    assert rows["P83003"]["total"] == 8 and rows["P83003"]["answers"]["very_good"] == "*"
    assert rows["P83004"]["pct_positive"] == "*"
    assert "P83008" not in rows

    # The ICB sees 03C beside the other places; 01A may not see 03C at all.
    assert (await hub.reporting.get("/v1/reports/fft/03C", headers=hub.token("01A"))).status_code == 403
    exported = await hub.reporting.get(
        "/v1/reports/fft/03C.csv", params={"month": MONTH, "service_area": "ophthalmology"}, headers=hub.token("03C")
    )
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    by_code = {r["Code"]: r for r in table}
    assert by_code["03C"]["Total responses"] == "12" and by_code["03C"]["Good"] == "*"
    assert by_code["P83004"]["Percentage positive"] == "*"


async def test_flagged_text_is_withheld_until_a_reviewer_clears_it(hub: Hub) -> None:
    flagged = (
        await hub.post_feedback("P81006", text="I want to make a formal complaint about my care.", occurred_at=WHEN)
    ).json()
    plain = (await hub.post_feedback("P81006", text="Friendly reception, clean waiting room.", occurred_at=WHEN)).json()

    async def texts() -> list[str]:
        r = await hub.reporting.get("/v1/reports/comments/P81006", params={"month": MONTH}, headers=hub.token("01A"))
        return [c["text"] for c in r.json()]

    async def plain_shown() -> bool:
        return plain["text"] in await texts()

    await eventually(plain_shown, what="the unflagged comment")
    assert flagged["text"] not in await texts()
    decided = await hub.intake.post(
        f"/v1/reviews/{flagged['id']}", json={"decision": "cleared"}, headers=hub.token("01A")
    )
    assert decided.status_code == 200

    async def flagged_shown() -> bool:
        return flagged["text"] in await texts()

    await eventually(flagged_shown, what="the cleared comment")


async def test_a_closed_month_is_published_as_a_snapshot_event_with_suppressed_figures(hub: Hub) -> None:
    async def ready() -> bool:
        return (await fft(hub, "03C", service_area="ophthalmology"))["rows"][0]["total"] not in (0, None)

    await eventually(ready, what="figures to publish")
    published = await hub.reporting.post(
        "/v1/reports/snapshots", json={"month": MONTH}, headers=hub.token("QZZ", ["reports:read", "reports:publish"])
    )
    assert published.status_code == 201, published.text
    again = await hub.reporting.post(
        "/v1/reports/snapshots", json={"month": MONTH}, headers=hub.token("QZZ", ["reports:read", "reports:publish"])
    )
    assert again.status_code == 409
    not_icb = await hub.reporting.post(
        "/v1/reports/snapshots", json={"month": MONTH}, headers=hub.token("01A", ["reports:read", "reports:publish"])
    )
    assert not_icb.status_code == 403
    open_month = await hub.reporting.post(
        "/v1/reports/snapshots",
        json={"month": "2099-01"},
        headers=hub.token("QZZ", ["reports:read", "reports:publish"]),
    )
    assert open_month.status_code == 409

    async def on_kafka() -> list:  # type: ignore[type-arg]
        return [
            decode(r.value) for r in await kafka_admin.read_all(hub.kafka.bootstrap_servers, REPORTING_SNAPSHOTS.name)
        ]

    async def arrived() -> bool:
        return any(e.data.month == MONTH for e in await on_kafka())

    await eventually(arrived, what="report.published.v1 on reporting.snapshots")
    [snapshot] = [e for e in await on_kafka() if e.data.month == MONTH]
    rows = {r["organisation_code"]: r for r in snapshot.data.fft}
    assert rows["P83004"]["total"] == "*"
    small = [
        v for r in snapshot.data.fft for v in [r["total"], *r["answers"].values()] if isinstance(v, int) and 0 < v < 5
    ]
    assert small == []


async def projection_rows(sessions) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def,type-arg]
    out = {}
    async with sessions() as session:
        for model in PROJECTIONS:
            columns = [c.name for c in model.__table__.columns]
            rows = (await session.execute(select(model.__table__))).all()
            out[model.__tablename__] = sorted(tuple(str(getattr(r, c)) for c in columns) for r in rows)
    return out


async def test_a_replay_into_empty_tables_reproduces_exactly_the_same_figures(hub: Hub) -> None:
    await post_answers(hub, "P82005", {"very_good": 3, "dont_know": 2}, area="maternity")

    async def settled() -> bool:  # every event on the topic applied by the live consumer
        before = await projection_rows(hub.reporting_sessions)
        await asyncio.sleep(1.5)
        return before == await projection_rows(hub.reporting_sessions) and bool(before["feedback_fact"])

    await eventually(settled, timeout=60, what="the live projections to settle")
    live = await projection_rows(hub.reporting_sessions)

    url = hub.new_database("replayed")
    migrations.upgrade(MIGRATIONS, url)
    engine = create_engine(url)
    progress: list[int] = []
    try:
        counts = await replay(
            consumers(hub.reporting_settings, session_factory(engine))[0],
            hub.kafka.bootstrap_servers,
            batch_size=50,
            on_progress=progress.append,
        )
        replayed = await projection_rows(session_factory(engine))
    finally:
        await engine.dispose()
    assert counts["applied"] > 0 and progress and progress == sorted(progress)
    assert replayed == live
