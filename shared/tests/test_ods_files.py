"""ODS's published files read in their own layouts: two ICBs, a merger, a closure, and
malformed lines each reported with its file and line."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub_shared.cli import app
from hub_shared.events import OrganisationKind
from hub_shared.ods_files import InvalidReferenceFiles, OdsFiles, read_hierarchies
from hub_shared.ord_records import read_ord_records
from hub_shared.organisations import Organisations

FIXTURES = Path(__file__).parent / "fixtures" / "ods"


def ods_files(practices: str = "epraccur.csv") -> OdsFiles:
    return OdsFiles(
        practices=FIXTURES / practices,
        sub_icb_locations=FIXTURES / "eccg.csv",
        icbs=FIXTURES / "icbs.csv",
        successions=FIXTURES / "succ.csv",
    )


def test_each_icb_gets_its_own_hierarchy_of_places_and_practices() -> None:
    hierarchies = {h.icb_code: h for h in read_hierarchies(ods_files())}
    assert set(hierarchies) == {"QAA", "QBB"}
    north = {o.code: o for o in hierarchies["QAA"].organisations}
    assert north["QAA"].kind is OrganisationKind.ICB
    assert north["QAA"].name == "NHS NORTHSHIRE INTEGRATED CARE BOARD"
    assert {c for c, o in north.items() if o.kind is OrganisationKind.PLACE} == {"11A", "12B"}
    assert north["A11001"].parent == "11A" and north["A12001"].parent == "12B"
    assert "Y11001" not in north  # an out-of-hours centre (prescribing setting 8) is no practice
    south = {o.code for o in hierarchies["QBB"].organisations}
    assert south == {"QBB", "21C", "B21001", "B21002"}
    assert hierarchies["QAA"].sources == ["icbs.csv", "eccg.csv", "epraccur.csv", "succ.csv"]


def test_a_merged_practice_counts_for_its_successor_and_a_closed_one_keeps_its_place() -> None:
    organisations = Organisations.from_hierarchies(read_hierarchies(ods_files()))
    merged = organisations.get("A11003")
    assert merged is not None and merged.successor == "A11002" and str(merged.closed_on) == "2025-09-30"
    assert organisations.counts_for("A11003") == "A11002"
    closed = organisations.get("A12002")
    assert closed is not None and closed.successor is None and str(closed.closed_on) == "2024-03-31"
    assert organisations.place_of("A12002") == "12B"  # its history still counts for its place
    assert organisations.may_act_for("QAA", "A12002")
    assert not organisations.may_act_for("QBB", "A11001")
    assert not organisations.may_act_for("QAA", "B21001")
    assert organisations.icb_of("B21001") == "QBB"
    assert organisations.ics_name("21C") == "NHS SOUTHSHIRE INTEGRATED CARE BOARD"


def test_only_the_icbs_asked_for_are_read_and_others_lines_are_not_their_problem() -> None:
    [north] = read_hierarchies(ods_files(), only_icbs=["qaa"])
    assert north.icb_code == "QAA"
    assert not any(o.code.startswith("B") for o in north.organisations)


def test_every_bad_line_is_named_and_nothing_is_read() -> None:
    with pytest.raises(InvalidReferenceFiles) as raised:
        read_hierarchies(ods_files("epraccur_malformed.csv"))
    messages = [str(e) for e in raised.value.errors]
    assert messages[0] == "epraccur_malformed.csv line 2: 3 column(s), expected at least 27 (ODS layout)"
    by_line = {e.line: e.message for e in raised.value.errors}
    assert "name" in by_line[3]
    assert "'20251340' is not a real date" in by_line[4]
    assert "commissioner '99Z' (column 15) is not a sub-ICB location" in by_line[5]
    assert "status" in by_line[6]
    assert by_line[7] == "A11001 appears twice (also epraccur_malformed.csv line 1)"
    assert "closed (status C) but has no close date" in by_line[8]
    assert 1 not in by_line


def test_a_merger_into_a_practice_the_files_do_not_hold_is_refused(tmp_path: Path) -> None:
    successions = tmp_path / "succ.csv"
    successions.write_text('"A11003","A11002","20251001","N"\n"A11001","Z99999","20251101","N"\n')
    files = ods_files()
    with pytest.raises(InvalidReferenceFiles) as raised:
        read_hierarchies(OdsFiles(files.practices, files.sub_icb_locations, files.icbs, successions))
    assert [str(e) for e in raised.value.errors] == [
        "succ.csv line 2: A11001's successor Z99999 is not a practice in the imported ICBs"
    ]


def test_the_cli_refuses_bad_files_line_by_line_without_a_traceback(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "ods")
    folder = tmp_path / "ods"
    result = CliRunner().invoke(
        app,
        [
            "reference",
            "import",
            "--practices",
            str(folder / "epraccur_malformed.csv"),
            "--sub-icb-locations",
            str(folder / "eccg.csv"),
            "--icbs",
            str(folder / "icbs.csv"),
            "--dry-run",
        ],
    )
    assert result.exit_code == 1
    assert "epraccur_malformed.csv line 4" in result.output
    assert "nothing was imported" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(
        app,
        [
            "reference",
            "import",
            "--practices",
            str(folder / "nope.csv"),
            "--sub-icb-locations",
            str(folder / "eccg.csv"),
            "--icbs",
            str(folder / "icbs.csv"),
            "--dry-run",
        ],
    )
    assert missing.exit_code == 1 and "nope.csv line 0: no such file" in missing.output


def test_the_cli_shows_what_it_would_publish() -> None:
    result = CliRunner().invoke(
        app,
        [
            "reference",
            "import",
            "--practices",
            str(FIXTURES / "epraccur.csv"),
            "--sub-icb-locations",
            str(FIXTURES / "eccg.csv"),
            "--icbs",
            str(FIXTURES / "icbs.csv"),
            "--successions",
            str(FIXTURES / "succ.csv"),
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "QAA" in result.output and "QBB" in result.output and "nothing was published" in result.output


def test_the_ord_apis_records_saved_as_json_give_the_same_hierarchy() -> None:
    [east] = read_ord_records(FIXTURES / "ord_organisations.json")
    found = {o.code: o for o in east.organisations}
    assert east.icb_code == "QCC" and east.sources == ["ord_organisations.json"]
    assert found["31D"].kind is OrganisationKind.PLACE and found["31D"].parent == "QCC"
    assert found["C31001"].parent == "31D" and found["C31001"].closed_on is None
    assert found["C31002"].successor == "C31001" and str(found["C31002"].closed_on) == "2025-09-30"
    assert "Y31001" not in found  # a walk-in centre is no practice


def test_bad_ord_records_are_named_by_their_position() -> None:
    with pytest.raises(InvalidReferenceFiles) as raised:
        read_ord_records(FIXTURES / "ord_malformed.json")
    messages = [str(e) for e in raised.value.errors]
    assert any(m.startswith("ord_malformed.json line 2: name") for m in messages)
    assert "ord_malformed.json line 3: not an ORD organisation record (no 'Organisation')" in messages
    assert any(m.startswith("ord_malformed.json line 4: opened_on") and "real date" in m for m in messages)
