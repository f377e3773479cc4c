"""Group commit over real PostgreSQL: concurrent posts share transactions, and still a 201
means the row and its event are committed; keys and references are still honoured; a
group that fails answers no request 201."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from sqlalchemy import func, select, text

from feedback_intake.main import MIGRATIONS, create_app
from feedback_intake.models import FeedbackSubmission, IdempotencyRecord, OutboxMessage
from feedback_intake.settings import IntakeSettings
from hub_shared.auth import DevKeys
from hub_shared.testing import migrated

from .conftest import auth

ITEM = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "fft_sms",
    "fft_answer": "good",
    "text": "Kind reception staff.",
    "occurred_at": "2026-11-01T10:00:00Z",
}


@pytest_asyncio.fixture
async def pg_app(new_postgres_database, keys: DevKeys, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = new_postgres_database("intake_group")
    migrated(MIGRATIONS, url)
    application = create_app(IntakeSettings(database_url=url, HUB_JWKS_PATH=keys.jwks_path, rate_limit="100000/minute"))
    yield application
    await application.state.engine.dispose()


@pytest_asyncio.fixture
async def pg_client(pg_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=pg_app), base_url="http://intake") as c:
        yield c


async def stored_ids(app) -> set[str]:  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session:
        return {str(i) for i in (await session.scalars(select(FeedbackSubmission.id))).all()}


async def count(app, model) -> int:  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_concurrent_posts_share_commits_and_every_201_is_stored(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    headers = auth(keys, "01A")
    responses = await asyncio.gather(
        *(pg_client.post("/v1/feedback", json={**ITEM, "text": f"Comment {n}"}, headers=headers) for n in range(60))
    )
    assert [r.status_code for r in responses] == [201] * 60
    assert {r.json()["id"] for r in responses} == await stored_ids(pg_app)
    assert await count(pg_app, OutboxMessage) == 60  # each with its event
    assert pg_app.state.group_commit.groups < 60  # requests did share transactions


async def test_concurrent_uses_of_one_idempotency_key_store_one_item(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth(keys, "01A"), "Idempotency-Key": "k-1"}
    responses = await asyncio.gather(*(pg_client.post("/v1/feedback", json=ITEM, headers=headers) for _ in range(10)))
    firsts = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    replays = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" in r.headers]
    assert len(firsts) == 1  # the others lost the race on the key (409, nothing stored) or came after it
    assert {r.status_code for r in responses} - {201} <= {409} and len(replays) + len(firsts) >= 1
    first = firsts[0].json()
    assert all(r.json() == first for r in replays)
    assert await stored_ids(pg_app) == {first["id"]}
    assert await count(pg_app, OutboxMessage) == 1 and await count(pg_app, IdempotencyRecord) == 1
    retry = await pg_client.post("/v1/feedback", json=ITEM, headers=headers)
    assert retry.status_code == 201 and retry.json() == first and retry.headers["Idempotent-Replayed"] == "true"
    other_body = await pg_client.post("/v1/feedback", json={**ITEM, "text": "Else"}, headers=headers)
    assert other_body.status_code == 422


async def test_a_reused_client_reference_fails_alone_in_its_group(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    headers = auth(keys, "01A")
    bodies = [{**ITEM, "client_reference": "same"}] * 5 + [{**ITEM, "client_reference": f"own-{n}"} for n in range(20)]
    responses = await asyncio.gather(*(pg_client.post("/v1/feedback", json=b, headers=headers) for b in bodies))
    same = [r.status_code for r in responses[:5]]
    assert same.count(201) == 1 and set(same) <= {200, 201, 409}  # one stored; a repeat: duplicate or conflict
    assert [r.status_code for r in responses[5:]] == [201] * 20  # the rest of the group is unharmed
    assert len(await stored_ids(pg_app)) == 21
    again = await pg_client.post("/v1/feedback", json=bodies[0], headers=headers)
    assert again.status_code == 200  # a later repeat is recognised


async def test_a_group_that_cannot_commit_answers_no_201(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    # A deferred constraint trigger fails the transaction at COMMIT, after every INSERT
    # went through, as a serialisation failure (transient) would.
    async with pg_app.state.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE fail_commits (on_ boolean)"))
        await conn.execute(text("INSERT INTO fail_commits VALUES (true)"))
        await conn.execute(
            text(
                "CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF (SELECT on_ FROM fail_commits) THEN "
                "RAISE EXCEPTION 'injected' USING ERRCODE = 'serialization_failure'; END IF; RETURN NULL; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON outbox "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit()"
            )
        )
    headers = auth(keys, "01A")
    responses = await asyncio.gather(
        *(pg_client.post("/v1/feedback", json={**ITEM, "text": f"Comment {n}"}, headers=headers) for n in range(30))
    )
    assert {r.status_code for r in responses} == {503}
    assert all(r.headers["Retry-After"] for r in responses)
    assert await stored_ids(pg_app) == set() and await count(pg_app, OutboxMessage) == 0

    async with pg_app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE fail_commits SET on_ = false"))
    recovered = await pg_client.post("/v1/feedback", json=ITEM, headers=headers)
    assert recovered.status_code == 201 and await stored_ids(pg_app) == {recovered.json()["id"]}


async def test_a_row_the_database_refuses_fails_only_its_own_request(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    async with pg_app.state.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.text = 'refuse me' THEN RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; "
                "END IF; RETURN NEW; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON feedback_submission "
                "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"
            )
        )
    headers = auth(keys, "01A")
    texts = [f"Comment {n}" for n in range(20)]
    texts[7] = "refuse me"
    responses = await asyncio.gather(
        *(pg_client.post("/v1/feedback", json={**ITEM, "text": t}, headers=headers) for t in texts)
    )
    statuses = [r.status_code for r in responses]
    assert statuses[7] >= 400 and statuses[:7] + statuses[8:] == [201] * 19
    assert {r.json()["id"] for r in responses if r.status_code == 201} == await stored_ids(pg_app)
    assert await count(pg_app, OutboxMessage) == 19


async def test_a_nul_character_fails_only_its_own_request(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    headers = auth(keys, "01A")
    texts = [f"Comment {n}" for n in range(10)]
    texts[3] = "before\u0000after"
    responses = await asyncio.gather(
        *(pg_client.post("/v1/feedback", json={**ITEM, "text": t}, headers=headers) for t in texts)
    )
    assert responses[3].status_code == 422 and responses[3].json()["errors"][0]["field"] == "text"
    assert [r.status_code for i, r in enumerate(responses) if i != 3] == [201] * 9
    assert {r.json()["id"] for r in responses if r.status_code == 201} == await stored_ids(pg_app)
