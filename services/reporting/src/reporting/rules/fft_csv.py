"""The FFT table as CSV, column for column in NHS England's FFT publication layout.

NHS England's official pipeline (``nhsengland/fft_pipeline``, ``src/fft/config.py``) builds
each sheet from the same column groups, in this order: the organisation codes and names
(``ICB_COLS``, then the lower levels), Total Responses, ``PERCENTAGE_COLS`` ("Percentage
Positive", "Percentage Negative"), ``LIKERT_COLS`` ("Very Good", "Good", "Neither Good nor
Poor", "Poor", "Very Poor", "Don't Know") and, on the organisation sheet, ``MODE_COLS``
("Mode SMS", ... "Mode Telephone", "Mode Online", "Mode Other"). GP practices sit under
a place (sub-ICB location) under the ICB, so the codes are ICB, Place, Practice; the GP
collection modes (SMS, Paper, Telephone, Online, Other; see intake's monthly returns)
keep the pipeline's order. "Total Eligible" is not collected for general practice and is
left out. Percentages are whole percentages rounded half away from zero (the templates'
``0%``), ``NA`` where there were no responses; ``*`` is withheld. Three columns after
NHS England's say which rule set was applied and why each row is starred."""

import csv
import io
from typing import Any

from hub_shared.organisations import Kind, Organisations
from reporting.rules.disclosure import SUPPRESSED
from reporting.rules.fft import ANSWERS
from reporting.rules.publication import RULE_SET

LIKERT = dict(
    zip(
        ANSWERS,
        ["Very Good", "Good", "Neither Good nor Poor", "Poor", "Very Poor", "Don't Know"],
        strict=True,
    )
)
MODE_COLUMNS = {"sms": "Mode SMS", "paper": "Mode Paper", "telephone": "Mode Telephone", "online": "Mode Online"}
MODE_COLUMNS["other"] = "Mode Other"
CODES = ["ICB Code", "ICB Name", "Place Code", "Place Name", "Practice Code", "Practice Name"]
COLUMNS = [
    "Period",
    *CODES,
    "Total Responses",
    "Percentage Positive",
    "Percentage Negative",
    *LIKERT.values(),
    *MODE_COLUMNS.values(),
    "Rule Set",
    "Suppression",
    "Extra Suppression",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
PERCENT_COLUMNS = {"Percentage Positive": "pct_positive", "Percentage Negative": "pct_negative"}


def period(month: str | None) -> str:
    """NHS England's period label: 2025-03 is Mar-25."""
    if not month:
        return "All"
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]}-{year[2:]}"


def _percent(value: Any) -> str:
    return "NA" if value is None else SUPPRESSED if value == SUPPRESSED else f"{value}%"


def _levels(organisations: Organisations, code: str) -> list[str]:
    """ICB, place and practice code and name of a row (blank below the row's own level)."""
    chain = [code, *organisations.ancestors(code)]
    out = []
    for kind in (Kind.ICB, Kind.PLACE, Kind.PRACTICE):
        org = next((o for c in chain if (o := organisations.get(c)) is not None and o.kind is kind), None)
        out += [org.code, org.name] if org else ["", ""]
    return out


def write(rows: list[dict[str, Any]], organisations: Organisations, month: str | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                period(month),
                *_levels(organisations, row["organisation_code"]),
                row["total"],
                _percent(row["pct_positive"]),
                _percent(row["pct_negative"]),
                *[row["answers"][a] for a in ANSWERS],
                *[row["modes"][m] for m in MODE_COLUMNS],
                RULE_SET,
                row["suppression"] or "",
                " ".join(row["extra_suppression"]),
            ]
        )
    return out.getvalue()


def read(text: str) -> list[dict[str, Any]]:
    """A CSV written by ``write`` back as rows (for the disclosure audit of what was sent)."""

    def value(cell: str) -> int | str | None:
        cell = cell.strip().rstrip("%")
        return None if cell == "NA" else SUPPRESSED if cell == SUPPRESSED else int(cell)

    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        levels = [record["ICB Code"], record["Place Code"], record["Practice Code"]]
        own = [c for c in levels if c]
        rows.append(
            {
                "organisation_code": own[-1],
                "parent": own[-2] if len(own) > 1 else None,
                "total": int(record["Total Responses"]),
                "answers": {a: value(record[h]) for a, h in LIKERT.items()},
                "modes": {m: value(record[h]) for m, h in MODE_COLUMNS.items()},
                **{key: value(record[h]) for h, key in PERCENT_COLUMNS.items()},
                "suppression": record["Suppression"] or None,
                "extra_suppression": record["Extra Suppression"].split(),
            }
        )
    return rows
