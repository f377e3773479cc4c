"""The GP Patient Survey's practice-level results (NHS England, run by Ipsos; official
statistics, yearly): for one question, each practice's weighted share answering positively,
its base (how many answered) and the share's 95% confidence interval.

The practice results file (one row a practice, a header row) names each figure by the
question: ``<Q>base`` (the unweighted base), ``<Q>_12pct`` (the weighted share answering the
first two, positive, options, e.g. "Yes, definitely" and "Yes, to some extent"), and the
interval's bounds ``<Q>_12pct_lower`` and ``<Q>_12pct_upper``; the practice's ODS code is
``Practice_Code``. Question numbers change from year to year, so the question's stem is
given (``--question Q90`` for "were you involved as much as you wanted to be in decisions about
your care and treatment?" in the survey's numbering of that year), and any column name can be
given where a year's file differs. Shares are read as percentages (0-100) or proportions
(0-1; a file is one or the other), and returned as proportions. A result the survey suppresses (``*``, or blank) has no
share; its base is kept.

The survey's own flags: a result from fewer than ``SUPPRESSED_BELOW`` answers is not
published; one from fewer than ``CAUTION_BELOW`` is to be read with caution."""

import csv
from dataclasses import dataclass
from pathlib import Path

from hub_shared.ods_files import LineError

SUPPRESSED_BELOW = 10
CAUTION_BELOW = 100
SUPPRESSED_MARKS = {"", "*", "-", "NA", "N/A"}


class InvalidSurveyResults(ValueError):
    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s); nothing was imported")


@dataclass(frozen=True)
class SurveyColumns:
    practice: str = "Practice_Code"
    base: str = "{q}base"
    share: str = "{q}_12pct"
    lower: str = "{q}_12pct_lower"
    upper: str = "{q}_12pct_upper"

    def named(self, question: str) -> dict[str, str]:
        return {
            field: getattr(self, field).format(q=question) for field in ("practice", "base", "share", "lower", "upper")
        }


@dataclass(frozen=True)
class PracticeResult:
    practice_code: str
    base: int
    share: float | None  # a proportion, None when the survey suppressed it
    lower: float | None
    upper: float | None


def _proportion(text: str, what: str) -> float | None:
    value = text.strip().rstrip("%")
    if value.upper() in SUPPRESSED_MARKS:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"{what} '{text}' is not a number") from exc
    if number < 0 or number > 100:
        raise ValueError(f"{what} {number} is not a share (0-1 or 0-100)")
    return number


def read_survey(path: Path, question: str, columns: SurveyColumns = SurveyColumns()) -> list[PracticeResult]:
    names = columns.named(question)
    errors: list[LineError] = []
    results: list[PracticeResult] = []
    seen: dict[str, int] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
            missing = [n for n in names.values() if n.lower() not in header]
            if missing:
                errors.append(LineError(path.name, 1, f"no column {', '.join(missing)} (the survey's practice file)"))
                raise InvalidSurveyResults(errors)
            for number, row in enumerate(reader, start=2):

                def value(field: str, row: dict[str, str] = row) -> str:
                    return (row.get(header[names[field].lower()]) or "").strip()

                code = value("practice").upper()
                if not (3 <= len(code) <= 10 and code.isalnum()):
                    errors.append(LineError(path.name, number, f"{names['practice']} '{code}' is not an ODS code"))
                    continue
                if code in seen:
                    errors.append(LineError(path.name, number, f"{code} appears twice (also line {seen[code]})"))
                    continue
                seen[code] = number
                base_text = value("base")
                if not base_text.isdigit():
                    errors.append(LineError(path.name, number, f"{names['base']} '{base_text}' is not a whole number"))
                    continue
                try:
                    share, lower, upper = (_proportion(value(f), names[f]) for f in ("share", "lower", "upper"))
                except ValueError as exc:
                    errors.append(LineError(path.name, number, str(exc)))
                    continue
                if share is not None and lower is not None and upper is not None and not lower <= share <= upper:
                    errors.append(LineError(path.name, number, f"{code}: the share is outside its confidence interval"))
                    continue
                results.append(PracticeResult(code, int(base_text), share, lower, upper))
    except FileNotFoundError:
        errors.append(LineError(path.name, 0, "no such file"))
    except (UnicodeDecodeError, csv.Error) as exc:
        errors.append(LineError(path.name, 0, f"not a readable CSV file ({exc})"))
    if not results and not errors:
        errors.append(LineError(path.name, 0, "no practice's results in the file"))
    if errors:
        raise InvalidSurveyResults(errors)
    # One scale per file: percentages if any figure is over 1, else proportions.
    figures = [f for r in results for f in (r.share, r.lower, r.upper) if f is not None]
    scale = 100.0 if figures and max(figures) > 1 else 1.0
    return [
        PracticeResult(
            r.practice_code,
            r.base,
            *(round(f / scale, 4) if f is not None else None for f in (r.share, r.lower, r.upper)),
        )
        for r in results
    ]
