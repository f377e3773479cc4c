"""Registered population per practice by age band and sex: the denominator for rates per
1,000 patients and for whether members reflect the population, as of one month of NHS
England's "Patients Registered at a GP Practice" (chosen and read by
``reporting.queries.population``)."""

from collections import defaultdict


class Population:
    def __init__(self, rows: list[tuple[str, str, str, int]], month: str | None = None) -> None:
        self.month = month  # the publication's month (YYYY-MM) the figures are of
        self._by_practice: dict[str, int] = defaultdict(int)
        self._by_band: dict[tuple[str, str, str], int] = {}
        for practice, band, sex, patients in rows:
            self._by_practice[practice] += patients
            self._by_band[(practice, band, sex)] = patients

    def registered(self, practices: list[str]) -> int:
        return sum(self._by_practice.get(p, 0) for p in practices)

    def aged_16_and_over(self, practice: str) -> int:
        """The practice's patients the GP Patient Survey samples from (16 and over)."""
        return sum(n for (p, band, _sex), n in self._by_band.items() if p == practice and band != "under_16")

    def by_age_band(self, practices: list[str]) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for (practice, band, _sex), patients in self._by_band.items():
            if practice in practices:
                out[band] += patients
        return dict(out)

    def by_band_and_sex(self, practices: list[str]) -> dict[tuple[str, str], int]:
        wanted = set(practices)
        out: dict[tuple[str, str], int] = defaultdict(int)
        for (practice, band, sex), patients in self._by_band.items():
            if practice in wanted:
                out[(band, sex)] += patients
        return dict(out)
