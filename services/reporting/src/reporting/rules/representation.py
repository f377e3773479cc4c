"""Members against the registered population by age band and sex, and how well they
reflect it: the representativeness score (the participation rate of the least-represented
band over the most-represented one), every count disclosure-controlled."""

from typing import Any

from reporting.rules.disclosure import SUPPRESSED, Cell, protect


def representation(counts: dict[tuple[str, str], int], registered: dict[tuple[str, str], int]) -> dict[str, Any]:
    """Members against the registered population by age band and sex, disclosure
    controlled, with the representativeness score (min rate / max rate)."""
    bands = sorted(registered)
    cells = [Cell(f"{a}|{s}", counts.get((a, s), 0)) for a, s in bands]
    root = protect(Cell("members", sum(c.count for c in cells), cells))
    rows, rates, hidden = [], [], False
    for (age, sex), cell in zip(bands, root.children, strict=True):
        patients = registered[(age, sex)]
        rate = 1000 * cell.count / patients if patients else None
        hidden = hidden or cell.suppressed
        rows.append(
            {
                "age_band": age,
                "sex": sex,
                "members": cell.shown,
                "registered_patients": patients,
                "per_1000": SUPPRESSED if cell.suppressed else (round(rate, 2) if rate is not None else None),
            }
        )
        if rate is not None:
            rates.append(rate)
    score: float | str | None = None
    if rates and max(rates) > 0:
        score = SUPPRESSED if hidden else round(min(rates) / max(rates), 3)
    return {"bands": rows, "members_in_bands": root.shown, "representativeness": score}
