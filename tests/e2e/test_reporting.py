"""reporting over the real broker and PostgreSQL: FFT figures under nhse-fft-v1, the CSV in
NHS England's layout, the disclosure audit of what the API, the CSV and the snapshot event
on the broker show, withheld text until review, and a replay that reproduces exactly the
same figures."""

import asyncio
import csv
import io
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub_shared import kafka_admin
from hub_shared.db import create_engine, session_factory
from hub_shared.demo import demo_feedback
from hub_shared.events import decode
from hub_shared.organisations import reference
from hub_shared.testing import eventually, migrated
from hub_shared.topics import REPORTING_SNAPSHOTS
from reporting.consumers import consumers
from reporting.main import MIGRATIONS
from reporting.models import (
    FFT_FIGURES,
    PROJECTIONS,
    FeedbackCount,
    FeedbackFact,
    FftReturnCount,
    FftReturnFact,
    ResponseFact,
    ThemeCount,
)
from reporting.projections.feedback import FEEDBACK_COUNT
from reporting.queries.scorecard import scorecard
from reporting.rules import fft_csv
from reporting.rules.disclosure_audit import audit
from reporting.rules.publication import published_fft
from reporting.workers.replay import replay

from .conftest import Hub, descendants

pytestmark = pytest.mark.long(seconds=52)

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


async def test_fft_figures_are_rolled_up_and_published_under_nhse_fft_v1(hub: Hub) -> None:
    await post_answers(hub, "P83003", {"very_good": 6, "good": 2})
    await post_answers(hub, "P83004", {"poor": 3})
    await post_answers(hub, "P83008", {"very_good": 1})  # merged into P83001: counts there

    async def all_in() -> bool:
        rows = {r["organisation_code"]: r for r in (await fft(hub, "03C", service_area="ophthalmology"))["rows"]}
        return rows["03C"]["total"] == 12

    await eventually(all_in, what="twelve answers in reporting")
    report = await fft(hub, "03C", service_area="ophthalmology")
    assert report["rule_set"] == "nhse-fft-v1" and report["audit"]["recoverable"] == 0
    rows = {r["organisation_code"]: r for r in report["rows"]}
    place = rows["03C"]
    assert (place["total"], place["pct_positive"]) == (12, 75)  # 9/12
    assert place["pct_negative"] == 25 or "pct_negative" in place["extra_suppression"]  # 3/12
    # P83001 (1, from its merged predecessor P83008) and P83004 (3) are first level: Total
    # Responses shown, every answer, mode and percentage starred, as NHS England does.
    for code, total in (("P83001", 1), ("P83004", 3)):
        assert rows[code]["total"] == total and rows[code]["suppression"] == "first-level"
        assert set(rows[code]["answers"].values()) == {"*"} and set(rows[code]["modes"].values()) == {"*"}
        assert rows[code]["pct_positive"] == "*"
    assert rows["P83003"]["total"] == 8 and rows["P83003"]["suppression"] is None
    assert "P83008" not in rows
    # What NHS England's rules alone would leave recoverable (the two small practices gave no
    # "good": 2 - 2) is closed by extra stars, labelled on the output.
    assert report["extra_suppression"]
    assert audit(published_fft(report["rows"]), intervals=True).findings == []

    # The ICB sees 03C beside the other places; 01A may not see 03C at all.
    assert (await hub.reporting.get("/v1/reports/fft/03C", headers=hub.token("01A"))).status_code == 403
    exported = await hub.reporting.get(
        "/v1/reports/fft/03C.csv", params={"month": MONTH, "service_area": "ophthalmology"}, headers=hub.token("03C")
    )
    assert exported.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(exported.text)))
    assert header == [
        "Period",
        "ICB Code",
        "ICB Name",
        "Place Code",
        "Place Name",
        "Practice Code",
        "Practice Name",
        "Total Responses",
        "Percentage Positive",
        "Percentage Negative",
        "Very Good",
        "Good",
        "Neither Good nor Poor",
        "Poor",
        "Very Poor",
        "Don't Know",
        "Mode SMS",
        "Mode Paper",
        "Mode Telephone",
        "Mode Online",
        "Mode Other",
        "Rule Set",
        "Suppression",
        "Extra Suppression",
    ]
    table = list(csv.DictReader(io.StringIO(exported.text)))
    by_code = {r["Practice Code"] or r["Place Code"]: r for r in table}
    assert by_code["03C"]["Total Responses"] == "12" and by_code["03C"]["Percentage Positive"] == "75%"
    assert by_code["P83004"]["Percentage Positive"] == "*" and by_code["P83004"]["Total Responses"] == "3"
    assert {r["Rule Set"] for r in table} == {"nhse-fft-v1"} and by_code["03C"]["Period"] == "Mar-25"
    assert audit(published_fft(fft_csv.read(exported.text)), intervals=True).findings == []


