"""The disclosure audit: can anyone work out a starred figure from what an output shows?

An output (the FFT table, a theme report, a scorecard, a snapshot) is described as a
``Publication`` (``reporting.rules.figures``): every figure it carries, shown or starred, with
its true value, and the linear facts that bind the figures together and that a reader knows
(a parent is the sum of its children, the answers add up to the total, a percentage as shown
bounds its numerator, a theme's mentions over the months add up to its overall mentions...).

For each starred count the audit decides, exactly, whether its true value is the only whole
number it can take given every shown figure and every fact (or, asked for intervals, the
interval it can take): it minimises and maximises the cell by integer linear programming with
HiGHS (``highspy``, its official bindings), in one model of the whole publication kept
while the search stars figures, answering most questions from solutions already found
(``reporting.rules.recovery``). A starred cell whose interval is a single value is *recoverable*, a finding; when that
value is 0 it was revealed by shown zeros (a shown zero parent, percentages that leave no
room).

``close`` then adds the least extra suppression it can find: for each recoverable cell, the
shown figures around it (those sharing a fact with it, then every count bound to it, then the
percentages over them) are freed for a moment, and a solution in which the cell moves while
moving those figures as little as it can names the ones to star. The extra stars are
recorded on the publication, so every output can label them.

Percentages are rounded half away from zero from the exact fraction, so a shown whole
percentage p of N / D (D > 0) says exactly (2p - 1) * D <= 200 * N <= (2p + 1) * D - 1."""

import heapq
from dataclasses import dataclass

from reporting.rules.figures import Fact, Key, Publication
from reporting.rules.recovery import RecoveryModel


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
    return [f for f in pub.facts if _holds(pub, f)]


def _holds(pub: Publication, fact: Fact) -> bool:
    """Whether a reader knows ``fact``: the percentage it holds under, if any, is shown."""
    return all(pub.figures[k].shown for k in fact.while_shown)


def _unknown(pub: Publication, key: Key) -> bool:
    figure = pub.figures[key]
    return not figure.shown and not figure.percentage


def _starred(pub: Publication) -> list[Key]:
    """The published counts a reader sees starred: what the audit checks."""
    starred = [k for k, f in pub.figures.items() if _unknown(pub, k) and f.audited]
    if starred and not pub.bound:
        raise ValueError(f"{pub.name}: a figure was starred in an output recorded without its facts")
    return starred


def audit(
    pub: Publication, only: set[Key] | None = None, intervals: bool = False, model: RecoveryModel | None = None
) -> Report:
    """Every starred count that anyone can work out exactly from what the output shows.

    With ``intervals`` each starred count's exact interval is computed (two integer programs
    per cell). Without, it decides only whether the interval is a single value: a count some
    witness has moved is not (``reporting.rules.recovery``); solutions that maximise and
    minimise the sum of the others (and signed mixes of them) prove most of the rest movable
    at once, and only the counts none of them moved are minimised and maximised one by one.
    ``model`` is the publication's model kept by the caller (``close``) between audits."""
    starred = _starred(pub)
    targets = sorted(k for k in starred if only is None or k in only)
    found: dict[Key, tuple[int, float]] = {}
    findings: list[Finding] = []
    if not targets:  # nothing to decide: no model, no solver
        return Report(checked=len(starred), intervals=found, findings=findings)
    model = model or RecoveryModel(pub)
    model.sync()
    if not intervals:
        model.sweep(targets)
    for key in targets:
        i = model.index[key]
        if not intervals and model.moved[i]:
            continue
        if model.pinned()[i]:  # no solver needed: the facts alone leave it one value
            value = int(model.truth[i])
            found[key] = (value, float(value))
            reason = "revealed as zero by shown figures" if value == 0 else "recoverable exactly"
            findings.append(Finding(key, value, reason))
            continue
        hi = model.extreme(i, -1)
        if hi != model.truth[i] and not intervals:
            lo = -1.0
        elif model.truth[i] == model.floor[i]:
            lo = model.truth[i]  # it can go no lower
        else:
            lo = model.extreme(i, 1)
        found[key] = (int(lo), hi)
        if lo == hi:
            value = int(lo)
            reason = "revealed as zero by shown figures" if value == 0 else "recoverable exactly"
            findings.append(Finding(key, value, reason))
    return Report(checked=len(starred), intervals=found, findings=findings)


