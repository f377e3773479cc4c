"""Members against the registered population by age band and sex, and how well they
reflect it: the representativeness score (the participation rate of the least-represented
band over the most-represented one). The counts are as published
(``reporting.rules.membership_measures``): a band's rate per 1,000 gives its count away, so it
is starred with it, and the score is starred when any band is."""

from typing import Any

from reporting.rules.disclosure import SUPPRESSED


def representation(
    counts: dict[tuple[str, str], int],
    registered: dict[tuple[str, str], int],
    shown: dict[tuple[str, str], int | str],
    members_in_bands: int | str,
) -> dict[str, Any]:
    """``counts`` by band (true), ``shown`` as published, over the registered population."""
    rows, rates, hidden = [], [], False
    for band in sorted(registered):
        patients = registered[band]
        rate = 1000 * counts.get(band, 0) / patients if patients else None
        starred = shown[band] == SUPPRESSED
        hidden = hidden or starred
        rows.append(
            {
                "age_band": band[0],
                "sex": band[1],
                "members": shown[band],
                "registered_patients": patients,
                "per_1000": SUPPRESSED if starred else (round(rate, 2) if rate is not None else None),
            }
        )
        if rate is not None:
            rates.append(rate)
    score: float | str | None = None
    if rates and max(rates) > 0:
        score = SUPPRESSED if hidden else round(min(rates) / max(rates), 3)
    return {"bands": rows, "members_in_bands": members_in_bands, "representativeness": score}
