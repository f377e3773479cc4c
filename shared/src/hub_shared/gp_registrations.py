"""NHS England's "Patients Registered at a GP Practice" (monthly, official statistics), read in
its published layout, into the hub's age bands per practice and sex for one month.

The practice-level single-year-of-age files (``gp-reg-pat-prac-sing-age-male.csv`` and
``...-female.csv``) have a header row: ``PUBLICATION`` (GP_PRAC_PAT_LIST), ``EXTRACT_DATE``
(the snapshot's date), ``ORG_TYPE`` (GP), ``ORG_CODE`` (the practice), ``POSTCODE``, ``SEX``
(MALE, FEMALE; ALL in the all-persons file), ``AGE`` (0 to 94, 95+, and ALL), and
``NUMBER_OF_PATIENTS``. Single years are needed: the publication's five-year bands (15-19)
straddle the hub's (under 16, 16-24). ``ALL`` rows are totals and are checked, not added.

Every line is checked and each bad one named with its file and line; the files of one import
must be one month's (the month of ``EXTRACT_DATE``)."""

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub_shared.events.feedback import AgeBand, Sex
from hub_shared.ods_files import LineError

REQUIRED = ("EXTRACT_DATE", "ORG_CODE", "SEX", "AGE", "NUMBER_OF_PATIENTS")
BAND_STARTS = (
    (85, AgeBand.AGE_85_PLUS),
    (75, AgeBand.AGE_75_84),
    (65, AgeBand.AGE_65_74),
    (55, AgeBand.AGE_55_64),
    (45, AgeBand.AGE_45_54),
    (35, AgeBand.AGE_35_44),
    (25, AgeBand.AGE_25_34),
    (16, AgeBand.AGE_16_24),
    (0, AgeBand.UNDER_16),
)
SEXES = {"MALE": Sex.MALE, "FEMALE": Sex.FEMALE}
DATE_FORMATS = ("%Y-%m-%d", "%d%b%Y", "%d-%b-%y", "%d-%b-%Y", "%d/%m/%Y", "%Y%m%d")


class InvalidRegistrations(ValueError):
    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s); nothing was imported")


def band_of(age: str) -> AgeBand:
    years = 95 if age == "95+" else int(age)
    if years < 0 or years > 95:
        raise ValueError(f"age {age} is not 0 to 94 or 95+")
    return next(band for start, band in BAND_STARTS if years >= start)


def extract_month(text: str) -> str:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date().strftime("%Y-%m")
        except ValueError:
            continue
    raise ValueError(f"EXTRACT_DATE '{text}' is not a date")


@dataclass(frozen=True)
class MonthOfRegistrations:
    """Registered patients by practice, band and sex, as of one month's snapshot."""

    month: str  # YYYY-MM
    counts: dict[tuple[str, AgeBand, Sex], int]

    def practices(self) -> set[str]:
        return {practice for practice, _, _ in self.counts}


def read_registrations(paths: list[Path]) -> MonthOfRegistrations:
    errors: list[LineError] = []
    counts: dict[tuple[str, AgeBand, Sex], int] = defaultdict(int)
    totals: dict[tuple[str, Sex], tuple[int, str, int]] = {}
    months: dict[str, str] = {}
    for path in paths:
        try:
            with path.open(newline="", encoding="utf-8-sig") as file:
                reader = csv.DictReader(file)
                header = {(h or "").strip().upper(): h for h in reader.fieldnames or []}
                missing = [c for c in REQUIRED if c not in header]
                if missing:
                    errors.append(LineError(path.name, 1, f"no column {', '.join(missing)} (NHS Digital's layout)"))
                    continue
                for number, row in enumerate(reader, start=2):
                    problem = _read_row(row, header, counts, totals, months, path.name, number)
                    if problem:
                        errors.append(LineError(path.name, number, problem))
        except FileNotFoundError:
            errors.append(LineError(path.name, 0, "no such file"))
        except (UnicodeDecodeError, csv.Error) as exc:
            errors.append(LineError(path.name, 0, f"not a readable CSV file ({exc})"))
    for (practice, sex), (total, where, line) in totals.items():
        added = sum(n for (p, _, s), n in counts.items() if p == practice and s is sex)
        if added != total:
            errors.append(
                LineError(where, line, f"{practice} {sex.value}: ALL is {total} but the ages add up to {added}")
            )
    if len(set(months)) > 1:
        seen = ", ".join(f"{m} ({w})" for m, w in sorted(months.items()))
        errors.append(LineError(paths[0].name, 0, f"the files are of more than one month: {seen}"))
    if not counts and not errors:
        errors.append(LineError(paths[0].name if paths else "-", 0, "no practice's patients in the files"))
    if errors:
        raise InvalidRegistrations(errors)
    return MonthOfRegistrations(next(iter(months)), dict(counts))


def _read_row(
    row: dict[str, str],
    header: dict[str, str],
    counts: dict[tuple[str, AgeBand, Sex], int],
    totals: dict[tuple[str, Sex], tuple[int, str, int]],
    months: dict[str, str],
    file: str,
    line: int,
) -> str | None:
    def value(column: str) -> str:
        return (row.get(header[column]) or "").strip()

    if "ORG_TYPE" in header and value("ORG_TYPE").upper() not in ("", "GP"):
        return None  # a total for another level of geography
    try:
        month = extract_month(value("EXTRACT_DATE"))
    except ValueError as exc:
        return str(exc)
    months.setdefault(month, f"{file} line {line}")
    practice = value("ORG_CODE").upper()
    if not (3 <= len(practice) <= 10 and practice.isalnum()):
        return f"ORG_CODE '{practice}' is not an ODS code"
    sex = SEXES.get(value("SEX").upper())
    if sex is None:
        return None if value("SEX").upper() == "ALL" else f"SEX '{value('SEX')}' is not MALE, FEMALE or ALL"
    patients_text = value("NUMBER_OF_PATIENTS")
    if not patients_text.isdigit():
        return f"NUMBER_OF_PATIENTS '{patients_text}' is not a whole number"
    patients = int(patients_text)
    age = value("AGE").upper()
    if age == "ALL":
        totals[(practice, sex)] = (patients, file, line)
        return None
    try:
        band = band_of(age)
    except ValueError:
        return f"AGE '{age}' is not 0 to 94, 95+ or ALL"
    counts[(practice, band, sex)] += patients
    return None
