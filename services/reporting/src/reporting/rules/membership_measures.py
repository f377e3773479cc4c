"""Membership measures of every organisation of the ICB, published together and audited as one.

A reader with the ICB's rights opens the ICB's scorecard and each place's and practice's: the
members by age band and sex, members, those not stating their age or sex, invitations by reply
and attendance. Each alone can be safe and the pairs leak (a place's starred band is the ICB's
band minus the other places'), so every organisation's counts go into one ``Publication``
with the facts a reader knows:

* an organisation's count is the sum of its children's, plus what it holds itself (an
  invitation to the ICB's own opportunity), which the audit takes as known;
* the bands add up to the members in them; members are those plus those not stating age or sex
  (plus any other answer, taken as known);
* the replies and those not replying add up to the invited; attendance is at most the invited.

Each row first gets the rules of ``reporting.rules.disclosure`` (a count of 1 to 4 starred,
the next smallest of its siblings with it; a starred count is never 0, which a reader knows),
then the disclosure audit's search adds the least extra suppression it finds over all of
them (``reporting.rules.disclosure_audit.close``). A rate per 1,000 gives its count away (the
registered population is shown), so it is starred with its count, and a representativeness
score is starred when any of its bands is. The same counts give the same result, kept for
reuse."""

from dataclasses import dataclass, field
from typing import Any

from reporting.rules.disclosure import SUPPRESSED, Cell, protect, shown_count
from reporting.rules.disclosure_audit import Report, close
from reporting.rules.figures import Key, Publication
from reporting.rules.published import kept

REPLIES = ("replied_yes", "replied_no", "replied_maybe", "no_reply")


@dataclass
class MemberCounts:
    """One organisation's counts, everything under it included, and its children's."""

    code: str
    bands: dict[tuple[str, str], int]  # members by registered age band and sex
    not_stated: int
    other: int  # members in no registered band who did state (a band no patient is registered in)
    invitations: dict[str, int]  # REPLIES
    attended: int
    children: list["MemberCounts"] = field(default_factory=list)

    @property
    def members(self) -> int:
        return sum(self.bands.values()) + self.not_stated + self.other

    @property
    def invited(self) -> int:
        return sum(self.invitations.values())


@dataclass
class MembershipPublication:
    publication: Publication
    audit: Report

    def shown(self, code: str, column: str) -> int | str:
        return self.publication.shown((code, column))

    def starred(self, code: str, column: str) -> bool:
        return not self.publication.figures[(code, column)].shown

    def extra(self, code: str) -> list[str]:
        return [column for row, column in self.publication.extra if row == code]


def band_column(band: tuple[str, str]) -> str:
    return f"band:{band[0]}|{band[1]}"


def _walk(node: MemberCounts) -> list[MemberCounts]:
    return [node, *[n for c in node.children for n in _walk(c)]]


def _fingerprint(node: MemberCounts) -> tuple[Any, ...]:
    return (
        node.code,
        tuple(sorted(node.bands.items())),
        node.not_stated,
        node.other,
        tuple(node.invitations.get(r, 0) for r in REPLIES),
        node.attended,
        tuple(_fingerprint(c) for c in node.children),
    )


def _ruled(pub: Publication, row: str, total: tuple[str, int], parts: dict[str, int]) -> None:
    """A total over its parts under the rules; a starred count is never 0 (floor 1)."""
    cells = protect(Cell(total[0], total[1], [Cell(k, v) for k, v in parts.items()]))
    for cell in [cells, *cells.children]:
        pub.add((row, cell.key), cell.count, shown=not cell.suppressed, floor=1 if cell.suppressed else 0)
    pub.sums_to((row, cells.key), [(row, c.key) for c in cells.children])


def _lone(pub: Publication, row: str, column: str, count: int) -> None:
    starred = shown_count(count) != count
    pub.add((row, column), count, shown=not starred, floor=1 if starred else 0)


def _describe(pub: Publication, node: MemberCounts) -> None:
    code = node.code
    _ruled(
        pub, code, ("members_in_bands", sum(node.bands.values())), {band_column(b): n for b, n in node.bands.items()}
    )
    _lone(pub, code, "members", node.members)
    _lone(pub, code, "not_stated", node.not_stated)
    other = pub.add((code, "other"), node.other, fixed=True)
    pub.sums_to((code, "members"), [(code, "members_in_bands"), (code, "not_stated"), other])
    _ruled(pub, code, ("invited", node.invited), {r: node.invitations.get(r, 0) for r in REPLIES})
    _lone(pub, code, "attended", node.attended)
    pub.at_most((code, "invited"), [(code, "attended")])
    if not node.children:
        return
    columns = [*[band_column(b) for b in node.bands], "not_stated", "other", *REPLIES, "attended"]
    for column in columns:
        parts = [(c.code, column) for c in node.children if (c.code, column) in pub.figures]
        own = pub.figures[(code, column)].value - sum(pub.figures[k].value for k in parts)
        pub.sums_to((code, column), parts, offset=own)


_PUBLISHED = kept(32)


def publish_membership(root: MemberCounts) -> MembershipPublication:
    """Every organisation's membership counts under ``root`` (the ICB), published together."""
    key = _fingerprint(root)  # every count of every organisation: see ``published``
    return _PUBLISHED.get_or_make(key, lambda: _publish_membership(root))  # type: ignore[no-any-return]


def _publish_membership(root: MemberCounts) -> MembershipPublication:
    pub = Publication("membership measures")
    for node in reversed(_walk(root)):  # children first: a parent's facts name their figures
        _describe(pub, node)
    return MembershipPublication(pub, close(pub))


def published_membership(
    rows: dict[str, dict[str, int | str]],
    parents: dict[str, str | None],
    extra: set[Key] | None = None,
    own: dict[Key, int] | None = None,
) -> Publication:
    """What a reader who puts these scorecards side by side knows, from their shown figures
    alone: ``rows`` (organisation -> column -> the count shown, ``*`` when starred; the columns
    of ``_describe``), each organisation's parent, the cells labelled extra suppression (the
    only starred ones that may be 0), and what organisations hold themselves (``own``, taken
    as known). Audit it with ``audit(..., intervals=True)``."""
    extra, own = extra or set(), own or {}
    pub = Publication("published membership measures")
    for code, row in rows.items():
        for column, value in row.items():
            starred = value == SUPPRESSED
            floor = 0 if (code, column) in extra else int(starred)
            pub.add((code, column), 0 if starred else int(value), shown=not starred, floor=floor)
    for code, row in rows.items():
        pub.sums_to((code, "members_in_bands"), [(code, c) for c in row if c.startswith("band:")])
        pub.sums_to((code, "members"), [(code, "members_in_bands"), (code, "not_stated"), (code, "other")])
        pub.sums_to((code, "invited"), [(code, r) for r in REPLIES])
        pub.at_most((code, "invited"), [(code, "attended")])
        children = [c for c, p in parents.items() if p == code]
        if children and all(c in rows for c in children):
            for column in row:
                if column not in ("members", "members_in_bands", "invited"):
                    parts = [(c, column) for c in children]
                    pub.sums_to((code, column), parts, offset=own.get((code, column), 0))
    return pub


def shown_rows(published: MembershipPublication, root: MemberCounts) -> dict[str, dict[str, int | str]]:
    """Every organisation's counts as its scorecard shows them (``published_membership``'s rows)."""
    return {
        node.code: {
            column: published.shown(code, column) for code, column in published.publication.figures if code == node.code
        }
        for node in _walk(root)
    }
