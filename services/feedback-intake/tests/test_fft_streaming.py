"""FFT uploads larger than 20 MiB are streamed in over real PostgreSQL: stored in parts of
whole records as they arrive (quoted fields with line breaks and quotes are never cut),
counted, and processed part by part to the end."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from feedback_intake.main import MIGRATIONS, create_app
from feedback_intake.models import FftReturn, FftUploadPart, OutboxMessage
from feedback_intake.rules.fft_csv import PART_CHARS, RECORD_CHARS, CsvParts, read_rows
from feedback_intake.settings import IntakeSettings
from hub_shared.auth import DevKeys
from hub_shared.testing import migrated

from .conftest import auth

pytestmark = pytest.mark.long(seconds=22)

HEADER = "Practice Code,Practice Name,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know\r\n"
PRACTICES = [f"P81{n:03d}" for n in range(1, 11)]


def big_csv(rows: int) -> bytes:
    """A return with a long, quoted practice name on every row: line breaks and doubled
    quotes inside it, so a cut at any line end but a record's would break a row."""
    name = '"Surgery ""of the\r\nlong name"" ' + "x" * 2200 + '"'
    lines = [HEADER]
    for n in range(rows):
        year, month = divmod(n // len(PRACTICES), 12)
        lines.append(f"{PRACTICES[n % len(PRACTICES)]},{name},{1000 + year:04d}-{month + 1:02d},5,4,3,2,1,0\r\n")
    return "".join(lines).encode()


@pytest_asyncio.fixture
async def pg_app(new_postgres_database, keys: DevKeys, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = new_postgres_database("intake_upload")
    migrated(MIGRATIONS, url)
    application = create_app(IntakeSettings(database_url=url, HUB_JWKS_PATH=keys.jwks_path))
    yield application
    await application.state.uploads.stop()
    await application.state.engine.dispose()


@pytest_asyncio.fixture
async def pg_client(pg_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=pg_app), base_url="http://intake") as c:
        yield c


def test_parts_are_whole_records_of_bounded_size() -> None:
    body = big_csv(2000)
    parts = CsvParts()
    steps = [step for start in range(0, len(body), 65536) for step in parts.feed(body[start : start + 65536])]
    steps += parts.close()
    stored = [part for step in steps for part in step]
    assert len(stored) > 3 and all(len(p) <= 2 * PART_CHARS for p in stored)
    assert "".join(stored) == body.decode()
    assert parts.rows == 2000 == len(read_rows(body.decode()))
    for part in stored[1:]:  # each part after the first is rows only, whole ones
        assert part.startswith(tuple(PRACTICES))


async def test_an_upload_over_20_mib_is_streamed_stored_and_processed(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    rows = 10_000
    body = big_csv(rows)
    assert len(body) > 21 * 1024 * 1024

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]

    response = await pg_client.post(
        "/v1/fft-returns/uploads",
        content=chunks(),
        headers={**auth(keys, "01A"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["total_rows"] == rows
    async with pg_app.state.sessions() as session:
        parts = (await session.scalars(select(FftUploadPart.content).order_by(FftUploadPart.part))).all()
    assert len(parts) >= 20 and "".join(parts) == body.decode()
    for _ in range(1200):
        status = (await pg_client.get(response.headers["Location"], headers=auth(keys, "01A"))).json()
        if status["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.1)
    assert (status["status"], status["processed_rows"], status["accepted"], status["rejected"]) == (
        "done",
        rows,
        rows,
        0,
    )
    async with pg_app.state.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FftReturn)) == rows
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == rows


async def test_a_wrong_header_stores_nothing(pg_app, pg_client, keys) -> None:  # type: ignore[no-untyped-def]
    response = await pg_client.post(
        "/v1/fft-returns/uploads",
        content=b"Practice Code,Period\r\nP81001,2026-10\r\n",
        headers={**auth(keys, "01A"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    async with pg_app.state.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FftUploadPart)) == 0


MIB = 1 << 20
ROW = "P81001,Northvale Health Centre,2026-10,5,4,3,2,1,0\r\n"
# Bodies of 1 MiB shaped to be slow to cut into records, and the outcome each must have.
ADVERSARIAL = {
    # one quoted field of nothing but line ends (finding where the record ends by counting
    # quotes from the start at every line end takes seconds)
    "line ends inside quotes": (HEADER + 'P81001,"' + "\n" * MIB + '"\r\n', 422),
    # a row of quotes: the CSV's own escaping, over and over
    "quotes": (HEADER + "P81001," + '"' * MIB + "\r\n", 422),
    # a record on every other character
    "blank lines": (HEADER + "\n" * MIB, 202),
    # as many good rows as fit: every one read, checked and stored by the job
    "good rows": (HEADER + ROW * (MIB // len(ROW)), 202),
}


async def test_a_record_longer_than_the_cap_is_refused_naming_its_line(client, app, keys) -> None:  # type: ignore[no-untyped-def]
    name = '"' + "x" * RECORD_CHARS + '"'
    body = HEADER + ROW + f"P81002,{name},2026-10,5,4,3,2,1,0\r\n" + ROW
    response = await client.post(
        "/v1/fft-returns/uploads", content=body.encode(), headers={**auth(keys, "01A"), "Content-Type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["line"], error["type"]) == ("(body)", 3, "record_too_long")
    assert f"{RECORD_CHARS // 1024} KiB" in error["message"]
    async with app.state.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FftUploadPart)) == 0


async def upload(
    client: httpx.AsyncClient, token: dict[str, str], body: AsyncIterator[bytes] | bytes, outcome: int
) -> None:
    """Upload a return and, if it is accepted, follow its job to the end."""
    response = await client.post("/v1/fft-returns/uploads", content=body, headers={**token, "Content-Type": "text/csv"})
    assert response.status_code == outcome, response.text
    while response.status_code == 202:
        status = (await client.get(response.headers["Location"], headers=token)).json()
        if status["status"] in ("done", "failed"):
            assert status["status"] == "done"
            return
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("shape", ADVERSARIAL)
async def test_an_adversarial_1_mib_upload_never_delays_healthz_by_50_ms(app, client, keys, shape) -> None:  # type: ignore[no-untyped-def]
    text, outcome = ADVERSARIAL[shape]
    body = text.encode()
    assert len(body) > MIB
    latencies: list[float] = []
    finished = asyncio.Event()

    async def poll_healthz() -> None:
        # Each answer timed from the one before, so that no moment of the upload goes
        # unwatched. Timed on this thread's clock: the event loop's own time, which other
        # processes on a shared machine do not inflate as they would a wall clock, and which
        # the pause between polls does not add to (the upload's steps run in it, and count):
        # a step that holds the loop 50 ms is seen, and the polls are not most of the test.
        answered = time.thread_time()
        while not finished.is_set():
            assert (await client.get("/healthz")).status_code == 200
            latencies.append(time.thread_time() - answered)
            answered = time.thread_time()
            await asyncio.sleep(0.005)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):  # as a server hands a body on
            yield body[start : start + 65536]

    async def upload_and_process() -> None:
        try:
            await upload(client, token, chunks(), outcome)
        finally:
            finished.set()

    # As a running service: started (its lifespan), and past its first request (a small
    # upload: the first token check, connection and statements are made once per process).
    token = auth(keys, "01A")  # signed once: signing is the client's work, not the service's
    async with app.router.lifespan_context(app):
        await upload(client, token, (HEADER + ROW).encode(), 202)
        await asyncio.wait_for(asyncio.gather(poll_healthz(), upload_and_process()), timeout=120)
    assert latencies
    assert max(latencies) < 0.050, f"worst /healthz {max(latencies) * 1000:.0f} ms over {len(latencies)} polls"
