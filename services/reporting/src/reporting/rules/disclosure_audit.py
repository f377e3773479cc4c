"""The disclosure audit: can anyone work out a starred figure from what an output shows?

An output (the FFT table, a theme report, a scorecard, a snapshot) is described as a
``Publication`` (``reporting.rules.figures``): every figure it carries, shown or starred, with
its true value, and the linear facts that bind the figures together and that a reader knows
(a parent is the sum of its children, the answers add up to the total, a percentage as shown
bounds its numerator, a theme's mentions over the months add up to its overall mentions...).

For each starred count the audit computes, exactly, the interval of whole numbers its
true value can take given every shown figure and every fact: it minimises and maximises
the cell by integer linear programming with HiGHS (``highspy``, its official bindings)
over the starred cells that share facts with it. Each component's model is built once;
a solve first relaxes integrality (a fraction of a millisecond) and keeps the answer when
the optimum is whole (then it is the integer optimum too), else solves it as a MIP.
A starred cell whose interval is a single value is *recoverable*, a finding; when that
value is 0 it was revealed by shown zeros (a shown zero parent, percentages that leave no
room).

``close`` then adds the least extra suppression it can find: one shown figure at a time,
the one (among those that share a fact with a recoverable cell, counts before
percentages, the smallest first) that opens the most findings, until none is left. The
extra stars are recorded on the publication, so every output can label them.

Percentages are rounded half away from zero from the exact fraction, so a shown whole
percentage p of N / D (D > 0) says exactly (2p - 1) * D <= 200 * N <= (2p + 1) * D - 1."""

import itertools
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import highspy
import numpy as np

from reporting.rules.figures import Fact, Key, Publication


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


@dataclass
class Finding:
    key: Key
    value: int
    reason: str


@dataclass
class Report:
    checked: int
    intervals: dict[Key, tuple[int, float]]
    findings: list[Finding]

    @property
    def clean(self) -> bool:
        return not self.findings


def _active(pub: Publication) -> list[Fact]:
    return [f for f in pub.facts if all(pub.figures[k].shown for k in f.while_shown)]


def _unknown(pub: Publication, key: Key) -> bool:
    figure = pub.figures[key]
    return not figure.shown and not figure.percentage


class _Components:
    """The starred cells grouped by the facts that bind them (union-find)."""

    def __init__(self, pub: Publication, facts: list[Fact]) -> None:
        self.parent: dict[Key, Key] = {}
        for fact in facts:
            unknowns = [k for k, _ in fact.terms if _unknown(pub, k)]
            for k in unknowns:
                self.parent.setdefault(k, k)
            for a, b in itertools.pairwise(unknowns):
                self.parent[self._find(a)] = self._find(b)

    def _find(self, k: Key) -> Key:
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def groups(self) -> list[list[Key]]:
        out: dict[Key, list[Key]] = defaultdict(list)
        for k in self.parent:
            out[self._find(k)].append(k)
        return [sorted(g) for _, g in sorted(out.items())]


class _Model:
    """One component's integer program, built once and re-solved with other objectives."""

    def __init__(self, pub: Publication, unknowns: list[Key], facts: list[Fact]) -> None:
        self.index = {k: i for i, k in enumerate(unknowns)}
        self.n = len(unknowns)
        self.floor = [float(pub.figures[k].floor) for k in unknowns]
        _quiet_highs()
        self.highs = highspy.Highs()
        self.highs.silent()
        inf = highspy.kHighsInf
        for lb in self.floor:
            self.highs.addVar(lb, inf)
        lower: list[float] = []
        upper: list[float] = []
        starts: list[int] = []
        indices: list[int] = []
        values: list[float] = []
        for fact in facts:
            coefs: dict[int, float] = defaultdict(float)
            known = fact.constant
            for k, c in fact.terms:
                if k in self.index:
                    coefs[self.index[k]] += c
                elif not _unknown(pub, k):
                    known += c * pub.figures[k].value
            if not coefs:
                continue
            lower.append(-inf if fact.lo is None else float(fact.lo - known))
            upper.append(inf if fact.hi is None else float(fact.hi - known))
            starts.append(len(indices))
            for i in sorted(coefs):
                indices.append(i)
                values.append(coefs[i])
        if lower:  # every row at once: one call into HiGHS, not one per fact
            self.highs.addRows(
                len(lower),
                np.array(lower),
                np.array(upper),
                len(indices),
                np.array(starts, dtype=np.int32),
                np.array(indices, dtype=np.int32),
                np.array(values),
            )
        self.columns = np.arange(self.n, dtype=np.int32)

    def _integrality(self, kind: object) -> None:
        self.highs.changeColsIntegrality(self.n, self.columns, np.array([kind] * self.n))

    def optimum(self, cost: np.ndarray) -> np.ndarray | None:
        """A whole-number solution minimising cost . x; None when the cost is unbounded below."""
        self.highs.changeColsCost(self.n, self.columns, cost.astype(float))
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.array(self.highs.getSolution().col_value)
        if np.all(np.abs(x - np.round(x)) < 1e-6):
            return np.round(x)
        self._integrality(highspy.HighsVarType.kInteger)
        try:
            self.highs.run()
            if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            return np.round(np.array(self.highs.getSolution().col_value))
        finally:
            self._integrality(highspy.HighsVarType.kContinuous)

    def extreme(self, i: int, sign: int) -> float:
        """The least (sign 1) or greatest (sign -1) whole value unknown ``i`` can take."""
        cost = np.zeros(self.n)
        cost[i] = sign
        x = self.optimum(cost)
        if x is None:
            return float("inf") if sign < 0 else self.floor[i]
        return float(x[i])


