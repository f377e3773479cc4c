"""NHS ODS's published organisation files, read in their own layouts, into one hierarchy per
ICB (``OrganisationsPublishedV1``): ICB -> sub-ICB locations (the hub's places) -> GP practices.

The files (https://digital.nhs.uk/services/organisation-data-service, "Data downloads") have
no header row and fixed column positions, ODS's standard layout:

* ``epraccur.csv`` (GP practices): 1 organisation code, 2 name, 3 national grouping, 4 high
  level health geography, 5-9 address lines, 10 postcode, 11 open date, 12 close date
  (``YYYYMMDD``), 13 status code (A active, C closed, D dormant, P proposed), 14 organisation
  sub-type, 15 commissioner (the sub-ICB location), 16 join and 17 left provider/purchaser
  date, 18 telephone, ..., 26 prescribing setting (4 = GP practice; other prescribing cost
  centres are not practices and are skipped).
* sub-ICB locations (``eccg.csv``) and ICBs, in the same standard layout: 1 code, 2 name,
  3 national grouping, 4 high level health geography (for a sub-ICB location: its ICB),
  5-9 address, 10 postcode, 11 open date, 12 close date.
* ``succ.csv`` (successions): 1 old organisation code, 2 new organisation code, 3 effective
  date, 4 indicator.

Every line is checked; every bad line is reported with its file and line number, and a
file with any bad line yields no hierarchy at all (``InvalidReferenceFiles``)."""

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from hub_shared.events.reference import OrganisationKind, OrganisationRecord, OrganisationsPublishedV1

GP_PRACTICE_SETTING = "4"
EPRACCUR_COLUMNS = 27
ORGANISATION_COLUMNS = 12  # the standard layout's columns the hub reads (more are ignored)
SUCCESSION_COLUMNS = 3
MAX_ERRORS = 200


@dataclass(frozen=True)
class LineError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.message}"


class InvalidReferenceFiles(ValueError):
    """The files were not imported: each bad line, with why."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:MAX_ERRORS])
        more = f"\n... and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        super().__init__(f"{len(errors)} problem(s); nothing was imported:\n{shown}{more}")


def _ods_date(value: object) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"'{text}' is not a date in ODS's YYYYMMDD form")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a real date") from exc


def _code(value: object) -> str:
    return str(value or "").strip().upper()


def _optional_code(value: object) -> str | None:
    code = _code(value)
    if code and not (3 <= len(code) <= 10 and code.isalnum()):
        raise ValueError(f"'{code}' is not an ODS code")
    return code or None


OdsDate = Annotated[date | None, BeforeValidator(_ods_date)]
Code = Annotated[str, BeforeValidator(_code), Field(min_length=3, max_length=10, pattern=r"^[A-Z0-9]+$")]
OptionalCode = Annotated[str | None, BeforeValidator(_optional_code)]
Name = Annotated[str, BeforeValidator(lambda v: str(v or "").strip()), Field(min_length=1, max_length=200)]


class OrganisationRow(BaseModel):
    """A line of ODS's standard layout (ICBs, sub-ICB locations)."""

    code: Code
    name: Name
    national_grouping: OptionalCode = None
    high_level_health_geography: OptionalCode = None
    postcode: str = ""
    opened_on: OdsDate = None
    closed_on: OdsDate = None


class PracticeRow(OrganisationRow):
    """A line of ``epraccur``."""

    status: Annotated[str, BeforeValidator(lambda v: str(v or "").strip().upper()), Field(pattern=r"^[ACDP]$")]
    commissioner: Code
    prescribing_setting: str


class SuccessionRow(BaseModel):
    """A line of ``succ``."""

    old_code: Code
    new_code: Code
    effective_on: OdsDate = None
    indicator: str = ""


