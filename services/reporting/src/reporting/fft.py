"""Friends and Family Test scores.

``nhse-v1`` is how NHS England publishes them: the total includes "don't know", and
% positive = (very good + good) / total, % negative = (poor + very poor) / total.
``excl-dont-know-v1`` leaves "don't know" out of the denominator. Percentages are
rounded to whole numbers as published, and only shown where the total is shown."""

from dataclasses import dataclass

ANSWERS = ("very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know")
FORMULAE = {
    "nhse-v1": "positive = (very_good + good) / total; negative = (poor + very_poor) / total; total includes dont_know",
    "excl-dont-know-v1": "as nhse-v1 with total = all answers except dont_know",
}


@dataclass(frozen=True)
class Scores:
    total: int
    pct_positive: int | None
    pct_negative: int | None
    total_excl_dont_know: int
    pct_positive_excl_dont_know: int | None
    pct_negative_excl_dont_know: int | None


def _pct(part: int, whole: int) -> int | None:
    return None if whole == 0 else round(100 * part / whole)


def scores(counts: dict[str, int]) -> Scores:
    c = {a: counts.get(a, 0) for a in ANSWERS}
    total = sum(c.values())
    positive, negative = c["very_good"] + c["good"], c["poor"] + c["very_poor"]
    known = total - c["dont_know"]
    return Scores(
        total=total,
        pct_positive=_pct(positive, total),
        pct_negative=_pct(negative, total),
        total_excl_dont_know=known,
        pct_positive_excl_dont_know=_pct(positive, known),
        pct_negative_excl_dont_know=_pct(negative, known),
    )
