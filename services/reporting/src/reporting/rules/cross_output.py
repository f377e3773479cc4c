"""Disclosure across outputs: what a reader can put side by side.

A reader with the same rights can open every month's FFT table and the all-months one, the
ICB's table and each place's and practice's own, the trend by month, the dashboard and the
CSV. Each is safe alone and pairs leak: "all months" minus the other months gives a month's
starred cell, a practice starred in the ICB's table may be shown in its place's own table.

``publish_fft_views`` therefore decides suppression once for all of them:

* NHS England's rules (``reporting.rules.disclosure.protect``) run on the ICB's whole tree,
  for each month and for all months; every table of an organisation under the ICB is a view
  of those rows, so a row starred in the ICB's table is starred in the place's and the
  practice's own table too (a place's table only adds stars to NHS England's layout).
* Every one of those tables goes into one ``Publication`` with the facts that bind them
  across outputs: a parent is the sum of its children (within each table), and an
  organisation's all-months count of each answer and mode is the sum of its months. The
  trend's points (the total and % positive of each month) are the month tables' own cells.
* The disclosure audit's search (``reporting.rules.disclosure_audit.close``) then adds the
  least extra suppression it finds until no starred cell of any of them is recoverable, so a
  cell starred in a month forces the complementary stars in the other months or in all
  months. It is deterministic (the same figures give the same stars), and every output
  reads its cells from the one result, so they all agree.

``published_view`` is the other side: what a reader knows from the outputs as published
(shown figures only, starred ones unknown), merged, with every fact that binds them; the
audit of it (``audit(..., intervals=True)``) is how tests and ``reporting audit MONTH``
prove that nothing starred is recoverable from any combination."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hub_shared.organisations import Organisations
from reporting.rules.disclosure import SUPPRESSED, Cell, protect
from reporting.rules.disclosure_audit import Report, close
from reporting.rules.fft import ANSWERS, MODES, NEGATIVE, POSITIVE
from reporting.rules.figures import Figure, Publication
from reporting.rules.publication import FftTable, OrgFigures, _describe, _fingerprint, table_row
from reporting.rules.published import kept

ALL = "all"
COLUMNS = (*ANSWERS, *(f"mode_{m}" for m in MODES))


def row_key(code: str, label: str) -> str:
    """An organisation's row in the table of ``label`` (a month, or ``ALL``)."""
    return f"{code}@{label}"


# --- What a reader knows from published outputs -------------------------------------------


def _count(value: Any) -> tuple[int, bool]:
    return (0, False) if value == SUPPRESSED else (int(value), True)


class _View:
    def __init__(self) -> None:
        self.pub = Publication("published outputs")
        self.rows: set[str] = set()
        self.facts: set[tuple[Any, ...]] = set()

    def fact_once(self, key: tuple[Any, ...], add: Any) -> None:
        if key not in self.facts:
            self.facts.add(key)
            add()

    def figure(self, key: tuple[str, str], value: Any) -> None:
        number, shown = _count(value)
        known = self.pub.figures.get(key)
        if known is None or (shown and not known.shown):
            self.pub.add(key, number, shown=shown)

    def percentage(self, row: str, column: str, shown_pct: Any) -> None:
        if shown_pct in (None, SUPPRESSED) or (row, column) in self.pub.figures:
            return
        total = (row, "total")
        numerator = POSITIVE if column.startswith("pct_positive") else NEGATIVE
        denominator = [(total, 1), ((row, "dont_know"), -1)] if column.endswith("excl_dont_know") else [(total, 1)]
        self.pub.figures[(row, column)] = Figure(int(shown_pct), True, percentage=True, audited=False)
        self.pub.percentage_facts((row, column), [(row, a) for a in numerator], denominator)

    def row(self, row: str, total: int, values: dict[str, Any], percentages: dict[str, Any]) -> None:
        self.pub.add((row, "total"), int(total), fixed=True)
        for column in COLUMNS:
            self.figure((row, column), values.get(column, SUPPRESSED))
        if row not in self.rows:
            self.rows.add(row)
            self.pub.sums_to((row, "total"), [(row, a) for a in ANSWERS])
            self.pub.at_most((row, "total"), [(row, f"mode_{m}") for m in MODES])
        for column, value in percentages.items():
            self.percentage(row, column, value)


