"""What a reader can recover from an output: every count of a ``Publication`` and the facts
binding them, kept while the disclosure audit's search stars and shows figures again.

A shown count is fixed at its value, a starred one free from its floor up; a fact is a row,
and a fact that holds only while a percentage is shown is dropped while that percentage is
starred. Starring or showing a figure therefore changes bounds only.

A small output (up to ``WHOLE_MODEL_COLUMNS`` counts) is one HiGHS model (``highspy``), kept
while the search goes on: a question changes its objective and bounds, and HiGHS re-solves
from the last basis in a few pivots. A large one is solved on the part of the output each
question is about: the starred counts bound to the counts the question names, through facts,
and nothing else (a shown count is a constant, so it binds nothing). The rest of the output
can keep its true values whatever that part does, so the part's optimum is the whole
output's. For an FFT service area whose small counts star thousands of cells across every
month and organisation, a part is a few hundred columns where the whole has thousands; each
part is a model of its own. Either way the same figures give the same solutions: the
questions asked, and their order, follow from the figures.

Most questions are answered without solving at all. Every whole-number solution found is kept
as a *witness*: the true values are one solution, so a witness in which a starred count differs
from its true value proves that count cannot be worked out. Starring more only widens what a
reader must allow for, so a witness stays valid; showing a figure again keeps the witnesses that
agree with it. Only the counts that no witness has moved are solved, and each solution found
becomes a witness for the next question.

Figures always shown (``fixed``, such as NHS England's Total Responses) are constants, not
columns. A row whose columns share a factor (a percentage's 200 x numerator) is divided by it
and its bounds rounded inwards: the same whole-number solutions, and a relaxation whose optimum
is already whole far more often, so integer programs are rarely needed."""

import math
import os
import sys
import threading
from collections.abc import Iterable
from functools import cache, reduce

import highspy
import numpy as np

from reporting.rules.figures import Fact, Key, Publication

_INF = highspy.kHighsInf
_TOLERANCE = 1e-6
# One HiGHS run at a time in a process: FFT views are audited on a thread of their own while
# other outputs are published on the event loop's, and two runs at once would only share the
# same CPU (each run is single-threaded, and HiGHS sizes a scheduler per thread: see ``_run``).
_ONE_AT_A_TIME = threading.Lock()
# Up to this many counts an output is one kept model; above, each question is solved on its part.
WHOLE_MODEL_COLUMNS = 4000


@cache
def _quiet_highs() -> None:
    """HiGHS prints its banner on stdout the first time a model is made in a process; make
    that first one with stdout pointed at /dev/null, so CLI output and logs stay clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def constant(pub: Publication, key: Key) -> bool:
    """A figure every reader always sees: part of a fact's bounds, never a column."""
    figure = pub.figures[key]
    return figure.fixed and figure.shown and not figure.percentage


