"""Monthly FFT returns uploaded as CSV in NHS England's GP practice layout, processed as
an asynchronous job with progress and a per-row result report.

Columns (header names are matched ignoring case, spaces and punctuation):
  Practice Code, Period (2026-10, Oct-26 or October 2026),
  Very Good, Good, Neither Good nor Poor, Poor, Very Poor, Don't Know,
  Total (optional: checked against the answers),
  SMS, Online (or Smartphone App/Tablet/Online), Paper, Telephone, Other (collection modes, optional).
Other columns (Practice Name, ...) are ignored. Each row becomes one aggregate record
per practice and month; a later upload for the same practice and month replaces it."""

import asyncio
import codecs
import csv
import io
import itertools
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback_intake.models import FftReturn, FftUpload, FftUploadPart, OutboxMessage
from feedback_intake.publishing import publisher
from hub_shared.authorisation import NotAuthorised, authorise
from hub_shared.db import bulk_insert
from hub_shared.events import FftAnswer, FftMonthlyReturnV1
from hub_shared.logging import get_logger
from hub_shared.organisations import Organisations
from hub_shared.problems import Problem, field_errors

log = get_logger(__name__)
CHUNK = 1000  # rows per transaction: one progress update, one lookup, one bulk write each
ANSWER_COLUMNS = {a.value: a for a in FftAnswer}
MODES = ("sms", "online", "paper", "telephone", "other")
HEADER_ALIASES = {
    "practicecode": "practice_code",
    "odscode": "practice_code",
    "period": "period",
    "month": "period",
    "verygood": "very_good",
    "good": "good",
    "neithergoodnorpoor": "neither_good_nor_poor",
    "poor": "poor",
    "verypoor": "very_poor",
    "dontknow": "dont_know",
    "total": "total",
    "totalresponses": "total",
    "sms": "sms",
    "smstext": "sms",
    "modesms": "sms",
    "online": "online",
    "smartphoneapptabletonline": "online",
    "modeonline": "online",
    "paper": "paper",
    "modepaper": "paper",
    "telephone": "telephone",
    "modetelephone": "telephone",
    "other": "other",
    "modeother": "other",
}
REQUIRED = {"practice_code", "period", *ANSWER_COLUMNS}
FFT_CSV_COLUMNS = """\
The CSV body, one row per practice and month (NHS England's GP practice layout). Header names
are matched ignoring case, spaces and punctuation; other columns (Practice Name, ...) are ignored.

| column | required | what |
|---|---|---|
| `Practice Code` (or `ODS Code`) | yes | the practice's ODS code; you must be able to act for it |
| `Period` (or `Month`) | yes | the month: `2026-10`, `Oct-26` or `October 2026` |
| `Very Good`, `Good`, `Neither Good nor Poor`, `Poor`, `Very Poor`, `Don't Know` | yes | \
counts per answer (whole numbers, 0 or more) |
| `Total` (or `Total Responses`) | no | checked against the sum of the answers |
| `SMS`, `Online` (or `Smartphone App/Tablet/Online`), `Paper`, `Telephone`, `Other` | no | \
counts per collection mode; if given they must add up to the answers |

A header that lacks a required column is refused at once (`422`, each missing column named);
row errors are reported per row in the upload's result. A later upload for the same practice
and month replaces the earlier one."""
FFT_CSV_EXAMPLE = (
    "Practice Code,Practice Name,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know,Total\r\n"
    "P81001,Northvale Health Centre,2026-10,120,40,6,3,1,2,172\r\n"
)
MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}


def normalise_period(value: str) -> str:
    value = value.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
        year, month = int(m[1]), int(m[2])
    elif m := re.fullmatch(r"([A-Za-z]{3})[a-z]*[- ](\d{2}|\d{4})", value):
        month = MONTHS.get(m[1].lower(), 0)
        year = int(m[2]) + (2000 if len(m[2]) == 2 else 0)
    else:
        raise ValueError("use 2026-10, Oct-26 or October 2026")
    if not 1 <= month <= 12:
        raise ValueError("not a month")
    return f"{year:04d}-{month:02d}"


class FftReturnRow(BaseModel):
    practice_code: str = Field(pattern=r"^[A-Za-z0-9]{3,6}$")
    period: str
    very_good: int = Field(ge=0)
    good: int = Field(ge=0)
    neither_good_nor_poor: int = Field(ge=0)
    poor: int = Field(ge=0)
    very_poor: int = Field(ge=0)
    dont_know: int = Field(ge=0)
    total: int | None = Field(None, ge=0)
    sms: int | None = Field(None, ge=0)
    online: int | None = Field(None, ge=0)
    paper: int | None = Field(None, ge=0)
    telephone: int | None = Field(None, ge=0)
    other: int | None = Field(None, ge=0)

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        return normalise_period(value)

    @model_validator(mode="after")
    def _totals(self) -> Self:
        answered = sum(self.answers.values())
        if self.total is not None and self.total != answered:
            raise ValueError(f"total {self.total} is not the sum of the answers ({answered})")
        if self.modes and sum(self.modes.values()) != answered:
            raise ValueError(f"the collection modes add up to {sum(self.modes.values())}, the answers to {answered}")
        self.practice_code = self.practice_code.upper()
        return self

    @property
    def answers(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in ANSWER_COLUMNS}

    @property
    def modes(self) -> dict[str, int]:
        return {m: getattr(self, m) for m in MODES if getattr(self, m) is not None}


def read_rows(content: str) -> list[dict[str, str]]:
    """Rows keyed by canonical column names; refuses a file whose header lacks a column,
    or that is not CSV at all (422, never a 500)."""
    records = _records(content.lstrip("\ufeff"))
    return _rows(_columns(next(records, None)), records)