GENERATED = "2025-05"  # no other test posts feedback for this month
DEMO_MONTH, DEMO_WHEN = "2025-09", "2025-09-15T11:00:00Z"  # nor for this one
GENERATED_AREA = "musculoskeletal"
SHAPE = ["very_good"] * 55 + ["good"] * 25 + ["neither_good_nor_poor"] * 7 + ["poor"] * 5 + ["very_poor"] * 5
SHAPE += ["dont_know"] * 3


async def test_a_generated_ics_published_through_the_api_and_csv_leaves_nothing_recoverable(hub: Hub) -> None:
    """Many small counts, ties and a place with only small practices, posted through intake
    and read back as an analyst would: every output passes the audit of what it shows."""
    rng = random.Random(9)
    sizes = {"P81010": 2, "P81003": 6, "P81004": 6, "P81005": 11, "P81006": 0, "P82001": 1, "P82002": 3}
    sizes |= {"P82006": 4, "P83002": 1, "P83009": 2, "P83010": 9, "P83007": 9}
    channels = ["fft_sms", "fft_online", "fft_paper", "fft_telephone"]
    posted = 0
    for code, n in sizes.items():
        for i in range(n):
            body = {"fft_answer": rng.choice(SHAPE), "service_area": GENERATED_AREA, "channel": rng.choice(channels)}
            if i % 3 == 0:
                body["text"] = rng.choice(
                    ["Long wait for an appointment.", "Kind and helpful staff.", "Clean waiting room."]
                )
            r = await hub.post_feedback(code, occurred_at="2025-05-10T09:00:00Z", **body)
            assert r.status_code == 201, r.text
            posted += 1

    async def everything_in() -> bool:
        r = await hub.reporting.get(
            "/v1/reports/fft/QZZ", params={"month": GENERATED, "service_area": GENERATED_AREA}, headers=hub.token("QZZ")
        )
        return r.json()["rows"][0]["total"] == posted

    await eventually(everything_in, timeout=60, what="the generated ICS in reporting")
    checked = 0
    for org in ("QZZ", "01A", "02B", "03C", "P81003"):
        params = {"month": GENERATED, "service_area": GENERATED_AREA}
        report = (await hub.reporting.get(f"/v1/reports/fft/{org}", params=params, headers=hub.token("QZZ"))).json()
        assert report["audit"]["recoverable"] == 0
        shown = audit(published_fft(report["rows"]), intervals=True)
        assert shown.findings == [], (org, shown.findings)
        exported = await hub.reporting.get(f"/v1/reports/fft/{org}.csv", params=params, headers=hub.token("QZZ"))
        assert audit(published_fft(fft_csv.read(exported.text)), intervals=True).findings == []
        checked += shown.checked
        themes = (
            await hub.reporting.get(f"/v1/reports/themes/{org}", params={"month": GENERATED}, headers=hub.token("QZZ"))
        ).json()
        assert themes["audit"]["recoverable"] == 0
        card = (await hub.reporting.get(f"/v1/reports/scorecard/{org}", headers=hub.token("QZZ"))).json()
        assert card["audit"]["recoverable"] == 0
    assert checked > 20  # stars were there to be checked
    rows = {r["organisation_code"]: r for r in report["rows"]}
    assert rows["P81003"]["total"] == 6