@dataclass
class LineReader:
    errors: list[LineError] = field(default_factory=list)

    def lines(self, path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
        """Each line of a headerless ODS file with at least ``columns`` fields."""
        try:
            with path.open(newline="", encoding="utf-8-sig") as file:
                for number, row in enumerate(csv.reader(file), start=1):
                    if not any(cell.strip() for cell in row):
                        continue
                    if len(row) < columns:
                        self.fail(path, number, f"{len(row)} column(s), expected at least {columns} (ODS layout)")
                        continue
                    yield number, row
        except FileNotFoundError:
            self.fail(path, 0, "no such file")
        except (UnicodeDecodeError, csv.Error) as exc:
            self.fail(path, 0, f"not a readable CSV file ({exc})")

    def parse(self, model: type[BaseModel], path: Path, number: int, values: dict[str, str]) -> BaseModel | None:
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = ".".join(str(p) for p in error["loc"])
                self.fail(path, number, f"{where}: {error['msg']}")
            return None

    def fail(self, path: Path, line: int, message: str) -> None:
        self.errors.append(LineError(path.name, line, message))


def _organisation_values(row: list[str]) -> dict[str, str]:
    """The columns every ODS organisation file has in the same places (epraccur's first twelve)."""
    return {
        "code": row[0],
        "name": row[1],
        "national_grouping": row[2],
        "high_level_health_geography": row[3],
        "postcode": row[9],
        "opened_on": row[10],
        "closed_on": row[11],
    }


def _organisation_rows(reader: LineReader, path: Path) -> list[tuple[int, OrganisationRow]]:
    rows = []
    for number, row in reader.lines(path, ORGANISATION_COLUMNS):
        values = _organisation_values(row)
        parsed = reader.parse(OrganisationRow, path, number, values)
        if isinstance(parsed, OrganisationRow):
            rows.append((number, parsed))
    return rows


def _practice_rows(reader: LineReader, path: Path) -> list[tuple[int, PracticeRow]]:
    rows = []
    for number, row in reader.lines(path, EPRACCUR_COLUMNS):
        if row[25].strip() != GP_PRACTICE_SETTING:
            continue  # another kind of prescribing cost centre (out of hours, walk-in, ...)
        values = {
            **_organisation_values(row),
            "status": row[12],
            "commissioner": row[14],
            "prescribing_setting": row[25],
        }
        parsed = reader.parse(PracticeRow, path, number, values)
        if isinstance(parsed, PracticeRow):
            rows.append((number, parsed))
    return rows


def _succession_rows(reader: LineReader, path: Path) -> list[tuple[int, SuccessionRow]]:
    rows = []
    for number, row in reader.lines(path, SUCCESSION_COLUMNS):
        values = {"old_code": row[0], "new_code": row[1], "effective_on": row[2]}
        if len(row) > 3:
            values["indicator"] = row[3].strip()
        parsed = reader.parse(SuccessionRow, path, number, values)
        if isinstance(parsed, SuccessionRow):
            rows.append((number, parsed))
    return rows


@dataclass(frozen=True)
class OdsFiles:
    """Where the published files are: practices (``epraccur``), sub-ICB locations, ICBs and
    (optionally) successions (``succ``)."""

    practices: Path
    sub_icb_locations: Path
    icbs: Path
    successions: Path | None = None

    def paths(self) -> list[Path]:
        return [p for p in (self.icbs, self.sub_icb_locations, self.practices, self.successions) if p is not None]


def _check_dates(reader: LineReader, path: Path, number: int, row: OrganisationRow) -> None:
    if row.opened_on and row.closed_on and row.closed_on < row.opened_on:
        reader.fail(path, number, f"closed on {row.closed_on} before it opened on {row.opened_on}")


@dataclass
class OdsRows:
    """The lines of each kind, numbered, as read from ODS's files (or its API's records)."""

    icbs: list[tuple[int, OrganisationRow]]
    places: list[tuple[int, OrganisationRow]]
    practices: list[tuple[int, PracticeRow]]
    successions: list[tuple[int, SuccessionRow]]


def read_hierarchies(files: OdsFiles, only_icbs: Iterable[str] = ()) -> list[OrganisationsPublishedV1]:
    """One hierarchy per ICB of the files (or of ``only_icbs``); ``InvalidReferenceFiles``
    naming every bad line when any is bad."""
    reader = LineReader()
    rows = OdsRows(
        _organisation_rows(reader, files.icbs),
        _organisation_rows(reader, files.sub_icb_locations),
        _practice_rows(reader, files.practices),
        _succession_rows(reader, files.successions) if files.successions else [],
    )
    return build_hierarchies(reader, files, rows, only_icbs)


def build_hierarchies(
    reader: LineReader, files: OdsFiles, rows: OdsRows, only_icbs: Iterable[str] = ()
) -> list[OrganisationsPublishedV1]:
    """Check the rows against each other (every practice under a sub-ICB location of an ICB,
    each code once, mergers into practices held) and build one hierarchy per ICB."""
    wanted = {c.strip().upper() for c in only_icbs if c.strip()}
    icb_rows, place_rows, practice_rows, succession_rows = rows.icbs, rows.places, rows.practices, rows.successions

    seen: dict[str, str] = {}

    def unique(path: Path, number: int, code: str) -> bool:
        where = f"{path.name} line {number}"
        if code in seen:
            reader.fail(path, number, f"{code} appears twice (also {seen[code]})")
            return False
        seen[code] = where
        return True

    icbs = {
        row.code: row
        for number, row in icb_rows
        if (not wanted or row.code in wanted) and unique(files.icbs, number, row.code)
    }
    for code in wanted - {row.code for _, row in icb_rows}:
        reader.fail(files.icbs, 0, f"ICB {code} was asked for but is not in the file")
    places: dict[str, tuple[OrganisationRow, str]] = {}
    for number, row in place_rows:
        icb = row.high_level_health_geography
        _check_dates(reader, files.sub_icb_locations, number, row)
        if icb in icbs:
            if unique(files.sub_icb_locations, number, row.code):
                places[row.code] = (row, icb)
        elif not wanted:
            reader.fail(
                files.sub_icb_locations, number, f"{row.code}'s ICB '{icb or ''}' (column 4) is not in the ICB file"
            )
    icb_of_any_place = {row.code: row.high_level_health_geography for _, row in place_rows}
    practices: dict[str, PracticeRow] = {}
    for number, practice in practice_rows:
        _check_dates(reader, files.practices, number, practice)
        if practice.status == "C" and practice.closed_on is None:
            reader.fail(files.practices, number, f"{practice.code} is closed (status C) but has no close date")
        if practice.commissioner in places:
            if unique(files.practices, number, practice.code):
                practices[practice.code] = practice
        elif not wanted or practice.high_level_health_geography in wanted:
            known = icb_of_any_place.get(practice.commissioner)
            where = f" (it belongs to ICB {known}, not imported)" if known else ""
            reader.fail(
                files.practices,
                number,
                f"{practice.code}'s commissioner '{practice.commissioner}' (column 15) is not a sub-ICB location "
                f"in the sub-ICB location file{where}",
            )
    successors: dict[str, str] = {}
    for number, succession in succession_rows:
        if succession.old_code not in practices:
            continue  # another ICB's, or another kind of organisation
        if succession.new_code not in practices:
            reader.fail(
                files.successions or files.practices,
                number,
                f"{succession.old_code}'s successor {succession.new_code} is not a practice in the imported ICBs",
            )
            continue
        if succession.old_code == succession.new_code:
            reader.fail(files.successions or files.practices, number, f"{succession.old_code} succeeds itself")
            continue
        successors[succession.old_code] = succession.new_code
    for old in successors:
        chain, code = {old}, successors[old]
        while code in successors:
            if code in chain:
                reader.fail(files.successions or files.practices, 0, f"successions loop through {old} and {code}")
                break
            chain.add(code)
            code = successors[code]
    if not icbs and not reader.errors:
        reader.fail(files.icbs, 0, "no ICB to import")
    if reader.errors:
        raise InvalidReferenceFiles(reader.errors)
    return _hierarchies(files, icbs, places, practices, successors)


def _hierarchies(
    files: OdsFiles,
    icbs: dict[str, OrganisationRow],
    places: dict[str, tuple[OrganisationRow, str]],
    practices: dict[str, PracticeRow],
    successors: dict[str, str],
) -> list[OrganisationsPublishedV1]:
    members: dict[str, list[OrganisationRecord]] = defaultdict(list)
    for code, row in icbs.items():
        members[code].append(_record(row, OrganisationKind.ICB, None, None))
    for row, icb in places.values():
        members[icb].append(_record(row, OrganisationKind.PLACE, icb, None))
    for code, row in practices.items():
        icb = places[row.commissioner][1]
        members[icb].append(_record(row, OrganisationKind.PRACTICE, row.commissioner, successors.get(code)))
    now = datetime.now(UTC)
    sources = list(dict.fromkeys(p.name for p in files.paths()))
    return [
        OrganisationsPublishedV1(icb_code=icb, organisations=members[icb], sources=sources, published_at=now)
        for icb in sorted(icbs)
    ]


def _record(
    row: OrganisationRow, kind: OrganisationKind, parent: str | None, successor: str | None
) -> OrganisationRecord:
    return OrganisationRecord(
        code=row.code,
        name=row.name,
        kind=kind,
        parent=parent,
        successor=successor,
        opened_on=row.opened_on,
        closed_on=row.closed_on,
    )