def _bound(pub: Publication, keys: set[Key]) -> tuple[set[Key], list[Fact]]:
    """The starred cells bound to ``keys`` through holding facts (a chain of facts, each with
    two starred cells or more), with ``keys`` themselves; and every holding fact naming one of
    them in its terms."""
    group = set(keys)
    todo = [k for k in keys if _unknown(pub, k)]
    seen: set[int] = set()
    facts: list[Fact] = []
    while todo:
        for fact in pub.facts_of(todo.pop()):
            if id(fact) in seen or not _holds(pub, fact):
                continue
            seen.add(id(fact))
            facts.append(fact)
            for t, _ in fact.terms:
                if t not in group and _unknown(pub, t):
                    group.add(t)
                    todo.append(t)
    for k in keys:  # the facts of the shown ones among ``keys`` too
        facts += [f for f in pub.facts_of(k) if id(f) not in seen and _holds(pub, f) and k in _terms(f)]
    return group, facts


def _terms(fact: Fact) -> set[Key]:
    return {t for t, _ in fact.terms}


def _neighbours(pub: Publication, key: Key) -> list[Key]:
    """Shown figures bound by a fact to ``key`` or to the starred cells it is bound to: counts
    first, then percentages, the smallest first (the least information withheld)."""
    _, facts = _bound(pub, {key})
    found: set[Key] = set()
    for fact in facts:
        found.update(k for k, _ in fact.terms if pub.figures[k].shown)
        found.update(fact.while_shown)
    found = {k for k in found if not pub.figures[k].fixed}
    # Those sharing a fact with ``key`` itself first: what gives a cell away is mostly next to it.
    near = _near(pub, key)
    return sorted(found, key=lambda k: (k not in near, pub.figures[k].percentage, pub.figures[k].value, k))


def _near(pub: Publication, key: Key) -> set[Key]:
    """The figures sharing a fact with ``key``."""
    near: set[Key] = set()
    for fact in pub.facts_of(key):
        if _holds(pub, fact) and key in _terms(fact):
            near.update(_terms(fact), fact.while_shown)
    return near


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
    if not any(_unknown(pub, k) for k in pub.figures):
        return  # nothing starred: no sum gives anything away, no percentage is tied to a star
    tied = [(key, figure) for key, figure in pub.figures.items() if figure.star_with]
    sums = _sum_facts(pub)
    at = {id(f): i for i, f in enumerate(sums)}
    # Passes over the sums in order until one stars nothing, as if over every sum each time;
    # but a sum's verdict depends only on its own figures, so a pass looks only at the sums
    # whose figures changed since the sum was last looked at (after the last balance, every
    # sum was settled): those later in the pass than a new star are looked at in this pass,
    # the others in the next.
    if pub.settled_facts != len(pub.facts):  # never settled, or facts added since
        this_pass = list(range(len(sums)))
    else:
        this_pass = sorted({i for k in pub.unsettled for i in _sums_of(pub, k, at)})
    next_pass: set[int] = set()
    changed = True
    while changed:
        changed = False
        for key, figure in tied:
            if figure.shown and any(_unknown(pub, k) for k in figure.star_with):
                this_pass = sorted({*this_pass, *_sums_of(pub, key, at)})
                _star(pub, key)
                changed = True
        heapq.heapify(this_pass)
        waiting = set(this_pass)
        while this_pass:
            i = heapq.heappop(this_pass)
            waiting.discard(i)
            choice = _balancing_star(pub, sums[i])
            if choice is not None:
                _star(pub, choice)
                changed = True
                for j in _sums_of(pub, choice, at):
                    if j > i and j not in waiting:
                        heapq.heappush(this_pass, j)
                        waiting.add(j)
                    elif j <= i:
                        next_pass.add(j)
        this_pass, next_pass = sorted(next_pass), set()
        changed = changed or bool(this_pass)
    pub.unsettled.clear()
    pub.settled_facts = len(pub.facts)


def _sums_of(pub: Publication, key: Key, at: dict[int, int]) -> list[int]:
    """The positions among the sums of those naming ``key``."""
    return [at[id(f)] for f in pub.facts_of(key) if id(f) in at]


