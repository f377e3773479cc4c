"""Reading monthly FFT returns uploaded as CSV in NHS England's GP practice layout: the
header, the rows, and the cutting of a streamed body into parts of whole records.

Columns (header names are matched ignoring case, spaces and punctuation):
  Practice Code, Period (2026-10, Oct-26 or October 2026),
  Very Good, Good, Neither Good nor Poor, Poor, Very Poor, Don't Know,
  Total (optional: checked against the answers),
  SMS, Online (or Smartphone App/Tablet/Online), Paper, Telephone, Other (collection modes, optional).
Other columns (Practice Name, ...) are ignored. Each row becomes one aggregate record
per practice and month; a later upload for the same practice and month replaces it."""

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Self

from pydantic import BaseModel, Field, field_validator, model_validator

from hub_shared.events import FftAnswer
from hub_shared.problems import Problem

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
    _, steps = part_rows(content.lstrip("\ufeff"), None)
    return [row for step in steps for row in step]


def part_rows(part: str, columns: list[str | None] | None) -> tuple[list[str | None], Iterator[list[dict[str, str]]]]:
    """A stored part's rows, in steps of at most ``STEP_LINES`` records (so the caller can let
    other work in between); the first part (``columns`` None) starts with the header."""
    records = _records(part)
    if columns is None:
        columns = _columns(next(records, None))
    return columns, _row_steps(columns, records)


def _row_steps(columns: list[str | None], records: Iterable[list[str]]) -> Iterator[list[dict[str, str]]]:
    # Each record is dropped once read, a blank one never kept: a file of a million line ends
    # leaves nothing behind for the garbage collector to walk.
    rows = []
    for number, values in enumerate(records, start=1):
        if any(v.strip() for v in values):
            rows.append(_row(columns, values))
        if number % STEP_LINES == 0:
            yield rows
            rows = []
    yield rows


def _records(text: str) -> Iterator[list[str]]:
    # newline="": the csv module's own line handling (a bare \r is a line end, as in Excel's files).
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _not_csv(exc) from exc


def _not_csv(exc: csv.Error) -> Problem:
    return Problem(
        422,
        "Not a CSV file",
        f"The file could not be read as CSV: {exc}.",
        errors=[{"field": "(body)", "message": str(exc), "type": "csv"}],
    )


def _too_long(line: int) -> Problem:
    message = (
        f"the record starting on line {line} runs past {RECORD_CHARS // 1024} KiB: a quote left open, "
        "or not an FFT return"
    )
    return Problem(
        422,
        "Record too long",
        f"The file could not be read: {message}.",
        errors=[{"field": "(body)", "line": line, "message": message, "type": "record_too_long"}],
    )


def _nul(line: int) -> Problem:
    message = f"line {line} holds the NUL character, which is not text"
    return Problem(
        422,
        "Not text",
        f"The file could not be read: {message}.",
        errors=[{"field": "(body)", "line": line, "message": message, "type": "nul_character"}],
    )


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


def _row(columns: list[str | None], values: list[str]) -> dict[str, str]:
    return {c: v.strip() for c, v in zip(columns, values, strict=False) if c and v.strip() != ""}


PART_CHARS = 1 << 20  # an upload is stored, and read back, in parts of about this size
# The longest record (one row, its quoted line breaks included) an upload may hold: a real
# row is a few hundred characters. The cap bounds the work one record costs, which cannot be
# split (the csv module reads a record whole), and so how long reading ever holds on.
RECORD_CHARS = 1 << 14
STEP_LINES = 2000  # lines read per step; a caller lets other work in between steps
_LINE_END = re.compile("\r\n?|\n")  # the csv module's own line ends (as io's newline="")


class _Unfinished(Exception):
    """The text so far ends inside a line or a record: wait for more."""


class _TooLong(Exception):
    """A record runs past ``RECORD_CHARS``."""


class _Nul(Exception):
    """A line holds the NUL character."""