def audit(pub: Publication, only: set[Key] | None = None, intervals: bool = False) -> Report:
    """Every starred count that anyone can work out exactly from what the output shows.

    With ``intervals`` each starred count's exact interval is computed (two integer programs
    per cell). Without, it decides only whether the interval is a single value: the true
    values are one solution; solutions that maximise and minimise the sum of the starred
    cells (and a signed mix of them) prove most cells movable at once, and only the cells
    none of them moved are minimised and maximised one by one."""
    facts = _active(pub)
    components = _Components(pub, facts)
    starred = [k for k, f in pub.figures.items() if _unknown(pub, k) and f.audited]
    found: dict[Key, tuple[int, float]] = {}
    findings: list[Finding] = []
    grouped = {k for g in components.groups() for k in g}
    groups = components.groups() + [[k] for k in starred if k not in grouped]
    for group in groups:
        targets = [k for k in group if pub.figures[k].audited and (only is None or k in only)]
        if not targets:
            continue
        model = _Model(pub, group, facts)
        index, n = model.index, model.n
        truth = np.array([pub.figures[k].value for k in group], dtype=float)
        undecided = set(targets)
        if not intervals and len(undecided) > 2:
            rng = np.random.default_rng(len(group))  # deterministic: same figures, same answer
            quiet = 0
            for round_ in range(16):
                weights = np.array([1.0 if k in undecided else 0.0 for k in group])
                if round_ < 2:
                    cost = weights if round_ == 0 else -weights
                else:
                    cost = weights * rng.choice([-1.0, 1.0], size=n) * rng.integers(1, 4, size=n)
                x = model.optimum(cost)
                if x is None:
                    continue
                moved = {k for k in undecided if x[index[k]] != truth[index[k]]}
                undecided -= moved
                quiet = 0 if moved else quiet + 1
                if not undecided or quiet >= 3 or len(undecided) <= 2:
                    break
        for key in targets:
            if key not in undecided:
                continue
            i = index[key]
            hi = model.extreme(i, -1)
            lo = model.extreme(i, 1) if hi == truth[i] or intervals else -1.0
            found[key] = (int(lo), hi)
            if lo == hi:
                value = int(lo)
                reason = "revealed as zero by shown figures" if value == 0 else "recoverable exactly"
                findings.append(Finding(key, value, reason))
    return Report(checked=len(starred), intervals=found, findings=findings)


def _neighbours(pub: Publication, key: Key) -> list[Key]:
    """Shown figures bound by a fact to ``key`` or to the starred cells it is bound to: counts
    first, then percentages, the smallest first (the least information withheld)."""
    facts = _active(pub)
    components = _Components(pub, facts)
    group = next((set(g) for g in components.groups() if key in g), {key})
    found: set[Key] = set()
    for fact in facts:
        keys = [k for k, _ in fact.terms]
        if group.intersection(keys):
            found.update(k for k in keys if pub.figures[k].shown)
            found.update(fact.while_shown)
    found = {k for k in found if not pub.figures[k].fixed}
    # Those sharing a fact with ``key`` itself first: what gives a cell away is mostly next to it.
    near: set[Key] = set()
    for fact in facts:
        terms = [t for t, _ in fact.terms]
        if key in terms:
            near.update(terms, fact.while_shown)
    return sorted(found, key=lambda k: (k not in near, pub.figures[k].percentage, pub.figures[k].value, k))


def _sum_facts(pub: Publication) -> list[Fact]:
    return [f for f in _active(pub) if f.lo is not None and f.lo == f.hi and all(abs(c) == 1 for _, c in f.terms)]


def _star(pub: Publication, key: Key) -> None:
    pub.star(key)
    pub.extra.append(key)