def _balancing_star(pub: Publication, fact: Fact) -> Key | None:
    """The figure ``balance`` stars for this sum, if it gives a starred cell away."""
    if not _holds(pub, fact):
        return None  # its percentage starred earlier: the sum no longer holds for a reader
    starred = [(k, c) for k, c in fact.terms if _unknown(pub, k)]
    if not starred:
        return None
    sides = {c for _, c in starred}
    slack = sum(pub.figures[k].value - pub.figures[k].floor for k, _ in starred)
    if len(starred) >= 2 and (len(sides) == 2 or slack > 0):
        return None
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
    return choice


def close(pub: Publication, max_rounds: int = 500) -> Report:
    """Add the least extra suppression this search finds until nothing starred is recoverable;
    the extra stars are appended to ``pub.extra``. Returns the final audit.

    First ``balance`` (cheap, on sums). Then, while the exact audit still finds a
    recoverable cell, ``_open`` stars what a solution moving it had to move, rebalanced.
    Last, the latest extra stars the whole output can do without are shown again
    (``_prune``). One model of the publication serves every question (``RecoveryModel``).

    Which stars ``_open`` picks depends on the solutions HiGHS returns, so on the questions
    asked before (the witnesses kept decide which are asked; a kept model goes on from its
    last basis). Those follow from the figures alone, so the same figures give the same stars;
    a shortcut that skipped a question could pick other stars, as safe but not the same."""
    balance(pub)
    if not _starred(pub):
        # Nothing starred (the common case for large counts): nothing a reader could work out,
        # and nothing that ``_open`` or ``_prune`` would change, so no model is made.
        return Report(checked=0, intervals={}, findings=[])
    model = RecoveryModel(pub)
    report = audit(pub, model=model)
    rounds = 0
    while report.findings and rounds < max_rounds:
        progress = False
        for i, finding in enumerate(report.findings):
            rounds += 1
            target = finding.key
            if i and not model.recoverable(target):
                continue  # closed by the stars added for an earlier finding of this round
            progress = _open(pub, model, target) or progress
        if not progress:
            break
        report = audit(pub, model=model)
    if not report.findings:
        _prune(pub, model)
    return report


def _open(pub: Publication, model: RecoveryModel, target: Key) -> bool:
    """Star what it takes for ``target`` to move: shown figures bound to it are starred for a
    moment, first the counts sharing a fact with it, then every count bound to it, then the
    percentages too; a solution in which ``target`` moves names the figures it had to move
    (or the percentages whose facts it breaks), and those alone are starred (and rebalanced).
    That solution stays valid, so ``target`` is settled. False when nothing can open it."""
    neighbours = _neighbours(pub, target)
    near = _near(pub, target)
    counts = [k for k in neighbours if not pub.figures[k].percentage]
    # the percentages over those counts too: with its counts starred a shown percentage still pins them
    over = set(counts)
    percentages = {p for k in over for f in pub.facts_of(k) if f.while_shown and _holds(pub, f) for p in f.while_shown}
    percentages |= {k for k in neighbours if pub.figures[k].percentage}
    tiers = [
        [k for k in counts if k in near],
        counts,
        [*counts, *sorted(percentages - {k for k in percentages if pub.figures[k].fixed})],
    ]
    for tier in tiers:
        freed = [k for k in tier if pub.figures[k].shown]
        if not freed:
            continue
        for k in freed:
            pub.star(k)
        x = model.witness(target)
        if x is not None:
            x = model.sparser(x, target, freed)
        for k in freed:
            pub.show(k)
        if x is None:
            continue
        for k in freed:
            figure = pub.figures[k]
            moved = model.breaks(x, k) if figure.percentage else x[model.index[k]] != figure.value
            if moved:
                _star(pub, k)
        balance(pub)
        return True
    return False


def _bound_to(pub: Publication, key: Key) -> set[Key]:
    """The starred cells that share a fact with ``key``, and every one bound to those."""
    near = {t for f in pub.facts_of(key) if _holds(pub, f) for t, _ in f.terms}
    group, _ = _bound(pub, {k for k in near if _unknown(pub, k)})
    return group


PRUNE_TRIES = 12


def _prune(pub: Publication, model: RecoveryModel) -> None:
    """Show again each of the latest extra stars (at most ``PRUNE_TRIES``, to bound the work)
    that the output can do without."""
    for key in list(reversed(pub.extra))[:PRUNE_TRIES]:
        pub.show(key)
        if audit(pub, only=_bound_to(pub, key), model=model).findings:
            pub.star(key)
        else:
            pub.extra.remove(key)
