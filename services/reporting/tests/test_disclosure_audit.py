"""The disclosure audit's shortcuts (no model when nothing is starred, bound propagation,
witnesses, sweeps) against integer programming alone, on many generated tables: every starred
count's interval, and so every finding, must be the solver's. A shortcut that called a
recoverable cell safe (or the reverse) fails here. And the published results kept by their
inputs: a changed count is a new key, never a stale table."""

import math
import threading

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_shared.organisations import Kind, Organisation, Organisations
from reporting.rules import published, recovery
from reporting.rules.cross_output import ALL, all_months, publish_fft_views
from reporting.rules.disclosure_audit import audit, close
from reporting.rules.fft import ANSWERS, MODES
from reporting.rules.figures import Key, Publication
from reporting.rules.publication import (
    OrgFigures,
    nhse_publication,
    publish_fft,
    publish_themes,
    themes_publication,
)

pytestmark = pytest.mark.long(seconds=24)

EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def solver_intervals(pub: Publication) -> dict[Key, tuple[int, float]]:
    """Each starred count's least and greatest whole value by integer programming alone: one
    HiGHS model of every count and every fact that holds, each cell minimised and maximised."""
    keys = [k for k, f in pub.figures.items() if not f.percentage]
    index = {k: i for i, k in enumerate(keys)}
    figures = [pub.figures[k] for k in keys]
    highs = highspy.Highs()
    highs.silent()
    # The audit's models ask for one thread, as this one does (HiGHS sizes a thread's scheduler
    # by the first model it runs).
    highs.setOptionValue("threads", 1)
    lower = np.array([f.value if f.shown else f.floor for f in figures], dtype=float)
    upper = np.array([f.value if f.shown else highspy.kHighsInf for f in figures], dtype=float)
    highs.addVars(len(keys), lower, upper)
    highs.changeColsIntegrality(
        len(keys), np.arange(len(keys), dtype=np.int32), np.full(len(keys), highspy.HighsVarType.kInteger)
    )
    for fact in pub.facts:
        if not all(pub.figures[k].shown for k in fact.while_shown):
            continue
        coefs: dict[int, float] = {}
        for k, c in fact.terms:
            coefs[index[k]] = coefs.get(index[k], 0) + c
        lo = -highspy.kHighsInf if fact.lo is None else fact.lo - fact.constant
        hi = highspy.kHighsInf if fact.hi is None else fact.hi - fact.constant
        columns = np.array(sorted(coefs), dtype=np.int32)
        highs.addRow(lo, hi, len(columns), columns, np.array([coefs[c] for c in columns]))
    found: dict[Key, tuple[int, float]] = {}
    for key, figure in pub.figures.items():
        if figure.shown or figure.percentage or not figure.audited:
            continue
        bounds = []
        for sign in (1, -1):
            cost = np.zeros(len(keys))
            cost[index[key]] = sign
            highs.changeColsCost(len(keys), np.arange(len(keys), dtype=np.int32), cost)
            highs.run()
            status = highs.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                bounds.append(round(highs.getSolution().col_value[index[key]]))
            else:  # unbounded above
                assert sign == -1, status
                bounds.append(math.inf)
        found[key] = (int(bounds[0]), float(bounds[1]))
    return found


def assert_audit_is_the_solvers(pub: Publication) -> None:
    expected = solver_intervals(pub)
    assert audit(pub, intervals=True).intervals == expected
    recoverable = {k: lo for k, (lo, hi) in expected.items() if lo == hi}
    assert {f.key: f.value for f in audit(pub).findings} == recoverable


counts = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 9, 20])


@st.composite
def theme_tables(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, dict[str, int]], str | None]:
    themes = [f"t{i}" for i in range(draw(st.integers(2, 5)))]
    months = [f"2025-{m:02d}" for m in range(1, draw(st.integers(1, 4)) + 1)]
    by_month = {m: {t: draw(counts) for t in themes} for m in months}
    month = draw(st.sampled_from([None, *months]))
    overall = {t: sum(c[t] for m, c in by_month.items() if month in (None, m)) for t in themes}
    return overall, by_month, month


@EXAMPLES
@given(theme_tables())
def test_the_audit_of_a_themes_report_is_integer_programmings(table: tuple) -> None:  # type: ignore[type-arg]
    pub = themes_publication(*table)
    assert_audit_is_the_solvers(pub)  # as the selection rules alone leave it: findings to agree on
    close(pub)
    assert_audit_is_the_solvers(pub)  # with the extra stars: nothing recoverable, by either


@st.composite
def practices(draw: st.DrawFn, code: str) -> OrgFigures:
    answers = [draw(st.sampled_from([0, 0, 1, 2, 3, 6, 11])) for _ in ANSWERS]
    modes = [0] * len(MODES)
    for _ in range(sum(answers)):
        modes[draw(st.integers(0, len(MODES) - 1))] += 1
    return OrgFigures(code, dict(zip(ANSWERS, answers, strict=True)), dict(zip(MODES, modes, strict=True)))


def above(code: str, children: list[OrgFigures]) -> OrgFigures:
    answers = {a: sum(c.answers[a] for c in children) for a in ANSWERS}
    return OrgFigures(code, answers, {m: sum(c.modes[m] for c in children) for m in MODES}, children)


