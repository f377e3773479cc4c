"""The publication rule set ``nhse-fft-v1``: what every FFT output shows (JSON API, CSV
export, dashboard, snapshot events), decided here and nowhere else.

It matches NHS England's official FFT pipeline (``nhsengland/fft_pipeline``):

* Which rows are suppressed: ``reporting.rules.disclosure.protect`` on the organisation tree's
  Total Responses, as ``src/fft/suppression.py`` (first level 1-4 responses, second level
  on the rank-2 sibling, cascade to the two smallest children of a suppressed parent;
  ties by ODS code).
* What a suppressed row shows, as ``suppress_values`` in ``src/fft/suppression.py``: all
  six answer counts ("Likert responses") and the collection-mode counts are ``*``;
  Total Responses stays shown; Percentage Positive / Negative are ``*`` only when the
  row itself had 1 to 4 responses (``First_Level_Suppression``), and shown for a row
  suppressed at the second level or by cascade. A row that is not suppressed shows
  every count.
* Percentages: (Very Good + Good) / Total Responses and (Poor + Very Poor) / Total
  Responses kept exact (``processors.py``) and displayed whole, rounded half away from
  zero (the templates' ``0%`` format, ``writers.py``); no responses is ``NA``.

The hub's own "excluding don't know" percentages are not in NHS England's files; in a
suppressed row they are always ``*``.

Every output is then audited (``reporting.rules.disclosure_audit``): where these rules leave a
starred cell exactly recoverable (a shown zero or percentages that leave no room), the
least extra suppression found by the audit's search is added, listed per row
(``extra_suppression``) and labelled on every output."""

from dataclasses import dataclass, field
from typing import Any

from hub_shared.organisations import Organisations
from reporting.rules.disclosure import SUPPRESSED, Cell, protect
from reporting.rules.disclosure_audit import Report, close
from reporting.rules.fft import ANSWERS, MODES, NEGATIVE, POSITIVE, percentage
from reporting.rules.figures import Fact, Figure, Key, Publication
from reporting.rules.published import kept

RULE_SET = "nhse-fft-v1"
RULE_SET_SUMMARY = (
    "nhse-fft-v1: rows with 1-4 responses, the rank-2 sibling of such a row and the two smallest "
    "children of a suppressed row are suppressed; a suppressed row shows Total Responses and * for "
    "every answer and mode count; its percentages are * only if it had 1-4 responses; percentages "
    "rounded half away from zero; cells the disclosure audit found recoverable are also * (extra)."
)
PERCENTAGES = ("pct_positive", "pct_negative", "pct_positive_excl_dont_know", "pct_negative_excl_dont_know")


@dataclass
class OrgFigures:
    """An organisation's counts, everything under it included, and its children."""

    code: str
    answers: dict[str, int]
    modes: dict[str, int]
    children: list["OrgFigures"] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    def own(self, column: str, group: str) -> int:
        """What the organisation holds that none of its children do (feedback posted to a place)."""
        mine = getattr(self, group)[column]
        return int(mine - sum(getattr(c, group)[column] for c in self.children))


@dataclass
class FftTable:
    rows: list[dict[str, Any]]
    publication: Publication
    audit: Report
    extra_suppression: list[str] = field(default_factory=list)  # "CODE:column" of every extra star


def _cells(node: OrgFigures) -> Cell:
    return Cell(node.code, node.total, [_cells(c) for c in node.children])


def _walk(node: OrgFigures) -> list[OrgFigures]:
    return [node, *[n for c in node.children for n in _walk(c)]]


