"""FFT uploads larger than 20 MiB are streamed in over real PostgreSQL: stored in parts of
whole records as they arrive (quoted fields with line breaks and quotes are never cut),
counted, and processed part by part to the end."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from sqlalchemy import func, select

from feedback_intake.main import MIGRATIONS, create_app
from feedback_intake.models import FftReturn, FftUploadPart, OutboxMessage
from feedback_intake.rules.fft_csv import PART_CHARS, CsvParts, read_rows
from feedback_intake.settings import IntakeSettings
from hub_shared import migrations
from hub_shared.auth import DevKeys

from .conftest import auth

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
    migrations.upgrade(MIGRATIONS, url)
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
    stored = [p for start in range(0, len(body), 65536) for p in parts.feed(body[start : start + 65536])]
    stored += parts.close()
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