async def test_the_demo_ics_through_the_api_csv_and_snapshot_leaves_nothing_recoverable(hub: Hub) -> None:
    """The demo data (`hub seed`'s generator, four submissions a practice: small counts
    everywhere) posted through intake; every place's and the ICB's table, as JSON and CSV,
    and a closed month's snapshot event on the broker are audited as read."""
    # Not the practices whose exact counts the walking-skeleton tests assert.
    exact = {"P81001", "P82004", "P83005", "P83006"}
    bodies = [b for b in demo_feedback(reference(), per_practice=4, seed=7) if b["organisation_code"] not in exact]
    before = await hub.applied("QZZ")
    for body in bodies:
        body["occurred_at"] = DEMO_WHEN
        r = await hub.intake.post("/v1/feedback", json=body, headers=hub.token(body["organisation_code"]))
        assert r.status_code == 201, r.text

    async def demo_in() -> bool:  # every submission applied, comments without an answer too
        return await hub.applied("QZZ") >= before + len(bodies)

    await eventually(demo_in, timeout=60, what="the demo ICS in reporting")
    started = time.perf_counter()
    for org in ("QZZ", "01A", "02B", "03C"):
        report = await fft(hub, org, month=DEMO_MONTH)
        assert audit(published_fft(report["rows"]), intervals=True).findings == [], org
        exported = await hub.reporting.get(
            f"/v1/reports/fft/{org}.csv", params={"month": DEMO_MONTH}, headers=hub.token("QZZ")
        )
        assert audit(published_fft(fft_csv.read(exported.text)), intervals=True).findings == [], org
    print(f"demo ICS: 4 tables and CSVs published and audited in {time.perf_counter() - started:.2f}s")
    published = await hub.reporting.post(
        "/v1/reports/snapshots",
        json={"month": DEMO_MONTH},
        headers=hub.token("QZZ", ["reports:read", "reports:publish"]),
    )
    assert published.status_code == 201, published.text
    assert published.json()["rule_set"] == "nhse-fft-v1"

    async def snapshot() -> Any:
        for record in await kafka_admin.read_all(hub.kafka.bootstrap_servers, REPORTING_SNAPSHOTS.name):
            event: Any = decode(record.value)
            if event.data.month == DEMO_MONTH:
                return event
        return None

    async def arrived() -> bool:
        return await snapshot() is not None

    await eventually(arrived, what="the demo month's snapshot on the broker")
    event = await snapshot()
    received = audit(published_fft(event.data.fft), intervals=True)
    assert received.checked > 0 and received.findings == []


async def test_the_operator_audit_of_a_month_prints_what_it_checked_and_found(hub: Hub) -> None:
    """`reporting audit 2025-05` over the generated month above (run after it), as an
    operator runs it: the service's command in its own process."""
    env = {
        **os.environ,
        "REPORTING_DATABASE_URL": hub.reporting_settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": hub.kafka.bootstrap_servers,
        "HUB_JWKS_PATH": str(hub.reporting_settings.jwks_path),
        "COLUMNS": "160",
    }
    command = Path(sys.executable).parent / "reporting"
    process = await asyncio.create_subprocess_exec(
        str(command), "audit", GENERATED, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    output = out.decode()
    assert process.returncode == 0, output + err.decode()
    assert "fft QZZ musculoskeletal" in output and "themes 01A" in output
    summary = output.strip().splitlines()[-1]
    assert summary.endswith("0 recoverable.") and int(summary.split(", ")[1].split()[0]) > 0


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
    assert snapshot.data.formulae["rule_set"] == "nhse-fft-v1"
    assert rows["P83004"]["total"] == 3 and set(rows["P83004"]["answers"].values()) == {"*"}
    # What went out on the broker, audited as a consumer would read it: nothing recoverable.
    received = audit(published_fft(snapshot.data.fft), intervals=True)
    assert received.checked > 0 and received.findings == []


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
    migrated(MIGRATIONS, url)
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


ROLLUPS = {  # table: (model, key columns, count columns)
    "feedback_count": (FeedbackCount, ("organisation_code", "month", "service_area"), FEEDBACK_COUNT[3:]),
    "theme_count": (ThemeCount, ("organisation_code", "month", "theme"), ("mentions", "sentiment_sum")),
    "fft_return_count": (FftReturnCount, ("organisation_code", "month"), FFT_FIGURES),
}


async def rollups(sessions: Any) -> dict[str, dict[tuple[str, ...], Any]]:
    """The rollup tables, without rows that count nothing (a corrected return can leave zeros)."""
    out: dict[str, dict[tuple[str, ...], Any]] = {}
    async with sessions() as session:
        for name, (model, keys, amounts) in ROLLUPS.items():
            rows = (await session.execute(select(model))).scalars().all()
            out[name] = {
                tuple(getattr(r, k) for k in keys): tuple(getattr(r, a) for a in amounts)
                for r in rows
                if any(getattr(r, a) for a in amounts)
            }
    return out


async def recount(sessions: Any) -> dict[str, dict[tuple[str, ...], Any]]:
    """The same figures counted again, in Python, from the facts."""
    modes = {"fft_sms": "sms", "fft_online": "online", "fft_paper": "paper", "fft_telephone": "telephone"}
    feedback: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    themes: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0, 0.0])
    returns: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    async with sessions() as session:
        for f in (await session.scalars(select(FeedbackFact))).all():
            counted = feedback[(f.organisation_code, f.month, f.service_area)]
            counted["submissions"] += 1
            counted[f"channel_{f.channel}"] += 1
            if f.fft_answer:
                counted[f.fft_answer] += 1
                counted[f"mode_{modes.get(f.channel, 'other')}"] += 1
            for theme in f.themes:
                themes[(f.organisation_code, f.month, theme)][0] += 1
                themes[(f.organisation_code, f.month, theme)][1] += f.sentiment or 0.0
        for r in (await session.scalars(select(FftReturnFact))).all():
            returns[(r.organisation_code, r.month)].update(r.answers)
            returns[(r.organisation_code, r.month)].update({f"mode_{m}": n for m, n in r.modes.items()})
    return {
        "feedback_count": {k: tuple(c[a] for a in ROLLUPS["feedback_count"][2]) for k, c in feedback.items()},
        "theme_count": {k: (int(v[0]), pytest.approx(v[1])) for k, v in themes.items()},
        "fft_return_count": {k: tuple(c[a] for a in FFT_FIGURES) for k, c in returns.items() if any(c.values())},
    }


