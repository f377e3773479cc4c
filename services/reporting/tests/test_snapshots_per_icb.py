"""Month-end snapshots and the monthly audit in a hub serving two ICBs (the demo ICS and NHS
Southshire ICB, ``hub_shared.organisations_testing``), on a real PostgreSQL store: each ICB's
token publishes its own ICB's snapshot, with its own figures and none of the other's; a
month is published once per ICB; the audit runs per ICB over that ICB's organisations; and
the upgrade keys the snapshots published before by the ICB their event named."""

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from alembic import command
from sqlalchemy import select, text

from hub_shared import migrations
from hub_shared.auth import DevKeys
from hub_shared.events import FeedbackReceivedV1, decode, encode, new_envelope
from hub_shared.organisations import reference
from hub_shared.organisations_testing import SecondIcb
from hub_shared.testing import migrated
from reporting.consumers import KEYED_HANDLERS
from reporting.main import MIGRATIONS, create_app
from reporting.models import OutboxMessage
from reporting.queries.monthly_audit import audit_month
from reporting.settings import ReportingSettings

MONTH = "2026-10"


def received(practice: str, place: str, answer: str, day: int) -> Any:
    data = FeedbackReceivedV1(
        submission_id=uuid.uuid4(),
        organisation_code=practice,
        counts_for=practice,
        place_code=place,
        submitted_by=practice,
        service_area="general_practice",
        channel="fft_sms",
        fft_answer=answer,
        occurred_at=datetime(2026, 10, day, tzinfo=UTC),
        received_at=datetime(2026, 10, day, 12, tzinfo=UTC),
    )
    envelope = new_envelope(
        data, source="feedback-intake", subject=str(data.submission_id), tenant=practice, correlation_id="t"
    )
    return decode(encode(envelope).value)  # as the consumer reads it off the topic


@pytest.fixture
def keys(tmp_path: Path) -> DevKeys:
    return DevKeys(tmp_path / "keys").ensure()


@pytest_asyncio.fixture
async def app(new_postgres_database, keys: DevKeys, two_icbs: SecondIcb):  # type: ignore[no-untyped-def]
    settings = ReportingSettings(database_url=new_postgres_database("reporting"), HUB_JWKS_PATH=keys.jwks_path)
    migrated(MIGRATIONS, settings.database_url)
    application = create_app(settings)
    # The demo ICS: 12 answers at P81001, all very good. Southshire: 9 at B21001, all poor.
    envelopes = [received("P81001", "01A", "very_good", 1 + i) for i in range(12)]
    envelopes += [received(two_icbs.practice, two_icbs.place, "poor", 1 + i) for i in range(9)]
    async with application.state.sessions() as session, session.begin():
        await KEYED_HANDLERS["feedback.received.v1"](session, envelopes)
    yield application
    await application.state.engine.dispose()


def token(keys: DevKeys, org: str) -> dict[str, str]:
    settings = ReportingSettings()
    issued = keys.issue(
        organisation=org,
        scopes=["reports:read", "reports:publish"],
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    return {"Authorization": f"Bearer {issued}"}


async def snapshots(app) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == "report.published.v1")
                .order_by(OutboxMessage.seq)
            )
        ).all()
    return [json.loads(r.payload) for r in rows]


