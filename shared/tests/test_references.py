"""Hear-back references: typed on a phone, written on paper, read over the telephone. A slip
is refused, never taken for someone else's reference."""

import pytest

from hub_shared.references import SYMBOLS, BadReference, canonical, grouped, new_reference

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_a_reference_is_short_grouped_and_has_no_look_alike_characters() -> None:
    for _ in range(200):
        reference = new_reference()
        assert len(reference) == SYMBOLS + 1
        assert set(reference) <= set(ALPHABET)  # no I, L, O, U, and no * ~ $ = check symbols
        shown = grouped(reference)
        assert [len(g) for g in shown.split("-")] == [4, 4, 3]
        assert canonical(shown) == reference


def test_every_one_character_slip_is_refused() -> None:
    reference = new_reference()
    slips = 0
    for position in range(len(reference)):
        for symbol in ALPHABET:
            if symbol == reference[position]:
                continue
            typo = reference[:position] + symbol + reference[position + 1 :]
            with pytest.raises(BadReference):
                canonical(typo)
            slips += 1
    assert slips == len(reference) * (len(ALPHABET) - 1)


def test_two_neighbours_swapped_are_refused() -> None:
    reference = new_reference()
    for i in range(len(reference) - 1):
        if reference[i] == reference[i + 1]:
            continue
        swapped = reference[:i] + reference[i + 1] + reference[i] + reference[i + 2 :]
        with pytest.raises(BadReference):
            canonical(swapped)


def test_a_missing_or_extra_character_is_refused() -> None:
    reference = new_reference()
    for wrong in (reference[:-1], reference + "0", "", "HELLO"):
        with pytest.raises(BadReference):
            canonical(wrong)


def test_reading_forgives_case_spaces_and_look_alikes() -> None:
    reference = new_reference()
    looser = " ".join(grouped(reference).lower().split("-")).replace("0", "o").replace("1", "l")
    assert canonical(looser) == reference