def published_view(
    tables: list[tuple[str, list[dict[str, Any]]]],
    trends: dict[str, list[dict[str, Any]]] | None = None,
    months: list[str] | None = None,
) -> Publication:
    """What a reader who can put these outputs side by side knows, from their shown figures
    alone: ``tables`` are (label, rows) — a month's or ``ALL`` months' FFT table as published
    (API rows, a CSV read back, a snapshot); ``trends`` an organisation's trend points;
    ``months`` every month with responses (then an organisation's all-months counts are the
    sum of its months'). A row shown in any output is known; a parent is the sum of its
    children in every table; answers add up to the total, modes to at most it; every shown
    percentage bounds its answers. Audit it with ``audit(..., intervals=True)``."""
    view = _View()
    codes: set[str] = set()
    for label, rows in tables:
        present = {r["organisation_code"] for r in rows}
        codes |= present
        for r in rows:
            values = {**r["answers"], **{f"mode_{m}": v for m, v in r["modes"].items()}}
            pcts = {p: r.get(p) for p in ("pct_positive", "pct_negative")}
            pcts |= {p: r.get(p) for p in ("pct_positive_excl_dont_know", "pct_negative_excl_dont_know")}
            view.row(row_key(r["organisation_code"], label), r["total"], values, pcts)
        for r in rows:
            children = sorted(c["organisation_code"] for c in rows if c["parent"] == r["organisation_code"])
            if not children or not present.issuperset(children):
                continue
            parent = row_key(r["organisation_code"], label)
            for column in (*COLUMNS, "total"):
                parts = [(row_key(c, label), column) for c in children]
                view.fact_once(("sum", parent, column), lambda p=parent, c=column, q=parts: view.pub.sums_to((p, c), q))
    for code, points in (trends or {}).items():
        codes.add(code)
        for point in points:
            view.row(row_key(code, point["month"]), point["total"], {}, {"pct_positive": point["pct_positive"]})
    if months:
        for code in sorted(codes):
            if row_key(code, ALL) not in view.rows:
                continue
            for m in months:  # a month without this organisation's row had none of its responses
                if row_key(code, m) not in view.rows:
                    view.row(row_key(code, m), 0, dict.fromkeys(COLUMNS, 0), {})
            for column in (*COLUMNS, "total"):
                parts = [(row_key(code, m), column) for m in months]
                view.pub.sums_to((row_key(code, ALL), column), parts)
    return view.pub


# --- Publishing every view together -----------------------------------------------------------


def _walk(node: OrgFigures) -> list[OrgFigures]:
    return [node, *[n for c in node.children for n in _walk(c)]]


def _flatten(cell: Cell) -> list[Cell]:
    return [cell, *[c for child in cell.children for c in _flatten(child)]]


def _cells(node: OrgFigures) -> Cell:
    return Cell(node.code, node.total, [_cells(c) for c in node.children])


def all_months(months: dict[str, OrgFigures]) -> OrgFigures:
    """The ICB's tree over every month: each organisation's counts summed over the months."""
    trees = list(months.values())

    def add(group: list[OrgFigures]) -> OrgFigures:
        answers = {a: sum(n.answers[a] for n in group) for a in ANSWERS}
        modes = {m: sum(n.modes[m] for n in group) for m in MODES}
        return OrgFigures(
            group[0].code, answers, modes, [add(list(k)) for k in zip(*(n.children for n in group), strict=True)]
        )

    return add(trees)