class RecoveryModel:
    """The counts of ``pub`` that are not constants, the facts binding them, and the witnesses
    found so far. Call ``sync`` (the queries do) after starring or showing figures."""

    def __init__(self, pub: Publication) -> None:
        self.pub = pub
        self.keys = [k for k, f in pub.figures.items() if not f.percentage and not constant(pub, k)]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.n = len(self.keys)
        self.truth = np.array([pub.figures[k].value for k in self.keys], dtype=float)
        self.floor = np.array([pub.figures[k].floor for k in self.keys], dtype=float)
        self.shown = np.array([pub.figures[k].shown for k in self.keys], dtype=bool)
        self.rows: list[tuple[Fact, np.ndarray, np.ndarray, float, float]] = []
        for fact in pub.facts:
            row = self._row(fact)
            if row is not None:
                self.rows.append((fact, *row))
        # Facts that hold only while a percentage is shown: which rows, and which percentage.
        self.percentages = sorted({k for f, *_ in self.rows for k in f.while_shown})
        where = {k: i for i, k in enumerate(self.percentages)}
        conditional = [(r, where[f.while_shown[0]]) for r, (f, *_) in enumerate(self.rows) if f.while_shown]
        if any(len(f.while_shown) > 1 for f, *_ in self.rows):
            raise ValueError("a fact holds while one percentage is shown, not several")
        self.conditional_rows = np.array([r for r, _ in conditional], dtype=np.int64)
        self.conditional_on = np.array([k for _, k in conditional], dtype=np.int64)
        self.constants = [k for k in pub.figures if constant(pub, k)]
        # The figures themselves, in column order: ``sync`` reads whether each is shown on every
        # question, without a dictionary look-up per figure.
        self.counts = [pub.figures[k] for k in self.keys]
        self.percentage_figures = [pub.figures[k] for k in self.percentages]
        self.rows_while: dict[Key, list[int]] = {}  # a percentage -> the rows that hold while it is shown
        for r, k in conditional:
            self.rows_while.setdefault(self.percentages[k], []).append(r)
        self.constant_figures = [pub.figures[k] for k in self.constants]
        self.active = self._active()
        self.synced = pub.changes
        # the witnesses, each as the counts it moves and by how much
        self.witnesses: list[tuple[np.ndarray, np.ndarray]] = []
        self.moved = np.zeros(self.n, dtype=bool)  # differs from the truth in a valid witness
        self.solves = 0  # how many times HiGHS ran, for benchmarks
        _quiet_highs()
        # Each count's bounds now: its true value while shown, from its floor up while starred
        # (a question may narrow them for a moment: ``sparser``, ``_unbounded``).
        self.lower = np.where(self.shown, self.truth, self.floor)
        self.upper = np.where(self.shown, self.truth, _INF)
        # The rows entry by entry, in row order: for bound propagation and for cutting out the
        # part of the output a question is about.
        self.entry_row = np.repeat(np.arange(len(self.rows)), [len(r[1]) for r in self.rows]).astype(np.int64)
        self.entry_col = np.concatenate([r[1] for r in self.rows]).astype(np.int64) if self.rows else np.zeros(0, int)
        self.entry_val = np.concatenate([r[2] for r in self.rows]) if self.rows else np.zeros(0)
        self.row_lo = np.array([r[3] for r in self.rows])
        self.row_hi = np.array([r[4] for r in self.rows])
        # each fact's value at the true counts
        self.truth_activity = np.bincount(
            self.entry_row, self.entry_val * self.truth[self.entry_col], minlength=len(self.rows)
        )
        self.version = 0
        self.propagated: tuple[int, np.ndarray] | None = None
        # A small output is one model, kept: a question changes its objective and bounds, and
        # HiGHS goes on from the last basis (primal simplex: the basis stays feasible) in a few
        # pivots. A large one is solved a part at a time (``_part``), each part a model of its own.
        self.whole: highspy.Highs | None = None
        if self.n <= WHOLE_MODEL_COLUMNS:
            lo, hi = np.where(self.active, self.row_lo, -_INF), np.where(self.active, self.row_hi, _INF)
            self.whole = self._model(np.arange(self.n), np.arange(len(self.rows)), lo, hi)
            self.whole.setOptionValue("simplex_strategy", 4)
            self.pushed = (self.lower.copy(), self.upper.copy(), self.active.copy())

    def _row(self, fact: Fact) -> tuple[np.ndarray, np.ndarray, float, float] | None:
        coefs: dict[int, int] = {}
        known = fact.constant
        for k, c in fact.terms:
            if k in self.index:
                coefs[self.index[k]] = coefs.get(self.index[k], 0) + c
            else:
                known += c * self.pub.figures[k].value
        coefs = {i: c for i, c in coefs.items() if c}
        if not coefs:
            return None
        lo = -math.inf if fact.lo is None else fact.lo - known
        hi = math.inf if fact.hi is None else fact.hi - known
        factor = reduce(math.gcd, (abs(c) for c in coefs.values()))
        lo = -_INF if lo == -math.inf else math.ceil(lo / factor)
        hi = _INF if hi == math.inf else math.floor(hi / factor)
        indices = np.array(sorted(coefs), dtype=np.int32)
        values = np.array([coefs[i] // factor for i in indices], dtype=float)
        return indices, values, float(lo), float(hi)

    def _active(self) -> np.ndarray:
        shown = np.fromiter((f.shown for f in self.percentage_figures), bool, len(self.percentage_figures))
        active = np.ones(len(self.rows), dtype=bool)
        if len(self.conditional_rows):
            active[self.conditional_rows] = shown[self.conditional_on]
        return active

    # --- keeping the model in step with the publication ---------------------------------------

    def sync(self) -> None:
        if self.pub.changes == self.synced:
            return  # nothing starred or shown again since the last look
        self.synced = self.pub.changes
        if not all(f.shown for f in self.constant_figures):
            raise ValueError("a figure always shown was starred")
        shown = np.fromiter((f.shown for f in self.counts), bool, self.n)
        active = self._active()
        columns = np.flatnonzero(shown != self.shown)
        rows = np.flatnonzero(active != self.active)
        if len(columns):
            self.lower[columns] = np.where(shown[columns], self.truth[columns], self.floor[columns])
            self.upper[columns] = np.where(shown[columns], self.truth[columns], _INF)
        if len(columns) or len(rows):
            self.version += 1
        shown_again = columns[shown[columns]]
        holding_again = rows[active[rows]]
        self.shown, self.active = shown, active
        if self.witnesses and (len(shown_again) or len(holding_again)):
            self._keep_valid(shown_again, holding_again)

    def _keep_valid(self, shown_again: np.ndarray, holding_again: np.ndarray) -> None:
        """Keep the witnesses that agree with the counts shown again and keep the facts holding
        again. The truth keeps every fact, so a witness can break only a fact whose counts it
        moves: each is checked on the entries of the facts holding again alone."""
        again = np.zeros(self.n, dtype=bool)
        again[shown_again] = True
        where = np.full(len(self.rows), -1, dtype=np.int64)
        where[holding_again] = np.arange(len(holding_again))
        entries = np.flatnonzero(where[self.entry_row] >= 0)
        row, col, val = where[self.entry_row[entries]], self.entry_col[entries], self.entry_val[entries]
        base = self.truth_activity[holding_again]
        lo, hi = self.row_lo[holding_again] - _TOLERANCE, self.row_hi[holding_again] + _TOLERANCE
        move = np.zeros(self.n)
        kept = []
        for columns, moves in self.witnesses:
            if again[columns].any():
                continue
            if len(entries):
                move[columns] = moves
                change = val * move[col]
                move[columns] = 0.0
                if change.any():
                    activity = base + np.bincount(row, change, minlength=len(holding_again))
                    if np.any((activity < lo) | (activity > hi)):
                        continue
            kept.append((columns, moves))
        self.witnesses = kept
        self.moved = np.zeros(self.n, dtype=bool)
        for columns, _ in kept:
            self.moved[columns] = True

    def _witness(self, x: np.ndarray) -> None:
        """Keep ``x`` as its difference from the truth: a few counts, not every one."""
        columns = np.flatnonzero(x != self.truth)
        if len(columns):
            self.witnesses.append((columns, x[columns] - self.truth[columns]))
            self.moved[columns] = True

    def _dense(self, witness: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        x = self.truth.copy()
        x[witness[0]] += witness[1]
        return x

    # --- deciding without solving ------------------------------------------------------------

    def pinned(self) -> np.ndarray:
        """The counts that bound propagation alone leaves a single whole value: each fact bounds
        each of its counts by what the others can add up to, over and over until nothing
        tightens. What it pins is pinned (it only ever infers what follows); what it leaves
        open a solver decides."""
        self.sync()
        if self.propagated is None or self.propagated[0] != self.version:
            # Only the holding facts with a starred count can tighten anything.
            rows = len(self.rows)
            starred = np.bincount(self.entry_row, ~self.shown[self.entry_col], minlength=rows) > 0
            self.propagated = (self.version, self._propagate(self.active & starred))
        return self.propagated[1]

    def pinned_one(self, i: int) -> bool:
        """``pinned()[i]``, propagated over the part of the output count ``i`` is in alone:
        every fact that can tighten its bounds is there, so the answer is the same."""
        self.sync()
        if self.propagated is not None and self.propagated[0] == self.version:
            return bool(self.propagated[1][i])
        cost = np.zeros(self.n)
        cost[i] = 1.0
        _, rows = self._part(cost)
        within = np.zeros(len(self.rows), dtype=bool)
        within[rows] = True
        return bool(self._propagate(within)[i])

    def _propagate(self, rows_used: np.ndarray) -> np.ndarray:
        """Bound propagation over the facts ``rows_used`` (a mask of holding facts): which counts
        it leaves a single value."""
        lo = np.where(self.shown, self.truth, self.floor)
        hi = np.where(self.shown, self.truth, np.inf)
        row_lo, row_hi = self.row_lo, self.row_hi
        rows = len(self.rows)
        entries = rows_used[self.entry_row]
        row, col, val = self.entry_row[entries], self.entry_col[entries], self.entry_val[entries]
        positive = val > 0
        with np.errstate(invalid="ignore"):
            for _ in range(50):
                least = np.where(positive, val * lo[col], val * hi[col])
                most = np.where(positive, val * hi[col], val * lo[col])
                others_least = _others(row, least, rows)
                others_most = _others(row, most, rows)
                upper = np.where(positive, row_hi[row] - others_least, row_lo[row] - others_most) / val
                lower = np.where(positive, row_lo[row] - others_most, row_hi[row] - others_least) / val
                upper = np.where(np.isnan(upper), np.inf, upper)
                lower = np.where(np.isnan(lower), -np.inf, lower)
                new_hi, new_lo = hi.copy(), lo.copy()
                np.minimum.at(new_hi, col, np.floor(upper + _TOLERANCE))
                np.maximum.at(new_lo, col, np.ceil(lower - _TOLERANCE))
                if np.array_equal(new_hi, hi) and np.array_equal(new_lo, lo):
                    break
                lo, hi = new_lo, new_hi
        return lo == hi

    # --- solving ----------------------------------------------------------------------------

    def _part(self, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The columns and rows a question with ``cost`` is about: the counts it names (a cost,
        or bounds that exclude the true value), every count not fixed that a holding fact binds
        to them, and so on; and those facts."""
        rows = len(self.rows)
        free = self.lower < self.upper
        columns = (cost != 0) | (self.truth < self.lower) | (self.truth > self.upper)
        taken = np.zeros(rows, dtype=bool)
        entry_row, entry_col = self.entry_row, self.entry_col
        while True:
            touched = np.zeros(rows, dtype=bool)
            touched[entry_row[columns[entry_col]]] = True
            new_rows = touched & self.active & ~taken
            if not new_rows.any():
                break
            taken |= new_rows
            reached = np.zeros(self.n, dtype=bool)
            reached[entry_col[new_rows[entry_row]]] = True
            new_columns = reached & free & ~columns
            if not new_columns.any():
                break
            columns |= new_columns
        return np.flatnonzero(columns), np.flatnonzero(taken)

    def _solve(self, cost: np.ndarray, integer: bool) -> np.ndarray | None:
        """An optimum of ``cost`` over the whole output (None when unbounded): on the kept model
        of the whole output (a small one), or on the part the question is about, every other
        count keeping its true value (a large one)."""
        self.solves += 1
        x = self.truth.copy()
        if self.whole is not None:
            self._push()
            highs, columns = self.whole, np.arange(self.n)
        else:
            columns, rows = self._part(cost)
            if not len(columns):
                return x
            highs = self._model(columns, rows, self.row_lo[rows], self.row_hi[rows])
        n, index = len(columns), np.arange(len(columns), dtype=np.int32)
        with _ONE_AT_A_TIME:
            highs.changeColsCost(n, index, cost[columns])
            if integer:
                highs.changeColsIntegrality(n, index, np.full(n, highspy.HighsVarType.kInteger))
            try:
                _run(highs)
                status = highs.getModelStatus()
                if status == highspy.HighsModelStatus.kUnboundedOrInfeasible and np.any(cost[columns]):
                    # HiGHS may not tell which: the same model without a cost is feasible, or not.
                    highs.changeColsCost(n, index, np.zeros(n))
                    _run(highs)
                    if highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                        status = highspy.HighsModelStatus.kUnbounded
                optimal = status == highspy.HighsModelStatus.kOptimal
                solution = np.array(highs.getSolution().col_value) if optimal else None
            finally:
                if integer:
                    highs.changeColsIntegrality(n, index, np.full(n, highspy.HighsVarType.kContinuous))
        if solution is not None:
            x[columns] = solution
            return x
        if status == highspy.HighsModelStatus.kUnbounded:
            return None
        # The true values are a solution: a model without one does not describe the output,
        # and calling every cell safe would hide that.
        raise ValueError(f"{self.pub.name}: the figures contradict the facts binding them ({status})")

    def _model(self, columns: np.ndarray, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> highspy.Highs:
        """``columns`` and ``rows`` (bounds ``lo``, ``hi``) as a HiGHS model: the rows' entries on
        counts that are not columns here (fixed ones) are constants taken off their bounds."""
        at = np.full(self.n, -1, dtype=np.int64)
        at[columns] = np.arange(len(columns))
        taken = np.zeros(len(self.rows), dtype=bool)
        taken[rows] = True
        entries = np.flatnonzero(taken[self.entry_row])
        row, col, val = self.entry_row[entries], self.entry_col[entries], self.entry_val[entries]
        inside = at[col] >= 0
        constant = np.zeros(len(self.rows))
        np.add.at(constant, row[~inside], val[~inside] * self.lower[col[~inside]])
        row_at = np.full(len(self.rows), -1, dtype=np.int64)
        row_at[rows] = np.arange(len(rows))
        sub_row = row_at[row[inside]]  # in row order: the entries are
        starts = np.searchsorted(sub_row, np.arange(len(rows))).astype(np.int32)
        highs = highspy.Highs()
        highs.silent()
        highs.setOptionValue("threads", 1)  # small models: no thread pool to start per solve
        highs.addVars(len(columns), self.lower[columns], self.upper[columns])
        lo, hi = lo - constant[rows], hi - constant[rows]
        highs.addRows(len(rows), lo, hi, len(sub_row), starts, at[col[inside]].astype(np.int32), val[inside])
        return highs

    def _push(self) -> None:
        """Bring the kept model of the whole output in step: the bounds changed since it last
        ran (figures starred or shown again, a question's narrowed bounds, facts lifted)."""
        assert self.whole is not None
        columns = np.flatnonzero((self.lower != self.pushed[0]) | (self.upper != self.pushed[1]))
        if len(columns):
            self.whole.changeColsBounds(
                len(columns), columns.astype(np.int32), self.lower[columns], self.upper[columns]
            )
            self.pushed[0][columns], self.pushed[1][columns] = self.lower[columns], self.upper[columns]
        rows = np.flatnonzero(self.active != self.pushed[2])
        if len(rows):
            lo = np.where(self.active[rows], self.row_lo[rows], -_INF)
            hi = np.where(self.active[rows], self.row_hi[rows], _INF)
            # in the bindings, not in their type stubs
            self.whole.changeRowsBounds(len(rows), rows.astype(np.int32), lo, hi)  # type: ignore[attr-defined]
            self.pushed[2][rows] = self.active[rows]

    def optimum(self, cost: np.ndarray) -> np.ndarray | None:
        """A whole-number solution minimising cost . x (kept as a witness); None when the cost
        is unbounded below. The relaxation first; an integer program only when its optimum is
        not whole."""
        self.sync()
        x = self._solve(cost.astype(float), integer=False)
        if x is None:
            return None
        if np.any(np.abs(x - np.round(x)) > _TOLERANCE):
            x = self._solve(cost.astype(float), integer=True)
            if x is None:
                return None
        x = np.round(x)
        self._witness(x)
        return x

    def extreme(self, i: int, sign: int) -> float:
        """The least (sign 1) or greatest (sign -1) whole value count ``i`` can take."""
        cost = np.zeros(self.n)
        cost[i] = sign
        x = self.optimum(cost)
        if x is None:
            return math.inf if sign < 0 else float(self.floor[i])
        return float(x[i])

    def witness(self, key: Key) -> np.ndarray | None:
        """A whole-number solution in which ``key`` differs from its true value, or None."""
        self.sync()
        i = self.index[key]
        if self.moved[i]:
            return self._dense(next(w for w in self.witnesses if i in w[0]))
        if self.pinned_one(i):
            return None
        for sign in (-1, 1):
            if sign > 0 and self.truth[i] == self.floor[i]:
                break
            cost = np.zeros(self.n)
            cost[i] = sign
            x = self.optimum(cost)
            if x is None or x[i] != self.truth[i]:
                return x if x is not None else self._unbounded(i)
        return None

    def _unbounded(self, i: int) -> np.ndarray | None:
        """A solution with count ``i`` above its true value, when its maximum is unbounded."""
        self.lower[i] = self.truth[i] + 1
        try:
            return self.optimum(np.zeros(self.n))
        finally:
            self.lower[i] = self.floor[i]

    def sparser(self, x: np.ndarray, key: Key, free: list[Key]) -> np.ndarray:
        """A solution moving ``key`` the way ``x`` does while moving the counts of ``free`` (shown,
        starred for the moment) as little as it can: each stays on its side of its true value
        in ``x`` and the total distance is minimised, so the fewest of them need a star."""
        self.sync()
        i = self.index[key]
        cols = np.array([self.index[k] for k in free if k in self.index], dtype=np.int32)
        up, down = x[cols] > self.truth[cols], x[cols] < self.truth[cols]
        lower = np.where(up | ~down, self.truth[cols], self.floor[cols])
        upper = np.where(down | ~up, self.truth[cols], _INF)
        cost = np.zeros(self.n)
        cost[cols] = np.where(up, 1.0, np.where(down, -1.0, 0.0))
        target = (self.truth[i] + 1, _INF) if x[i] > self.truth[i] else (self.floor[i], self.truth[i] - 1)
        self.lower[cols], self.upper[cols] = lower, upper
        self.lower[i], self.upper[i] = target
        try:
            y = self._solve(cost, integer=False)
            if y is None or np.any(np.abs(y - np.round(y)) > _TOLERANCE):
                return x
            y = np.round(y)
        finally:
            restore = np.append(cols, np.int32(i))
            self.lower[restore], self.upper[restore] = self.floor[restore], _INF
        self._witness(y)
        return y

    def breaks(self, x: np.ndarray, percentage: Key) -> bool:
        """Whether solution ``x`` breaks a fact that holds while ``percentage`` is shown."""
        for r in self.rows_while.get(percentage, ()):
            _, indices, values, lo, hi = self.rows[r]
            activity = x[indices] @ values
            if activity < lo - _TOLERANCE or activity > hi + _TOLERANCE:
                return True
        return False

    def recoverable(self, key: Key) -> bool:
        """Whether ``key`` is starred and its true value is the only one it can take."""
        self.sync()
        i = self.index[key]
        if self.shown[i] or self.moved[i]:
            return False
        if self.pinned_one(i):
            return True
        if self.extreme(i, -1) != self.truth[i]:
            return False
        return self.truth[i] == self.floor[i] or self.extreme(i, 1) == self.truth[i]

    def sweep(self, keys: Iterable[Key]) -> None:
        """Prove many counts movable at once: solutions that maximise and minimise the sum of
        those no witness has moved yet, then signed mixes of them (deterministic: the same
        figures, the same answer)."""
        self.sync()
        targets = np.array([self.index[k] for k in keys], dtype=np.int64)
        rng = np.random.default_rng(len(targets))
        quiet = 0
        for round_ in range(16):
            undecided = targets[~self.moved[targets]]
            if len(undecided) <= 2 or quiet >= 3:
                return
            cost = np.zeros(self.n)
            if round_ < 2:
                cost[undecided] = 1.0 if round_ == 0 else -1.0
            else:
                cost[undecided] = rng.choice([-1.0, 1.0], size=len(undecided)) * rng.integers(1, 4, len(undecided))
                # a count at its floor can only go up: push it up
                at_floor = undecided[self.truth[undecided] == self.floor[undecided]]
                cost[at_floor] = -np.abs(cost[at_floor])
            before = int(self.moved.sum())
            self.optimum(cost)
            quiet = 0 if self.moved.sum() > before else quiet + 1


def _run(highs: highspy.Highs) -> None:
    """Solve. HiGHS keeps one task scheduler per thread, sized by the first model run on that
    thread: after a model left at the default thread count (another library, a test), ours of
    one thread is refused (an error, no status). The thread's scheduler is then started again,
    at our size."""
    if highs.run() == highspy.HighsStatus.kError and highs.getModelStatus() == highspy.HighsModelStatus.kNotset:
        highspy.Highs.resetGlobalScheduler(True)
        highs.run()


def _others(row: np.ndarray, contribution: np.ndarray, rows: int) -> np.ndarray:
    """For each entry, the sum of the other entries of its row (infinite when one of them is)."""
    infinite = np.isinf(contribution)
    finite = np.where(infinite, 0.0, contribution)
    total = np.bincount(row, finite, minlength=rows)
    sign = np.sign(np.where(infinite, contribution, 0.0))
    # every infinite contribution of a row has the same sign (all least: -inf, all most: +inf)
    count = np.bincount(row, infinite.astype(float), minlength=rows)
    rest = total[row] - finite
    rest_infinite = count[row] - infinite > 0
    direction = np.bincount(row, sign, minlength=rows)
    return np.where(rest_infinite, np.sign(direction[row]) * np.inf, rest)