def _describe(pub: Publication, node: OrgFigures, cell: Cell, label: str | None = None) -> None:
    """The figures of ``node``'s row and the facts binding them; with ``label`` (a month or
    all months) the row is that table's (``code@label``), beside the other tables'."""

    def row(code: str) -> str:
        return code if label is None else f"{code}@{label}"

    code, suppressed = row(node.code), cell.suppressed
    total = pub.add((code, "total"), node.total, fixed=True)
    empty = node.total == 0  # no responses: every count is 0 and said so by the total
    answers = [pub.add((code, a), node.answers[a], shown=not suppressed, fixed=empty) for a in ANSWERS]
    pub.sums_to(total, answers)
    modes = [pub.add((code, f"mode_{m}"), node.modes[m], shown=not suppressed, fixed=empty) for m in MODES]
    if sum(node.modes.values()) == node.total:
        pub.sums_to(total, modes)
    else:  # some answers came without their mode (a return without mode columns)
        pub.at_most(total, modes)
    first_level = cell.reason == "first-level"
    positive, negative = [(code, a) for a in POSITIVE], [(code, a) for a in NEGATIVE]
    pub.add_percentage((code, "pct_positive"), positive, [(total, 1)], shown=not first_level)
    pub.add_percentage((code, "pct_negative"), negative, [(total, 1)], shown=not first_level)
    known = [(total, 1), ((code, "dont_know"), -1)]
    counts = tuple((code, a) for a in ANSWERS)
    pub.add_percentage((code, "pct_positive_excl_dont_know"), positive, known, not suppressed, star_with=counts)
    pub.add_percentage((code, "pct_negative_excl_dont_know"), negative, known, not suppressed, star_with=counts)
    for column, group in [*[(a, "answers") for a in ANSWERS], *[(m, "modes") for m in MODES]]:
        if node.children:
            key = column if group == "answers" else f"mode_{column}"
            pub.sums_to((code, key), [(row(c.code), key) for c in node.children], offset=node.own(column, group))


def _value(pub: Publication, key: Key) -> int | str | None:
    figure = pub.figures[key]
    if figure.percentage and figure.shown and pub.figures[(key[0], "total")].value == 0:
        return None
    if figure.percentage and figure.shown and key[1].endswith("excl_dont_know"):
        known = pub.figures[(key[0], "total")].value - pub.figures[(key[0], "dont_know")].value
        if known == 0:
            return None
    return pub.shown(key)


Trend = tuple[str, tuple[tuple[str, tuple[int, ...]], ...], str | None]
_TABLES = kept(256)


def _fingerprint(node: OrgFigures) -> tuple[Any, ...]:
    return (
        node.code,
        tuple(node.answers[a] for a in ANSWERS),
        tuple(node.modes[m] for m in MODES),
        tuple(_fingerprint(c) for c in node.children),
    )


def publish_fft(organisations: Organisations, root: OrgFigures, trend: Trend | None = None) -> FftTable:
    """The FFT table of ``root`` and everything under it, as nhse-fft-v1 shows it, audited.
    ``trend`` is what else the same output shows (the dashboard's monthly % positive of an
    organisation): (code, ((month, answer counts), ...), the month the table covers or
    "all" when it covers every month of the same responses, else None).
    The same figures always give the same table, so tables are kept for reuse."""
    key = (_fingerprint(root), trend)  # every count of the table and its trend: see ``published``
    return _TABLES.get_or_make(key, lambda: _publish_fft(organisations, root, trend))  # type: ignore[no-any-return]


def _publish_fft(organisations: Organisations, root: OrgFigures, trend: Trend | None) -> FftTable:
    pub, cells = nhse_publication(root)
    nodes = _walk(root)
    if trend is not None:
        _trend_facts(pub, *trend)
    report = close(pub)
    rows = [table_row(pub, organisations, node, cells[node.code]) for node in nodes]
    return FftTable(rows, pub, report, [f"{row}:{column}" for row, column in pub.extra])


def table_row(
    pub: Publication, organisations: Organisations, node: OrgFigures, cell: Cell, label: str | None = None
) -> dict[str, Any]:
    """``node``'s row as published, read from ``pub`` (the row ``code@label`` with a label)."""
    code, org = node.code, organisations.get(node.code)
    row = code if label is None else f"{code}@{label}"
    return {
        "organisation_code": code,
        "name": org.name if org else code,
        "kind": org.kind.value if org else None,
        "parent": org.parent if org else None,
        "total": node.total,
        "answers": {a: pub.shown((row, a)) for a in ANSWERS},
        "modes": {m: pub.shown((row, f"mode_{m}")) for m in MODES},
        **{p: _value(pub, (row, p)) for p in PERCENTAGES},
        "suppression": cell.reason,
        "extra_suppression": [column for r, column in pub.extra if r == row],
    }


def nhse_publication(root: OrgFigures) -> tuple[Publication, dict[str, Cell]]:
    """The table as NHS England's rules alone would show it (before the audit's extra stars),
    and each row's suppression decision."""
    tree = protect(_cells(root))
    cells = {c.key: c for c in _flatten(tree)}
    pub = Publication("fft")
    for node in _walk(root):
        _describe(pub, node, cells[node.code])
    return pub, cells