async def test_each_icb_publishes_its_own_snapshot_and_sees_none_of_the_others(app, keys, two_icbs) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        south = await client.post("/v1/reports/snapshots", json={"month": MONTH}, headers=token(keys, two_icbs.icb))
        assert south.status_code == 201, south.text
        assert south.json()["organisation_code"] == two_icbs.icb
        demo = await client.post("/v1/reports/snapshots", json={"month": MONTH}, headers=token(keys, "QZZ"))
        assert demo.status_code == 201, demo.text
        assert demo.json()["organisation_code"] == "QZZ"
        # Once per ICB and month; a place publishes nothing.
        again = await client.post("/v1/reports/snapshots", json={"month": MONTH}, headers=token(keys, two_icbs.icb))
        assert again.status_code == 409
        place = await client.post("/v1/reports/snapshots", json={"month": MONTH}, headers=token(keys, two_icbs.place))
        assert place.status_code == 403
    [south_event, demo_event] = await snapshots(app)
    assert (south_event["tenant"], demo_event["tenant"]) == (two_icbs.icb, "QZZ")
    south_rows = {r["organisation_code"]: r for r in south_event["data"]["fft"]}
    demo_rows = {r["organisation_code"]: r for r in demo_event["data"]["fft"]}
    southshire = set(reference().descendants(two_icbs.icb))
    assert set(south_rows) <= southshire and two_icbs.practice in south_rows
    assert not set(demo_rows) & southshire and "P81001" in demo_rows
    assert south_rows[two_icbs.icb]["total"] == 9 and south_rows[two_icbs.icb]["answers"]["poor"] == 9
    assert demo_rows["QZZ"]["total"] == 12 and demo_rows["QZZ"]["answers"]["poor"] == 0


async def test_a_snapshot_from_before_they_were_per_icb_counts_for_every_icb(app, keys, two_icbs) -> None:  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session, session.begin():
        await session.execute(
            text("INSERT INTO published_snapshot (icb_code, month, published_at) VALUES ('', '2026-09', now())")
        )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        for icb in ("QZZ", two_icbs.icb):
            r = await client.post("/v1/reports/snapshots", json={"month": "2026-09"}, headers=token(keys, icb))
            assert r.status_code == 409, r.text
    assert await snapshots(app) == []


async def test_the_monthly_audit_runs_per_icb_over_its_own_organisations(app, two_icbs) -> None:  # type: ignore[no-untyped-def]
    organisations = reference()
    async with app.state.sessions() as session:
        south = await audit_month(session, organisations, two_icbs.icb, MONTH)
        demo = await audit_month(session, organisations, "QZZ", MONTH)
    named = lambda results: {r.output.split()[1] for r in results[1:]}  # noqa: E731
    southshire = set(organisations.descendants(two_icbs.icb))
    assert named(south) <= southshire and two_icbs.practice in named(south)
    assert not named(demo) & southshire and "P81001" in named(demo)
    assert all(not r.findings for r in [*south, *demo])


def test_the_upgrade_keys_earlier_snapshots_by_the_icb_their_event_named(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    config = migrations.alembic_config(MIGRATIONS, url)
    command.upgrade(config, "0010")
    with sqlite3.connect(tmp_path / "reporting.db") as db:
        db.execute("INSERT INTO published_snapshot (month, published_at) VALUES ('2026-08', '2026-09-01 00:00:00')")
        db.execute("INSERT INTO published_snapshot (month, published_at) VALUES ('2026-07', '2026-08-01 00:00:00')")
        payload = json.dumps({"type": "report.published.v1", "tenant": "QZZ", "subject": "2026-08"})
        db.execute(
            "INSERT INTO outbox (event_id, event_type, topic, key, headers, payload, created_at, attempts) "
            "VALUES (?, 'report.published.v1', 'reporting.snapshots', '2026-08', '{}', ?, '2026-09-01 00:00:00', 0)",
            (str(uuid.uuid4()), payload),
        )
    command.upgrade(config, "head")
    with sqlite3.connect(tmp_path / "reporting.db") as db:
        rows = sorted(db.execute("SELECT icb_code, month FROM published_snapshot").fetchall())
    assert rows == [("", "2026-07"), ("QZZ", "2026-08")]


def test_the_operator_names_an_icb_the_hub_holds(two_icbs: SecondIcb) -> None:
    from typer.testing import CliRunner

    from reporting.main import chosen_icbs, cli

    assert set(chosen_icbs(None)) == {"QZZ", two_icbs.icb}
    assert chosen_icbs(two_icbs.icb.lower()) == [two_icbs.icb]
    refused = CliRunner().invoke(cli, ["audit", MONTH, "--icb", "QXX"])
    assert refused.exit_code == 2 and "'QXX' is not an ICB this hub holds" in refused.output
