"""Which rows (or counts) are suppressed, following NHS England's FFT publication rules
(``nhsengland/fft_pipeline``, ``src/fft/suppression.py``), for every output.

1. First level: a count of 1 to 4 is suppressed (``apply_first_level_suppression``).
2. Second level: within each parent, when the smallest non-zero sibling (rank 1) is
   suppressed, the next smallest (rank 2) is suppressed too, so the hidden value cannot
   be recovered by subtracting the others from the parent
   (``apply_second_level_suppression``).
3. Cascade: when a parent is suppressed, its two smallest non-zero children are too
   (``apply_cascade_suppression``).
The rules repeat until nothing changes. Zero is never suppressed (nothing to disclose).

Ties: siblings are ranked by count, then by key (the ODS code, the theme, the answer)
in ascending order, so of two practices with the same total the one with the lower
ODS code is rank 1. NHS England ranks with ``rank(method="dense")`` and breaks ties by
its sort order (names); ours is the same rule with a documented, stable order.

What a suppressed row then *shows* is the publication rule set's business
(``reporting.rules.publication``), and the disclosure audit (``reporting.rules.disclosure_audit``)
proves nothing starred can be worked back.

A tree is any nesting of ``Cell``: the ICS total over places over practices, or a total
over its answer counts, or a theme's mentions over months."""

from dataclasses import dataclass, field

SUPPRESSED = "*"
SMALLEST_SHOWN = 5


@dataclass
class Cell:
    key: str
    count: int
    children: list["Cell"] = field(default_factory=list)
    suppressed: bool = False
    reason: str | None = None  # first-level, second-level or cascade

    @property
    def shown(self) -> int | str:
        return SUPPRESSED if self.suppressed else self.count


def _primary(cell: Cell) -> None:
    if 0 < cell.count < SMALLEST_SHOWN:
        cell.suppressed = True
        cell.reason = "first-level"
    for child in cell.children:
        _primary(child)


def _secondary(cell: Cell) -> bool:
    changed = False
    nonzero = sorted((c for c in cell.children if c.count > 0), key=lambda c: (c.count, c.key))
    if len(nonzero) >= 2 and nonzero[0].suppressed and not any(c.suppressed for c in nonzero[1:]):
        nonzero[1].suppressed = True
        nonzero[1].reason = "second-level"
        changed = True
    if cell.suppressed:
        for child in nonzero[:2]:
            if not child.suppressed:
                child.suppressed = True
                child.reason = "cascade"
                changed = True
    for child in cell.children:
        changed = _secondary(child) or changed
    return changed


def protect(root: Cell) -> Cell:
    """Apply every rule to the tree in place, until it is stable; returns the root."""
    _primary(root)
    while _secondary(root):
        pass
    return root


def shown_count(count: int) -> int | str:
    """A lone count of people with no siblings: only the primary rule applies."""
    return SUPPRESSED if 0 < count < SMALLEST_SHOWN else count


def protect_counts(counts: dict[str, int], total_key: str = "total") -> dict[str, int | str]:
    """A flat set of counts of people under their total (e.g. themes, channels, answers)."""
    root = protect(Cell(total_key, sum(counts.values()), [Cell(k, v) for k, v in counts.items()]))
    return {total_key: root.shown, **{c.key: c.shown for c in root.children}}
