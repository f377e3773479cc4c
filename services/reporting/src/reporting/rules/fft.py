"""Friends and Family Test scores.

``nhse-v1`` is how NHS England publishes them: the total includes "don't know", and
% positive = (very good + good) / total, % negative = (poor + very poor) / total.
``excl-dont-know-v1`` leaves "don't know" out of the denominator. NHS England keeps the
exact fraction and displays it as a whole percentage (Excel's ``0%`` format), which
rounds half away from zero: 1/8 shows 13, 5/8 shows 63 (Python's ``round`` would give
12 and 62). A percentage of no responses is ``None`` (``NA`` in CSV)."""

from dataclasses import dataclass

ANSWERS = ("very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know")
# How an answer was collected (the GP collection modes; an individual answer's is its channel).
MODES = ("sms", "online", "paper", "telephone", "other")
POSITIVE = ("very_good", "good")
NEGATIVE = ("poor", "very_poor")
FORMULAE = {
    "nhse-v1": "positive = (very_good + good) / total; negative = (poor + very_poor) / total; total includes dont_know",
    "excl-dont-know-v1": "as nhse-v1 with total = all answers except dont_know",
    "rounding": "exact fraction shown as a whole percentage, rounded half away from zero (1/8 -> 13, 5/8 -> 63)",
}


def percentage(part: int, whole: int) -> int | None:
    """100 * part / whole as a whole number, rounded half away from zero, in integers only."""
    if whole <= 0:
        return None
    sign = -1 if part < 0 else 1
    return sign * ((200 * abs(part) + whole) // (2 * whole))


@dataclass(frozen=True)
class Scores:
    total: int
    pct_positive: int | None
    pct_negative: int | None
    total_excl_dont_know: int
    pct_positive_excl_dont_know: int | None
    pct_negative_excl_dont_know: int | None


def scores(counts: dict[str, int]) -> Scores:
    c = {a: counts.get(a, 0) for a in ANSWERS}
    total = sum(c.values())
    positive, negative = c["very_good"] + c["good"], c["poor"] + c["very_poor"]
    known = total - c["dont_know"]
    return Scores(
        total=total,
        pct_positive=percentage(positive, total),
        pct_negative=percentage(negative, total),
        total_excl_dont_know=known,
        pct_positive_excl_dont_know=percentage(positive, known),
        pct_negative_excl_dont_know=percentage(negative, known),
    )