class _Lines:
    """The lines of ``text`` from ``start``, handed one by one to ``csv.reader``, which asks
    for lines until its record is complete and never reads ahead: so once it returns a
    record, the record ends where the last line given ends (``end``). Running out of text
    inside a line or record raises ``_Unfinished`` (unless the text is final), running past
    ``RECORD_CHARS`` since the record began ``_TooLong``: both propagate through the reader."""

    def __init__(self, text: str, start: int, *, final: bool) -> None:
        self.text, self.final = text, final
        self.end = self.record_start = start
        self.given = 0

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> str:
        text, start = self.text, self.end
        limit = self.record_start + RECORD_CHARS
        found = _LINE_END.search(text, start, limit + 2)  # bounded: never scans past the cap
        if found and (found.end() < len(text) or found.group() != "\r" or self.final):
            end = found.end()  # (a \r last in unfinished text may be the first half of \r\n)
        elif len(text) > limit:
            raise _TooLong
        elif not self.final:
            raise _Unfinished
        elif start < len(text):
            end = len(text)  # the last line, without a line end
        else:
            raise StopIteration
        if end > limit:
            raise _TooLong
        line = text[start:end]
        self.given += 1
        if "\x00" in line:
            raise _Nul  # not text: no store can hold it faithfully (PostgreSQL not at all)
        self.end = end
        return line


class CsvParts:
    """A CSV body arriving in chunks, cut into parts of whole records (about ``PART_CHARS``
    each) as it comes: the header is checked in the first part, rows are counted, and only
    a part and the unfinished record after it are ever in memory. Records are found by the
    csv module itself, so a part ends exactly where csv reads a record as ending (quoted line
    breaks and quotes are never cut), and in one pass: an unfinished record is read again
    only once the text after it has doubled. Reading goes in steps of about ``STEP_LINES``
    lines (``feed`` and ``close`` give one list of completed parts per step), so the caller
    can let other work in between."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._text = ""  # the part being gathered: whole records up to _read, then text not yet read
        self._read = 0
        self._lines = 0  # lines of the file before _read
        self._final = False
        self._wait_for = 0  # read an unfinished record again once _text is this long
        self.columns: list[str | None] | None = None
        self.rows = 0

    def feed(self, chunk: bytes) -> Iterator[list[str]]:
        """Take a chunk, then read what it completes: the parts each step completed (raises 422
        for text that is not UTF-8, a bad header or a record over ``RECORD_CHARS``)."""
        self._text += self._decode(chunk, final=False)
        return self._steps()

    def close(self) -> Iterator[list[str]]:
        """The end of the body: read the rest, and the last part (refuses a wrong header now)."""
        self._text += self._decode(b"", final=True)
        self._final = True
        yield from self._steps()
        if self.columns is None:
            self.columns = _columns(None)
        if self._text:
            yield [self._cut()]

    def _decode(self, chunk: bytes, *, final: bool) -> str:
        try:
            return str(self._decoder.decode(chunk, final))
        except UnicodeDecodeError as exc:
            raise Problem(422, "Not UTF-8", "Save the CSV as UTF-8 and upload it again.") from exc

    def _steps(self) -> Iterator[list[str]]:
        if len(self._text) < self._wait_for and not self._final:
            return
        more = True
        while more:
            parts, more = self._step()
            yield parts

    def _step(self) -> tuple[list[str], bool]:
        """Read whole records for about ``STEP_LINES`` lines: the parts completed, and whether
        there is more to read now."""
        lines = _Lines(self._text, self._read, final=self._final)
        records = csv.reader(lines)
        before = self._lines
        while lines.given < STEP_LINES:
            try:
                record = next(records)
            except StopIteration:
                return [], False
            except _Unfinished:
                self._wait_for = 2 * len(self._text) - self._read
                return [], False
            except _TooLong:
                raise _too_long(self._lines + 1) from None
            except _Nul:
                raise _nul(before + lines.given) from None
            except csv.Error as exc:
                raise _not_csv(exc) from exc
            self._read = lines.record_start = lines.end
            self._lines = before + lines.given
            self._take(record)
            if self._read >= PART_CHARS:
                return [self._cut()], True
        return [], True

    def _take(self, record: list[str]) -> None:
        if self.columns is None:
            self.columns = _columns(record)
        elif any(v.strip() for v in record):
            self.rows += 1

    def _cut(self) -> str:
        """The records read so far, as a part."""
        part, self._text = self._text[: self._read], self._text[self._read :]
        self._wait_for = max(self._wait_for - self._read, 0)
        self._read = 0
        return part
