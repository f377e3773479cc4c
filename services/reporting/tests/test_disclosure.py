"""Disclosure control on hand-worked hierarchies."""

from reporting.rules.disclosure import Cell, protect, protect_counts


def shown(cell: Cell) -> dict[str, object]:
    out: dict[str, object] = {cell.key: cell.shown}
    for child in cell.children:
        out |= shown(child)
    return out


def test_a_small_count_and_the_next_smallest_sibling_are_hidden() -> None:
    # Place 53 = A 3 + B 20 + C 30. A alone hidden would be 53 - 20 - 30.
    place = protect(Cell("place", 53, [Cell("A", 3), Cell("B", 20), Cell("C", 30)]))
    assert shown(place) == {"place": 53, "A": "*", "B": "*", "C": 30}


def test_zero_is_not_disclosive_and_larger_counts_stand() -> None:
    place = protect(Cell("place", 19, [Cell("A", 0), Cell("B", 7), Cell("C", 12)]))
    assert shown(place) == {"place": 19, "A": 0, "B": 7, "C": 12}


def test_two_small_siblings_protect_each_other() -> None:
    place = protect(Cell("place", 55, [Cell("A", 2), Cell("B", 3), Cell("C", 50)]))
    assert shown(place) == {"place": 55, "A": "*", "B": "*", "C": 50}


def test_a_suppressed_parent_hides_its_two_smallest_children_all_the_way_down() -> None:
    # ICS 123 = P1 4 (a 1 + b 3) + P2 40 (x 10 + y 12 + z 18) + P3 79 (m 79).
    ics = protect(
        Cell(
            "ICS",
            123,
            [
                Cell("P1", 4, [Cell("a", 1), Cell("b", 3)]),
                Cell("P2", 40, [Cell("x", 10), Cell("y", 12), Cell("z", 18)]),
                Cell("P3", 79, [Cell("m", 79)]),
            ],
        )
    )
    # P1 is small; P2 is the next smallest place, so it goes too; a suppressed P2 takes
    # its two smallest practices with it; z stays (x + y cannot be split from it).
    assert shown(ics) == {
        "ICS": 123,
        "P1": "*",
        "a": "*",
        "b": "*",
        "P2": "*",
        "x": "*",
        "y": "*",
        "z": 18,
        "P3": 79,
        "m": 79,
    }


def test_answers_under_a_total() -> None:
    assert protect_counts({"very_good": 16, "good": 4}) == {"total": 20, "very_good": "*", "good": "*"}
    assert protect_counts({"very_good": 12, "good": 4, "neither": 0, "poor": 0, "very_poor": 3, "dont_know": 1}) == {
        "total": 20,
        "very_good": 12,
        "good": "*",
        "neither": 0,
        "poor": 0,
        "very_poor": "*",
        "dont_know": "*",
    }
    assert protect_counts({"a": 3}) == {"total": "*", "a": "*"}