def _records(text: str) -> Iterator[list[str]]:
    # newline="": the csv module's own line handling (a bare \r is a line end, as in Excel's files).
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Problem(
                422,
                "Not a CSV file",
                f"The file could not be read as CSV: {exc}.",
                errors=[{"field": "(body)", "message": str(exc), "type": "csv"}],
            ) from exc


def _columns(header: list[str] | None) -> list[str | None]:
    if header is None:
        raise Problem(422, "Empty file", "The CSV has no header row.")
    columns = [HEADER_ALIASES.get(re.sub(r"[^a-z0-9]", "", h.lower())) for h in header]
    missing = sorted(REQUIRED - {c for c in columns if c})
    if missing:
        raise Problem(
            422,
            "Missing columns",
            f"The CSV lacks: {', '.join(missing)}.",
            errors=[{"field": m, "message": "column missing", "type": "missing"} for m in missing],
        )
    return columns


def _rows(columns: list[str | None], records: Iterable[list[str]]) -> list[dict[str, str]]:
    rows = []
    for values in records:
        if not any(v.strip() for v in values):
            continue
        rows.append({c: v.strip() for c, v in zip(columns, values, strict=False) if c and v.strip() != ""})
    return rows


PART_CHARS = 1 << 20  # an upload is stored, and read back, in parts of about this size


class CsvParts:
    """A CSV body arriving in chunks, cut into parts of whole records (about ``PART_CHARS``
    each) as it comes: the header is checked in the first part, rows are counted, and
    only a part and the unfinished record after it are ever in memory. A cut is made only
    at a line end outside quotes (an even number of quote characters before it), so a
    part can be read on its own, after the first part's header."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._pending = ""
        self.columns: list[str | None] | None = None
        self.rows = 0

    def feed(self, chunk: bytes) -> list[str]:
        """The parts this chunk completes (raises 422 for text that is not UTF-8 or a bad header)."""
        self._pending += self._decode(chunk, final=False)
        parts = []
        while len(self._pending) >= PART_CHARS:
            cut = _record_end(self._pending[: PART_CHARS * 2])
            if cut == 0:
                break  # one record longer than a part: wait for its end
            part, self._pending = self._pending[:cut], self._pending[cut:]
            parts.append(self._checked(part))
        return parts

    def close(self) -> list[str]:
        part, self._pending = self._pending + self._decode(b"", final=True), ""
        return [self._checked(part)] if part or self.columns is None else []

    def _decode(self, chunk: bytes, *, final: bool) -> str:
        try:
            return str(self._decoder.decode(chunk, final))
        except UnicodeDecodeError as exc:
            raise Problem(422, "Not UTF-8", "Save the CSV as UTF-8 and upload it again.") from exc

    def _checked(self, part: str) -> str:
        records = _records(part)
        if self.columns is None:
            self.columns = _columns(next(records, None))
        self.rows += len(_rows(self.columns, records))
        return part


def _record_end(text: str) -> int:
    """Where the last whole record of ``text`` ends (0 if none does yet)."""
    for newline in ("\n", "\r"):
        end = text.rfind(newline, 0, len(text) - 1)  # a final \r may be the first half of \r\n
        while end >= 0:
            if text.count('"', 0, end) % 2 == 0:
                return end + 1
            end = text.rfind(newline, 0, end)
    return 0


def part_rows(part: str, columns: list[str | None] | None) -> tuple[list[str | None], list[dict[str, str]]]:
    """A stored part's rows; the first part (``columns`` None) starts with the header."""
    records = _records(part)
    if columns is None:
        columns = _columns(next(records, None))
    return columns, _rows(columns, records)


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
    columns: list[str | None] | None = None
    first = 0  # the index in the file of the part's first row
    for number in itertools.count():
        async with sessions() as session:
            part = await session.scalar(
                select(FftUploadPart.content).where(FftUploadPart.upload_id == upload_id, FftUploadPart.part == number)
            )
        if part is None:
            break
        columns, rows = part_rows(part, columns)
        del part
        for offset in range(max(start - first, 0), len(rows), CHUNK):
            await _process_chunk(
                sessions,
                upload_id,
                rows[offset : offset + CHUNK],
                first + offset,
                submitted_by,
                organisations,
                correlation_id,
            )
            await asyncio.sleep(0)  # let requests (progress polls) in between chunks
        first += len(rows)
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


class UploadRunner:
    """Runs upload jobs in the API process; on start-up it resumes unfinished ones."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], organisations: Organisations) -> None:
        self._sessions = sessions
        self._organisations = organisations
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, upload_id: uuid.UUID) -> None:
        task = asyncio.create_task(self._run(upload_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, upload_id: uuid.UUID) -> None:
        try:
            await process_upload(self._sessions, upload_id, self._organisations)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("FFT upload failed", upload_id=str(upload_id))
            async with self._sessions() as session, session.begin():
                upload = await session.get(FftUpload, upload_id)
                if upload is not None:
                    upload.status = "failed"
                    upload.errors = [
                        *upload.errors,
                        {"row": None, "errors": [{"field": "(job)", "message": repr(exc)[:500], "type": "failed"}]},
                    ]
                    upload.finished_at = datetime.now(UTC)

    async def resume_unfinished(self) -> None:
        async with self._sessions() as session:
            pending = (
                await session.scalars(select(FftUpload.id).where(FftUpload.status.in_(["queued", "running"])))
            ).all()
        for upload_id in pending:
            self.start(upload_id)

    async def stop(self) -> None:
        """Cancel running jobs: each resumes after its last committed chunk on the next start."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