def balance(pub: Publication) -> None:
    """Cheap first pass of secondary suppression, to a fixed point, on every exact sum
    (a parent and its children, a total and its parts, a group of answers a shown
    percentage pins): a starred cell must not be alone in a sum, and the starred cells on
    one side of a sum must not all sit at the least value they can take (all zero), or the
    sum gives them away. Where either happens, the smallest shown cell on the same side
    with room to move is starred too, else the cell on the other side (the parent, the
    total), else the percentage that pins the sum. A percentage tied to counts
    (``star_with``) is starred with them."""
    changed = True
    while changed:
        changed = False
        for key, figure in pub.figures.items():
            if figure.shown and any(_unknown(pub, k) for k in figure.star_with):
                _star(pub, key)
                changed = True
        for fact in _sum_facts(pub):
            if not all(pub.figures[k].shown for k in fact.while_shown):
                continue  # starred earlier in this pass
            starred = [(k, c) for k, c in fact.terms if _unknown(pub, k)]
            if not starred:
                continue
            sides = {c for _, c in starred}
            slack = sum(pub.figures[k].value - pub.figures[k].floor for k, _ in starred)
            if len(starred) >= 2 and (len(sides) == 2 or slack > 0):
                continue
            side = starred[0][1]
            shown = [(k, c) for k, c in fact.terms if pub.figures[k].shown and not pub.figures[k].fixed]
            roomy = sorted(
                (pub.figures[k].value, k) for k, c in shown if c == side and pub.figures[k].value > pub.figures[k].floor
            )
            other = sorted(
                (pub.figures[k].value <= pub.figures[k].floor, pub.figures[k].value, k) for k, c in shown if c != side
            )
            choice = roomy[0][1] if roomy else other[0][2] if other else None
            if choice is None and fact.while_shown:
                choice = fact.while_shown[0]
            if choice is not None:
                _star(pub, choice)
                changed = True


def close(pub: Publication, max_rounds: int = 500) -> Report:
    """Add the least extra suppression this search finds until nothing starred is recoverable;
    the extra stars are appended to ``pub.extra``. Returns the final audit.

    First ``balance`` (cheap, on sums). Then, while the exact audit still finds a
    recoverable cell, shown figures bound to it are starred one at a time (counts before
    percentages, the smallest first), each rebalanced, until it is no longer recoverable;
    then every one of those that is not needed to keep it so is shown again. Last, the latest
    extra stars the whole output can do without are shown again (``_prune``)."""
    balance(pub)
    report = audit(pub)
    rounds = 0
    while report.findings and rounds < max_rounds:
        progress = False
        for i, finding in enumerate(report.findings):
            rounds += 1
            target = finding.key
            if i and not audit(pub, only={target}).findings:
                continue  # closed by the stars added for an earlier finding of this round
            progress = _open(pub, target) or progress
        if not progress:
            break
        report = audit(pub)
    if not report.findings:
        _prune(pub)
    return report


def _open(pub: Publication, target: Key) -> bool:
    """Star shown figures bound to ``target`` one at a time (counts before percentages, the
    smallest first), each rebalanced, until it is no longer recoverable; then show again every
    one of those steps it does not need. False when there was nothing to star."""
    steps: list[list[Key]] = []
    for candidate in _neighbours(pub, target):
        if not pub.figures[candidate].shown:
            continue  # starred by an earlier step's rebalancing
        mark = len(pub.extra)
        _star(pub, candidate)
        balance(pub)
        steps.append(pub.extra[mark:])
        if not audit(pub, only={target}).findings:
            break
    if not steps:
        return False
    for step in reversed(steps[:-1]):  # keep only the steps it needs
        for k in step:
            pub.figures[k].shown = True
        if audit(pub, only={target}).findings:
            for k in step:
                pub.figures[k].shown = False
        else:
            pub.extra = [k for k in pub.extra if k not in step]
    return True


def _bound_to(pub: Publication, key: Key) -> set[Key]:
    """The starred cells that share a fact with ``key``, and every one bound to those."""
    facts = _active(pub)
    near = {k for f in facts if key in (t for t, _ in f.terms) or key in f.while_shown for k, _ in f.terms}
    groups = _Components(pub, facts).groups()
    return {k for g in groups if near.intersection(g) for k in g}


PRUNE_TRIES = 12


def _prune(pub: Publication) -> None:
    """Show again each of the latest extra stars (at most ``PRUNE_TRIES``, to bound the work)
    that the output can do without."""
    for key in list(reversed(pub.extra))[:PRUNE_TRIES]:
        pub.figures[key].shown = True
        if audit(pub, only=_bound_to(pub, key)).findings:
            pub.figures[key].shown = False
        else:
            pub.extra.remove(key)