def _flatten(cell: Cell) -> list[Cell]:
    return [cell, *[c for child in cell.children for c in _flatten(child)]]


def trend_rows(months: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """% positive by month as nhse-fft-v1 shows it: the total always, the percentage * for a
    month of 1 to 4 responses (first level), None for a month of none."""
    rows = []
    for month, counts in sorted(months.items()):
        total = sum(counts.values())
        positive = sum(counts.get(a, 0) for a in POSITIVE)
        shown: int | str | None = SUPPRESSED if 0 < total < 5 else percentage(positive, total)
        rows.append({"month": month, "total": total, "pct_positive": shown, "suppressed": 0 < total < 5})
    return rows


def trend_input(code: str, months: dict[str, dict[str, int]], link_to_table: str | None) -> Trend:
    return (code, tuple((m, tuple(c.get(a, 0) for a in ANSWERS)) for m, c in sorted(months.items())), link_to_table)


def _trend_facts(
    pub: Publication, code: str, months: tuple[tuple[str, tuple[int, ...]], ...], link: str | None
) -> None:
    """Each shown monthly percentage bounds that month's positive answers, and when the table
    covers the same responses (``link``: "all" or the month) the months add up to the
    table's very good + good of ``code``."""
    monthly = []
    for month, counts in months:
        total = sum(counts)
        positive = pub.add((code, f"positive@{month}"), counts[0] + counts[1], shown=False, audited=False)
        monthly.append((month, positive))
        month_total = pub.add((code, f"total@{month}"), total, fixed=True)
        pub.add_percentage((code, f"pct_positive@{month}"), [positive], [(month_total, 1)], shown=not 0 < total < 5)
        pub.figures[(code, f"pct_positive@{month}")].fixed = True  # the trend's rule decides, not the search
    linked = [k for m, k in monthly if link in ("all", m)]
    if linked:
        pub.facts.append(Fact([*[((code, a), 1) for a in POSITIVE], *[(k, -1) for k in linked]], 0, 0))


@dataclass
class Counts:
    """A flat set of counts of people under their total (themes, channels), published by the
    selection rules of ``reporting.rules.disclosure`` and audited with whatever else binds them."""

    shown: dict[Key, int | str]
    publication: Publication
    audit: Report


def add_counts(pub: Publication, row: str, counts: dict[str, int], total_column: str, total_shown: bool = True) -> None:
    """A total over its parts; stars from the rule (1 to 4, and the next smallest) are never
    zero, which a reader knows, so they carry a floor of 1."""
    cells = protect(Cell(total_column, sum(counts.values()), [Cell(k, v) for k, v in counts.items()]))
    total = pub.add((row, total_column), cells.count, shown=total_shown and not cells.suppressed, audited=total_shown)
    if cells.suppressed:
        pub.figures[total].floor = 1
    parts = []
    for cell in cells.children:
        parts.append(pub.add((row, cell.key), cell.count, shown=not cell.suppressed, floor=1 if cell.suppressed else 0))
    pub.sums_to(total, parts)


ThemesPublished = tuple[dict[str, int | str], dict[str, dict[str, int | str]], Publication, Report]
_THEMES = kept(256)


def publish_themes(overall: dict[str, int], by_month: dict[str, dict[str, int]], month: str | None) -> ThemesPublished:
    """Themes' mentions (overall, or in ``month``) beside their trend by month. A theme's
    overall mentions are the sum of its months (or that month's), a month's mentions the sum
    of its themes, and a theme missing from a month is a shown zero. The same counts give the
    same result, kept for reuse: the audit runs once per set of counts, not per request."""
    key = (
        tuple(sorted(overall.items())),
        tuple((m, tuple(sorted(c.items()))) for m, c in sorted(by_month.items())),
        month,
    )
    return _THEMES.get_or_make(key, lambda: _publish_themes(overall, by_month, month))  # type: ignore[no-any-return]


def themes_publication(overall: dict[str, int], by_month: dict[str, dict[str, int]], month: str | None) -> Publication:
    """The themes report as the selection rules alone would show it (before the audit's extra
    stars), with the facts binding its figures."""
    pub = Publication("themes")
    themes = sorted(set(overall) | {t for c in by_month.values() for t in c})
    add_counts(pub, "overall", {t: overall.get(t, 0) for t in themes}, "mentions", total_shown=False)
    for m, counts in sorted(by_month.items()):
        add_counts(pub, m, {t: counts.get(t, 0) for t in themes}, "mentions")
    for t in themes:
        months = [(m, t) for m in sorted(by_month) if month in (None, m)]
        if months:
            pub.sums_to(("overall", t), months)
    return pub


def _publish_themes(overall: dict[str, int], by_month: dict[str, dict[str, int]], month: str | None) -> ThemesPublished:
    pub = themes_publication(overall, by_month, month)
    themes = sorted(set(overall) | {t for c in by_month.values() for t in c})
    report = close(pub)
    shown_overall = {t: pub.shown(("overall", t)) for t in themes if overall.get(t, 0)}
    shown_months = {
        m: {"mentions": pub.shown((m, "mentions")), **{t: pub.shown((m, t)) for t in themes if counts.get(t, 0)}}
        for m, counts in sorted(by_month.items())
    }
    return shown_overall, shown_months, pub, report


def publish_scorecard_counts(
    channels: dict[str, int], individual: int, returns: int
) -> tuple[dict[str, int | str], Publication, Report]:
    """The scorecard's counts of people: submissions by channel under the individual
    submissions, and those with the FFT return responses making the feedback volume."""
    pub = Publication("scorecard")
    add_counts(pub, "channels", channels, "submissions")
    volume = pub.add(("scorecard", "feedback_volume"), individual + returns)
    returned = pub.add(("scorecard", "fft_return_responses"), returns)
    for key in (volume, returned):
        if 0 < pub.figures[key].value < 5:
            pub.star(key)
            pub.figures[key].floor = 1
    pub.sums_to(volume, [("channels", "submissions"), returned])
    report = close(pub)
    shown = {
        "feedback_volume": pub.shown(volume),
        "individual_submissions": pub.shown(("channels", "submissions")),
        "fft_return_responses": pub.shown(returned),
        **{f"channel:{c}": pub.shown(("channels", c)) for c in channels},
    }
    return shown, pub, report


def _count(value: Any) -> tuple[int, bool]:
    return (0, False) if value == SUPPRESSED else (int(value), True)


def published_fft(rows: list[dict[str, Any]]) -> Publication:
    """What a reader of a published FFT table (API rows, a CSV read back, a snapshot event)
    knows, rebuilt from the shown figures alone: starred cells are unknowns, shown ones
    constants, with every fact the layout implies (a parent is the sum of its children,
    answers add up to the total, modes to at most the total, percentages as shown). Audit
    it with ``audit(..., intervals=True)``: the true values are not in it."""
    pub = Publication("published fft")
    codes = {r["organisation_code"] for r in rows}
    for r in rows:
        code = r["organisation_code"]
        total = pub.add((code, "total"), int(r["total"]), fixed=True)
        answers = []
        for a in ANSWERS:
            value, shown = _count(r["answers"][a])
            answers.append(pub.add((code, a), value, shown=shown))
        pub.sums_to(total, answers)
        modes = []
        for m in MODES:
            value, shown = _count(r["modes"][m])
            modes.append(pub.add((code, f"mode_{m}"), value, shown=shown))
        pub.at_most(total, modes)
        groups = {"pct_positive": POSITIVE, "pct_negative": NEGATIVE}
        for name, numerator in groups.items():
            for excl in (False, True):
                column = f"{name}_excl_dont_know" if excl else name
                shown_pct = r.get(column)
                if shown_pct in (None, SUPPRESSED):
                    continue
                pub.figures[(code, column)] = Figure(int(shown_pct), True, percentage=True, audited=False)
                denominator = [(total, 1), ((code, "dont_know"), -1)] if excl else [(total, 1)]
                pub.percentage_facts((code, column), [(code, a) for a in numerator], denominator)
    for r in rows:
        children = [c["organisation_code"] for c in rows if c["parent"] == r["organisation_code"]]
        if not children or not codes.issuperset(children):
            continue
        for column in [*ANSWERS, *[f"mode_{m}" for m in MODES], "total"]:
            pub.sums_to((r["organisation_code"], column), [(c, column) for c in children])
    return pub
