"""An output as a reader sees it (the FFT table, a theme report, a scorecard, a snapshot):
a ``Publication`` holds every figure it carries, shown or starred, with its true value, and the
linear facts that bind the figures together and that a reader knows (a parent is the sum
of its children, the answers add up to the total, a percentage as shown bounds its
numerator, a theme's mentions over the months add up to its overall mentions...). The
disclosure audit (``reporting.rules.disclosure_audit``) works out what those let a reader
recover.

Percentages are rounded half away from zero from the exact fraction, so a shown whole
percentage p of N / D (D > 0) says exactly (2p - 1) * D <= 200 * N <= (2p + 1) * D - 1."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from reporting.rules.disclosure import SUPPRESSED

Key = tuple[str, str]  # (row, column) of an output


@dataclass
class Figure:
    """One cell of an output: its true value, whether it is shown, and what a reader knows of
    it when it is starred (``floor``: 1 where the rule never stars a zero)."""

    value: int
    shown: bool = True
    floor: int = 0
    audited: bool = True  # False for helper unknowns that are not published cells (a month's positive count)
    percentage: bool = False  # a derived percentage: starring it drops its facts instead of adding an unknown
    star_with: tuple[Key, ...] = ()  # a percentage starred as soon as one of these counts is
    fixed: bool = False  # always shown by the rule set (NHS England's Total Responses): never starred as extra


@dataclass
class Fact:
    """sum(coef * figure) + constant lies in [lo, hi] (None: no bound)."""

    terms: list[tuple[Key, int]]
    lo: int | None
    hi: int | None
    constant: int = 0
    while_shown: tuple[Key, ...] = ()  # a percentage's facts hold only while it is shown


@dataclass
class Publication:
    """The figures of one output and the facts that bind them, as a reader sees them."""

    name: str
    figures: dict[Key, Figure] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    extra: list[Key] = field(default_factory=list)
    # False for an output whose every figure is shown: its facts would bind no unknown, so they
    # are not recorded (most of the work of a large table), and the audit refuses a star in it.
    bound: bool = True
    # key -> the facts naming it (a term, or the percentage they hold under), built when first
    # asked once the facts are all there: the audit walks from a cell to what binds it.
    _facts_of: dict[Key, list[Fact]] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)
    # Figures starred or shown again (``star``, ``show``: the way to change one): how many
    # times, so a model of the figures (``RecoveryModel.sync``) reads them again only after a
    # change; and which since ``balance`` last settled every sum (then ``settled_facts`` is the
    # number of facts), so it looks again only at the sums those figures are in.
    changes: int = field(default=0, repr=False, compare=False)
    unsettled: set[Key] = field(default_factory=set, repr=False, compare=False)
    settled_facts: int | None = field(default=None, repr=False, compare=False)

    def facts_of(self, key: Key) -> list[Fact]:
        """The facts naming ``key``: in their terms, or as the percentage they hold while shown."""
        if self._indexed != len(self.facts):
            self._facts_of = {}
            for fact in self.facts:
                for k in {*(t for t, _ in fact.terms), *fact.while_shown}:
                    self._facts_of.setdefault(k, []).append(fact)
            self._indexed = len(self.facts)
        return self._facts_of.get(key, [])

    def add(
        self, key: Key, value: int, *, shown: bool = True, floor: int = 0, audited: bool = True, fixed: bool = False
    ) -> Key:
        self.figures[key] = Figure(value, shown, floor, audited, fixed=fixed)
        return key

    def add_percentage(
        self,
        key: Key,
        numerator: list[Key],
        denominator: list[tuple[Key, int]],
        shown: bool,
        star_with: tuple[Key, ...] = (),
    ) -> None:
        """A whole percentage of sum(numerator) / sum(coef * denominator), rounded half away from zero.
        Where the denominator is a figure always shown and the percentage leaves room for one
        numerator only, that sum is recorded as a fact of its own (it follows from the two)."""
        num = sum(self.figures[k].value for k in numerator)
        den = sum(self.figures[k].value * c for k, c in denominator)
        if den <= 0:
            # An empty denominator is shown as NA; it tells the reader the denominator is 0.
            self.figures[key] = Figure(0, shown, percentage=True, audited=False, star_with=star_with)
            if self.bound:
                self.facts.append(Fact(list(denominator), 0, 0, while_shown=(key,)))
            return
        p = int((200 * num + den) // (2 * den))  # half away from zero, exactly, for num >= 0
        self.figures[key] = Figure(p, shown, percentage=True, audited=False, star_with=star_with)
        self.percentage_facts(key, numerator, denominator)

    def percentage_facts(self, key: Key, numerator: list[Key], denominator: list[tuple[Key, int]]) -> None:
        """What a shown whole percentage p of N / D says: (2p - 1) D <= 200 N <= (2p + 1) D - 1."""
        if not self.bound:
            return
        p = self.figures[key].value
        lower = [(k, 200) for k in numerator] + [(k, -(2 * p - 1) * c) for k, c in denominator]
        upper = [(k, 200) for k in numerator] + [(k, -(2 * p + 1) * c) for k, c in denominator]
        self.facts.append(Fact(lower, 0, None, while_shown=(key,)))
        self.facts.append(Fact(upper, None, -1, while_shown=(key,)))
        if all(self.figures[k].fixed and self.figures[k].shown for k, _ in denominator):
            den = sum(self.figures[k].value * c for k, c in denominator)
            least, most = -(-(2 * p - 1) * den // 200), ((2 * p + 1) * den - 1) // 200
            if least == most:
                self.facts.append(Fact([(k, 1) for k in numerator], least, least, while_shown=(key,)))

    def sums_to(self, total: Key, parts: Iterable[Key], offset: int = 0) -> None:
        """figure ``total`` = sum(parts) + offset (offset: what the total holds that no part shows)."""
        if self.bound:
            self.facts.append(Fact([(total, 1), *[(p, -1) for p in parts]], offset, offset))

    def at_most(self, total: Key, parts: Iterable[Key]) -> None:
        if self.bound:
            self.facts.append(Fact([(total, 1), *[(p, -1) for p in parts]], 0, None))

    def show(self, key: Key, shown: bool = True) -> None:
        self.figures[key].shown = shown
        self.changes += 1
        self.unsettled.add(key)

    def star(self, key: Key) -> None:
        self.show(key, False)

    def shown(self, key: Key) -> int | str:
        figure = self.figures[key]
        return figure.value if figure.shown else SUPPRESSED