@st.composite
def ics_trees(draw: st.DrawFn) -> OrgFigures:
    places = []
    for p in range(draw(st.integers(1, 2))):
        places.append(above(f"0{p}X", [draw(practices(f"P{p}{q}")) for q in range(draw(st.integers(1, 3)))]))
    return above("QZZ", places)


@EXAMPLES
@given(ics_trees())
def test_the_audit_of_an_fft_table_is_integer_programmings(root: OrgFigures) -> None:
    pub, _ = nhse_publication(root)
    assert_audit_is_the_solvers(pub)
    close(pub)
    assert_audit_is_the_solvers(pub)


@EXAMPLES
@given(ics_trees(), theme_tables())
def test_the_audit_solved_part_by_part_is_integer_programmings(root: OrgFigures, table: tuple) -> None:  # type: ignore[type-arg]
    """As a large output is solved (each question on its part of the output, a model of its
    own), here forced on small ones: the same intervals and findings as integer programming."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recovery, "WHOLE_MODEL_COLUMNS", 0)
        for pub in (nhse_publication(root)[0], themes_publication(*table)):
            assert_audit_is_the_solvers(pub)
            close(pub)
            assert_audit_is_the_solvers(pub)


def test_a_table_with_nothing_starred_needs_no_solver_and_has_nothing_to_find() -> None:
    overall, by_month = {"access": 70, "staff": 30}, {"2025-01": {"access": 30, "staff": 12}}
    by_month["2025-02"] = {"access": 40, "staff": 18}
    pub = themes_publication(overall, by_month, None)
    pub.figures[("overall", "mentions")].shown = True  # as if every figure were shown
    report = close(pub)
    assert report.checked == 0 and report.findings == [] and pub.extra == []
    assert solver_intervals(pub) == {}


def large(code: str, base: int) -> OrgFigures:
    answers = [base + i for i in range(len(ANSWERS))]
    modes = [sum(answers), *[0] * (len(MODES) - 1)]
    return OrgFigures(code, dict(zip(ANSWERS, answers, strict=True)), dict(zip(MODES, modes, strict=True)))


def test_fft_tables_with_nothing_starred_are_published_without_their_facts_and_show_the_same() -> None:
    published.forget()
    months = {m: above("QZZ", [above("01X", [large("P1", 20 + i), large("P2", 30 + i)])]) for i, m in enumerate("AB")}
    orgs = Organisations(
        [
            Organisation("QZZ", "ICB", Kind.ICB, None, None),
            Organisation("01X", "Place", Kind.PLACE, "QZZ", None),
            *[Organisation(p, p, Kind.PRACTICE, "01X", None) for p in ("P1", "P2")],
        ]
    )
    views = publish_fft_views(orgs, months)
    assert not views.publication.bound and views.publication.facts == [] and views.audit.findings == []
    # the same rows as the table published alone with every fact and audited
    alone = publish_fft(orgs, all_months(months))
    assert alone.publication.facts and alone.extra_suppression == []
    assert views.table("QZZ", ALL).rows == alone.rows
    # rows described as they are read: a month's once its table is read, as its table alone
    assert ("P1@A", "good") not in views.publication.figures
    assert views.table("01X", "A").rows == publish_fft(orgs, months["A"].children[0]).rows
    # and a star in it is refused, never called safe
    views.publication.star(("P1@A", "good"))
    with pytest.raises(ValueError, match="without its facts"):
        audit(views.publication)


def test_a_published_table_is_kept_by_its_exact_counts_and_a_new_count_is_a_new_table() -> None:
    published.forget()
    by_month = {"2025-01": {"access": 3, "staff": 12}, "2025-02": {"access": 4, "staff": 18}}
    first = publish_themes({"access": 7, "staff": 30}, by_month, None)
    assert publish_themes({"access": 7, "staff": 30}, by_month, None) is first  # kept
    by_month["2025-02"] = {"access": 5, "staff": 18}  # one more mention: new figures
    second = publish_themes({"access": 8, "staff": 30}, by_month, None)
    assert second is not first and second[3].findings == []
    assert audit(second[2], intervals=True).findings == []


def test_kept_results_are_bounded() -> None:
    cache = published.kept(2)
    for i in range(5):
        cache.get_or_make(i, lambda i=i: i)
    assert len(cache) == 2 and cache.get(4) == 4 and cache.get(0) is None
    published.forget()
    assert len(cache) == 0


def test_the_audit_works_after_another_highs_model_of_the_default_thread_count() -> None:
    """HiGHS sizes a thread's task scheduler by the first model run on it: one left at the
    default thread count (another library, a test) made every later audit model on that thread
    fail as "figures contradict the facts". In a thread of its own, so no earlier test has run
    HiGHS on it."""
    practice = OrgFigures("P1", {**dict.fromkeys(ANSWERS, 0), "good": 2}, {**dict.fromkeys(MODES, 0), "sms": 2})
    root = above("QZZ", [above("01X", [practice])])
    outcome: list[object] = []

    def run() -> None:
        other = highspy.Highs()
        other.silent()  # threads left at the default
        other.addVars(1, np.array([0.0]), np.array([5.0]))
        other.changeColsIntegrality(1, np.array([0], dtype=np.int32), np.array([highspy.HighsVarType.kInteger]))
        other.run()
        try:
            pub, _ = nhse_publication(root)
            outcome.append(close(pub))
        except Exception as exc:  # to the test's own thread
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert len(outcome) == 1 and not isinstance(outcome[0], Exception), outcome
    assert outcome[0].clean  # type: ignore[attr-defined]