async def test_after_a_replay_the_rollups_equal_a_recount_of_the_facts(hub: Hub) -> None:
    ids = []
    for channel, text in (("fft_sms", "Waited two hours for my appointment"), ("fft_paper", None)):
        body = {"channel": channel, "fft_answer": "poor", "occurred_at": "2025-08-04T09:00:00Z"}
        posted = await hub.post_feedback("P81008", **body, **({"text": text} if text else {}))
        assert posted.status_code == 201, posted.text
        ids.append(posted.json()["id"])
    posted = await hub.post_feedback("P81008", channel="ppg_meeting", fft_answer=None, text="Kind nurse")
    assert posted.status_code == 201, posted.text
    header = "Practice Code,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know,SMS,Paper\n"
    # A return, then its correction (same practice and month): the correction replaces it.
    for row in ("P81008,2025-08,5,4,1,1,0,2,8,5\n", "P81008,2025-08,2,2,0,0,1,1,4,2\n"):
        upload = await hub.intake.post(
            "/v1/fft-returns/uploads",
            content=(header + row).encode(),
            headers={**hub.token("01A"), "Content-Type": "text/csv"},
        )
        assert upload.status_code == 202, upload.text

        async def returned(row: str = row) -> bool:
            async with hub.reporting_sessions() as session:
                facts = (
                    await session.scalars(select(FftReturnFact).where(FftReturnFact.organisation_code == "P81008"))
                ).all()
            return [f.answers["very_good"] for f in facts] == [int(row.split(",")[2])]

        await eventually(returned, what="the return in reporting")
    response = await hub.intake.post(
        "/v1/responses",
        headers=hub.token("01A"),
        json={
            "organisation_code": "01A",
            "submission_ids": ids,
            "you_said": "Waits are long.",
            "we_did": "More morning appointments.",
            "status": "done",
            "changed_at": "2025-10-01",
        },
    )
    assert response.status_code == 201, response.text

    async def responded() -> bool:
        async with hub.reporting_sessions() as session:
            return await session.get(ResponseFact, uuid.UUID(response.json()["id"])) is not None

    await eventually(responded, what="the response in reporting")

    url = hub.new_database("replayed_rollups")
    migrated(MIGRATIONS, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        await replay(consumers(hub.reporting_settings, sessions)[0], hub.kafka.bootstrap_servers)
        assert await rollups(sessions) == await recount(sessions)
        corrected = dict(
            zip(FFT_FIGURES, (await rollups(sessions))["fft_return_count"][("P81008", "2025-08")], strict=True)
        )
        assert (corrected["very_good"], corrected["poor"], corrected["mode_sms"]) == (2, 0, 4)
        # The scorecard's medians, worked out in SQL, are the medians of the facts.
        async with sessions() as session:
            facts = (
                await session.scalars(
                    select(ResponseFact).where(ResponseFact.organisation_code.in_(descendants("QZZ")))
                )
            ).all()
            card = await scorecard(session, reference(), "QZZ")
    finally:
        await engine.dispose()
    said = card["you_said_we_did"]
    to_response = [
        (f.first_responded_at - f.earliest_feedback_at).total_seconds() / 86400 for f in facts if f.earliest_feedback_at
    ]
    to_change = [
        (f.changed_at - f.earliest_feedback_at.date()).days for f in facts if f.changed_at and f.earliest_feedback_at
    ]
    assert to_change and said["responses"] == len(facts)
    assert said["median_days_to_response"] == round(statistics.median(to_response), 1)
    assert said["median_days_to_change"] == round(statistics.median(to_change), 1)