@dataclass
class FftViews:
    """Every FFT table (each month's and all months', of the ICB and of every organisation
    under it) and every trend point, published together under nhse-fft-v1 and audited as one."""

    organisations: Organisations
    trees: dict[str, dict[str, OrgFigures]]  # label -> code -> the organisation's subtree
    cells: dict[str, dict[str, Cell]]  # label -> code -> NHS England's decision on the ICB's tree
    publication: Publication
    audit: Report

    @property
    def labels(self) -> list[str]:
        return list(self.trees)

    def _described(self, label: str, nodes: list[OrgFigures]) -> None:
        """The rows of ``nodes`` in the publication. Where something is starred every row is
        there from the start (the audit needs them all); where nothing is, a row is described
        when an output first reads it, so a reader of one table pays for that table only."""
        for node in nodes:
            if (row_key(node.code, label), "total") not in self.publication.figures:
                _describe(self.publication, node, self.cells[label][node.code], label)

    def table(self, code: str, label: str) -> FftTable:
        """``code``'s table for a month (or ``ALL``): its rows of the one publication."""
        root = self.trees[label][code]
        nodes = _walk(root)
        self._described(label, nodes)
        rows = [table_row(self.publication, self.organisations, n, self.cells[label][n.code], label) for n in nodes]
        mine = {row_key(n.code, label) for n in nodes}
        extra = [f"{r.rsplit('@', 1)[0]}:{column}" for r, column in self.publication.extra if r in mine]
        return FftTable(rows, self.publication, self.audit, extra)

    def trend(self, code: str, months: list[str] | None = None) -> list[dict[str, Any]]:
        """% positive by month (the months with responses, or ``months``), as the month tables
        show ``code``'s row: the total always, the percentage unless that row stars it."""
        points = []
        for month in sorted(months if months is not None else [m for m in self.trees if m != ALL]):
            node = self.trees.get(month, {}).get(code)
            if node is None or (months is None and node.total == 0):
                continue
            self._described(month, [node])
            pct = self.publication.shown((row_key(code, month), "pct_positive"))
            shown = None if node.total == 0 else pct
            points.append({"month": month, "total": node.total, "pct_positive": shown, "suppressed": pct == SUPPRESSED})
        return points


_VIEWS = kept(32)
# One thread publishes the FFT views: an audit of many starred cells takes seconds of CPU, which
# on the event loop would stall every other request of the process (health checks too). One
# thread, not several: the audits queue (one report's CPU at a time, however many readers ask
# at once), and a request queued behind the same figures finds them kept when its turn comes.
_AUDITS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fft-audit")


def _views_key(months: dict[str, OrgFigures]) -> tuple[Any, ...]:
    return tuple((m, _fingerprint(months[m])) for m in sorted(months))  # every count: see ``published``


async def fft_views_off_loop(organisations: Organisations, months: dict[str, OrgFigures]) -> FftViews:
    """``publish_fft_views`` for a request: figures kept already are answered at once, others
    are published on the audit's thread while the event loop serves other requests."""
    key = _views_key(months)
    views = _VIEWS.get(key)
    if views is None:
        views = await asyncio.get_running_loop().run_in_executor(
            _AUDITS, _VIEWS.get_or_make, key, lambda: _publish_fft_views(organisations, months)
        )
    return views  # type: ignore[no-any-return]


def publish_fft_views(organisations: Organisations, months: dict[str, OrgFigures]) -> FftViews:
    """Every table of the ICB's tree ``months[m]`` (one per month with responses) and of all
    months, published together: NHS England's rules on the ICB's tree per table, then the
    audit's extra suppression over all of them with the facts that bind them across outputs
    (parents and children, months and all months). The same figures give the same result,
    kept for reuse."""
    return _VIEWS.get_or_make(_views_key(months), lambda: _publish_fft_views(organisations, months))  # type: ignore[no-any-return]


def _publish_fft_views(organisations: Organisations, months: dict[str, OrgFigures]) -> FftViews:
    labelled = {m: months[m] for m in sorted(months)}
    if labelled:
        labelled[ALL] = all_months(labelled)
    cells = {label: {c.key: c for c in _flatten(protect(_cells(root)))} for label, root in labelled.items()}
    trees = {label: {n.code: n for n in _walk(root)} for label, root in labelled.items()}
    # No row starred by NHS England's rules in any table (large counts): every figure is shown,
    # nothing is there for a reader to work out, and the audit would add nothing, so the facts
    # binding the figures are not recorded (``Publication.bound``).
    starred = any(c.suppressed for by_code in cells.values() for c in by_code.values())
    pub = Publication("fft views", bound=starred)
    if not starred:  # every figure shown: rows are described as outputs read them
        return FftViews(organisations, trees, cells, pub, Report(checked=0, intervals={}, findings=[]))
    for label, root in labelled.items():
        for node in _walk(root):
            _describe(pub, node, cells[label][node.code], label)
    month_labels = [m for m in labelled if m != ALL]
    if len(month_labels) > 1:
        for code in trees.get(ALL, {}):
            for column in COLUMNS:
                pub.sums_to((row_key(code, ALL), column), [(row_key(code, m), column) for m in month_labels])
    elif month_labels:  # one month: all months is the same table
        for code in trees[ALL]:
            for column in COLUMNS:
                pub.sums_to((row_key(code, ALL), column), [(row_key(code, month_labels[0]), column)])
    return FftViews(organisations, trees, cells, pub, close(pub))
