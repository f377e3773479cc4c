"""Monthly FFT returns: an upload is received (stored in parts, in one transaction) and
then processed as an asynchronous job with progress and a per-row result report. Each row
becomes one aggregate record per practice and month; a later upload for the same practice
and month replaces it. Reading the file is ``rules.fft_csv``'s; running the job,
``workers.fft_uploads``'."""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback_intake.models import FftReturn, FftUpload, FftUploadPart, OutboxMessage
from feedback_intake.publishing import publisher
from feedback_intake.rules.fft_csv import CsvParts, FftReturnRow, part_rows
from hub_shared.auth import Principal
from hub_shared.authorisation import NotAuthorised, authorise, may_see
from hub_shared.db import bulk_insert
from hub_shared.events import FftMonthlyReturnV1
from hub_shared.logging import get_logger
from hub_shared.organisations import Organisations
from hub_shared.problems import Problem, field_errors

log = get_logger(__name__)
CHUNK = 1000  # rows per transaction: one progress update, one lookup, one bulk write each
FLUSH_ROWS = 100  # rows written at a time within one (a whole chunk's ORM work at once holds the loop ~100 ms)


async def receive_upload(
    session: AsyncSession,
    chunks: AsyncIterator[bytes],
    *,
    submitted_by: str,
    filename: str | None,
    correlation_id: str,
) -> FftUpload:
    """Store an upload's body, queued for processing; the caller commits."""
    upload = FftUpload(
        id=uuid.uuid4(),
        submitted_by=submitted_by,
        filename=filename,
        status="queued",
        total_rows=0,
        processed_rows=0,
        accepted=0,
        rejected=0,
        errors=[],
        correlation_id=correlation_id,
        created_at=datetime.now(UTC),
    )
    # Streamed: each part of whole records is stored as it arrives, in the upload's one
    # transaction (a wrong header or a broken body stores nothing), never the whole file.
    parts = CsvParts()
    session.add(upload)
    await session.flush()
    stored = 0

    async def store(steps: Iterator[list[str]]) -> None:
        nonlocal stored
        for completed in steps:
            for part in completed:
                await session.execute(insert(FftUploadPart).values(upload_id=upload.id, part=stored, content=part))
                stored += 1
            await asyncio.sleep(0)  # reading is done in steps: requests get in between

    async for chunk in chunks:
        await store(parts.feed(chunk))
    await store(parts.close())  # refuses a wrong header now, not in the background
    upload.total_rows = parts.rows
    return upload


async def get_upload(session: AsyncSession, upload_id: uuid.UUID, *, principal: Principal) -> FftUpload:
    upload = await session.get(FftUpload, upload_id)
    if upload is None or not may_see(principal, upload.submitted_by):
        raise Problem(404, "Not found", f"No upload {upload_id} that you may see.")
    return upload


async def process_upload(
    sessions: async_sessionmaker[AsyncSession], upload_id: uuid.UUID, organisations: Organisations
) -> None:
    """Work through an upload part by part and in chunks, each chunk one transaction with
    its events and the job's progress, so a restart resumes after the last committed chunk."""
    async with sessions() as session, session.begin():
        upload = await session.get(FftUpload, upload_id)
        if upload is None or upload.status in ("done", "failed"):
            return
        upload.status = "running"
        start, submitted_by, correlation_id = upload.processed_rows, upload.submitted_by, upload.correlation_id
    job = (submitted_by, organisations, correlation_id)
    columns: list[str | None] | None = None
    first = 0  # rows of the file read so far
    for number in itertools.count():
        async with sessions() as session:
            part = await session.scalar(
                select(FftUploadPart.content).where(FftUploadPart.upload_id == upload_id, FftUploadPart.part == number)
            )
        if part is None:
            break
        columns, steps = part_rows(part, columns)
        del part
        chunk: list[dict[str, str]] = []
        for rows in steps:
            for row in rows:
                if first >= start:  # not processed before a restart
                    chunk.append(row)
                first += 1
                if len(chunk) == CHUNK:
                    await _process_chunk(sessions, upload_id, chunk, first - CHUNK, *job)
                    chunk = []
            await asyncio.sleep(0)  # read in steps: requests (progress polls) get in between
        if chunk:
            await _process_chunk(sessions, upload_id, chunk, first - len(chunk), *job)
    async with sessions() as session, session.begin():
        upload = await session.get(FftUpload, upload_id)
        assert upload is not None
        upload.status = "done"
        upload.finished_at = datetime.now(UTC)
    log.info("FFT upload processed", upload_id=str(upload_id), rows=first)


async def _process_chunk(
    sessions: async_sessionmaker[AsyncSession],
    upload_id: uuid.UUID,
    chunk: list[dict[str, str]],
    offset: int,
    submitted_by: str,
    organisations: Organisations,
    correlation_id: str,
) -> None:
    async with sessions() as session, session.begin():
        upload = await session.get(FftUpload, upload_id, with_for_update=True)
        assert upload is not None
        errors = list(upload.errors)
        existing = await _existing_returns(session, chunk)
        events: list[dict[str, Any]] = []
        for number, raw in enumerate(chunk, start=offset + 2):  # +2: header is line 1
            problems = _apply_row(
                session, raw, submitted_by, organisations, upload_id, correlation_id, existing, events
            )
            if problems:
                upload.rejected += 1
                errors.append({"row": number, "errors": problems})
            else:
                upload.accepted += 1
            if (number - offset - 1) % FLUSH_ROWS == 0:
                await session.flush()  # written as it goes: each flush waits on the database, so requests get in
        await bulk_insert(session, OutboxMessage, events)
        upload.errors = errors
        upload.processed_rows = offset + len(chunk)


async def _existing_returns(session: AsyncSession, chunk: list[dict[str, str]]) -> dict[tuple[str, str], FftReturn]:
    """The stored returns a chunk may replace, in one query instead of one per row."""
    practices = {raw["practice_code"].upper() for raw in chunk if raw.get("practice_code")}
    if not practices:
        return {}
    found = await session.scalars(select(FftReturn).where(FftReturn.organisation_code.in_(practices)))
    return {(r.organisation_code, r.period): r for r in found.all()}


def _apply_row(
    session: AsyncSession,
    raw: dict[str, Any],
    submitted_by: str,
    organisations: Organisations,
    upload_id: uuid.UUID,
    correlation_id: str,
    existing: dict[tuple[str, str], FftReturn],
    events: list[dict[str, Any]],
) -> list[dict[str, str]]:
    try:
        row = FftReturnRow.model_validate(raw)
        authorise(submitted_by, row.practice_code, field="practice_code", organisations=organisations)
    except ValidationError as exc:
        return field_errors(exc.errors())
    except NotAuthorised as exc:
        return exc.errors
    now = datetime.now(UTC)
    record = existing.get((row.practice_code, row.period))
    if record is None:
        record = FftReturn(id=uuid.uuid4(), organisation_code=row.practice_code, period=row.period)
        session.add(record)
        existing[(row.practice_code, row.period)] = record
    record.answers, record.modes, record.upload_id, record.received_at = row.answers, row.modes, upload_id, now
    event = FftMonthlyReturnV1(
        return_id=record.id,
        organisation_code=row.practice_code,
        counts_for=organisations.counts_for(row.practice_code),
        place_code=organisations.place_of(row.practice_code),
        period=row.period,
        answers=row.answers,  # type: ignore[arg-type]
        modes=row.modes,
        received_at=now,
    )
    events.append(publisher.row(event, subject=str(record.id), tenant=row.practice_code, correlation_id=correlation_id))
    return []
