"""A second ICB beside the demo ICS, for tests of a deployment that serves several (a pytest
plugin: the ``two_icbs`` fixture). The organisations mirror the ODS fixture files
(``shared/tests/fixtures/ods``: NHS Southshire ICB, its sub-ICB location and practices), added
to this process's reference as a published import would add them, and taken away after."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from hub_shared.organisations import Kind, Organisation, Organisations, reference


@dataclass(frozen=True)
class SecondIcb:
    icb: str = "QBB"
    place: str = "21C"
    practice: str = "B21001"
    other_practice: str = "B21002"


SOUTHSHIRE = SecondIcb()
SOUTHSHIRE_ORGANISATIONS = (
    Organisation(SOUTHSHIRE.icb, "NHS SOUTHSHIRE INTEGRATED CARE BOARD", Kind.ICB, None, None),
    Organisation(SOUTHSHIRE.place, "NHS SOUTHSHIRE ICB - 21C", Kind.PLACE, SOUTHSHIRE.icb, None),
    Organisation(SOUTHSHIRE.practice, "SOUTH STREET SURGERY", Kind.PRACTICE, SOUTHSHIRE.place, None),
    Organisation(SOUTHSHIRE.other_practice, "VALLEY PRACTICE", Kind.PRACTICE, SOUTHSHIRE.place, None),
)


@contextmanager
def second_icb() -> Iterator[SecondIcb]:
    """This process's organisations with NHS Southshire ICB added; as they were afterwards."""
    organisations = reference()
    before = Organisations(list(organisations))
    organisations.replace(Organisations([*before, *SOUTHSHIRE_ORGANISATIONS]))
    try:
        yield SOUTHSHIRE
    finally:
        organisations.replace(before)


@pytest.fixture
def two_icbs() -> Iterator[SecondIcb]:
    with second_icb() as icb:
        yield icb
