"""The GP Patient Survey's involvement result for a practice, a place or the ICS.

A practice's result is the survey's own. For several practices the survey weights each
respondent to the practice's population, so a practice counts in proportion to its eligible
patients (registered, aged 16 and over, from the registered population), not to how many
answered: the combined share is the population-weighted mean of the practices' shares, and
its 95% interval combines theirs (each practice's standard error read from its interval, the
practices independent). Practices the survey suppressed add their base but no share.

Small bases are flagged as the survey flags them: fewer than 10 answers is not published;
fewer than 100 is to be read with caution."""

import math
from dataclasses import dataclass

from hub_shared.gp_patient_survey import CAUTION_BELOW, SUPPRESSED_BELOW

Z95 = 1.959964


@dataclass(frozen=True)
class PracticeFigure:
    practice_code: str
    base: int
    share: float | None
    lower: float | None
    upper: float | None
    weight: int  # eligible patients


def flag_for(base: int) -> str | None:
    if base < SUPPRESSED_BELOW:
        return f"suppressed: fewer than {SUPPRESSED_BELOW} answers"
    if base < CAUTION_BELOW:
        return f"caution: fewer than {CAUTION_BELOW} answers"
    return None


def combine(figures: list[PracticeFigure]) -> dict[str, object]:
    base = sum(f.base for f in figures)
    shown = [f for f in figures if f.share is not None]
    flag = flag_for(base)
    result: dict[str, object] = {
        "base": base,
        "practices_with_results": len(shown),
        "practices_suppressed": len(figures) - len(shown),
        "flag": flag,
        "share": None,
        "confidence_interval": None,
    }
    if not shown or base < SUPPRESSED_BELOW:
        return result
    if len(figures) == 1:
        only = shown[0]
        result["share"] = only.share
        result["confidence_interval"] = (
            [only.lower, only.upper] if only.lower is not None and only.upper is not None else None
        )
        return result
    weights = [f.weight if f.weight > 0 else f.base for f in shown]
    total = sum(weights)
    if total == 0:
        return result
    share = sum(w * (f.share or 0.0) for w, f in zip(weights, shown, strict=True)) / total
    variance = 0.0
    with_interval = True
    for w, f in zip(weights, shown, strict=True):
        if f.lower is None or f.upper is None:
            with_interval = False
            break
        variance += (w / total) ** 2 * ((f.upper - f.lower) / (2 * Z95)) ** 2
    result["share"] = round(share, 4)
    if with_interval:
        half = Z95 * math.sqrt(variance)
        result["confidence_interval"] = [round(max(0.0, share - half), 4), round(min(1.0, share + half), 4)]
    return result
