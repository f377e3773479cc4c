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
