"""NHS England's "Patients Registered at a GP Practice" read in its published layout (single
year of age by sex) into the hub's bands, one month at a time, bad lines named."""

from pathlib import Path

import pytest

from hub_shared.events import AgeBand, Sex
from hub_shared.gp_registrations import InvalidRegistrations, band_of, read_registrations
from hub_shared.ods_files import OdsFiles, read_hierarchies
from hub_shared.organisations import Organisations
from hub_shared.reference_cli import population_events

FIXTURES = Path(__file__).parent / "fixtures"
FILES = FIXTURES / "gp_registrations"
ODS = FIXTURES / "ods"


def test_single_years_of_age_fall_in_the_hubs_bands() -> None:
    assert band_of("0") is band_of("15") is AgeBand.UNDER_16
    assert band_of("16") is band_of("24") is AgeBand.AGE_16_24
    assert band_of("84") is AgeBand.AGE_75_84
    assert band_of("85") is band_of("95+") is AgeBand.AGE_85_PLUS


def test_a_month_of_registrations_by_practice_band_and_sex() -> None:
    month = read_registrations(
        [FILES / "gp-reg-pat-prac-sing-age-male.csv", FILES / "gp-reg-pat-prac-sing-age-female.csv"]
    )
    assert month.month == "2026-12"
    assert month.counts[("A11001", AgeBand.UNDER_16, Sex.MALE)] == 16 * 10
    assert month.counts[("A11001", AgeBand.AGE_16_24, Sex.FEMALE)] == 9 * 10
    assert month.counts[("A11002", AgeBand.AGE_85_PLUS, Sex.MALE)] == 11 * 20
    assert sum(n for (p, _, _), n in month.counts.items() if p == "A11001") == 2 * 96 * 10


def test_every_bad_line_is_named() -> None:
    with pytest.raises(InvalidRegistrations) as raised:
        read_registrations([FILES / "gp-reg-pat-prac-sing-age-malformed.csv"])
    found = {(e.line, e.message) for e in raised.value.errors}
    name = "gp-reg-pat-prac-sing-age-malformed.csv"
    assert (4, "AGE '101' is not 0 to 94, 95+ or ALL") in found
    assert (5, "NUMBER_OF_PATIENTS 'ten' is not a whole number") in found
    assert (7, "ORG_CODE 'A-1' is not an ODS code") in found
    assert (8, "SEX 'UNKNOWN' is not MALE, FEMALE or ALL") in found
    assert (9, "EXTRACT_DATE 'someday' is not a date") in found
    assert (2, "A11001 male: ALL is 30 but the ages add up to 10") in found
    assert any("more than one month: 2026-12" in m and "2027-01" in m for _, m in found)
    assert all(e.file == name for e in raised.value.errors)


def test_a_file_without_the_publications_columns_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "list-sizes.csv"
    other.write_text("PRACTICE,PATIENTS\nA11001,100\n")
    with pytest.raises(InvalidRegistrations) as raised:
        read_registrations([other])
    assert str(raised.value.errors[0]) == (
        "list-sizes.csv line 1: no column EXTRACT_DATE, ORG_CODE, SEX, AGE, NUMBER_OF_PATIENTS (NHS Digital's layout)"
    )


def test_each_icb_gets_its_own_practices_and_other_practices_are_left_out() -> None:
    organisations = Organisations.from_hierarchies(
        read_hierarchies(OdsFiles(ODS / "epraccur.csv", ODS / "eccg.csv", ODS / "icbs.csv", ODS / "succ.csv"))
    )
    month = read_registrations([FILES / "gp-reg-pat-prac-sing-age-male.csv"])
    envelopes, unknown = population_events(month, organisations, ["m.csv"], "c")
    assert unknown == {"Z99001"}
    by_icb = {e.subject: e for e in envelopes}
    assert set(by_icb) == {"population:QAA:2026-12", "population:QBB:2026-12"}
    assert {c.practice_code for c in by_icb["population:QBB:2026-12"].data.counts} == {"B21001"}  # type: ignore[attr-defined]
    again, _ = population_events(month, organisations, ["m.csv"], "other")
    assert [e.id for e in again] == [e.id for e in envelopes]  # the same import is the same event
