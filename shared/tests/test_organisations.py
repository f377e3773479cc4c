import re

import pytest

from hub_shared.organisations import Kind, Organisations, code_pattern, reference, starting_hierarchies


def test_demo_ics_has_an_icb_three_places_and_their_practices() -> None:
    orgs = list(reference())
    assert [o.code for o in orgs if o.kind is Kind.ICB] == ["QZZ"]
    assert {o.code for o in orgs if o.kind is Kind.PLACE} == {"01A", "02B", "03C"}
    practices = [o for o in orgs if o.kind is Kind.PRACTICE]
    assert len(practices) == 30
    merged = [o for o in practices if o.successor]
    assert merged and all(reference().get(o.successor) is not None for o in merged)  # type: ignore[arg-type]


def test_authority_runs_down_the_hierarchy_only() -> None:
    orgs = reference()
    assert orgs.may_act_for("P81001", "P81001")
    assert orgs.may_act_for("01A", "P81001")
    assert orgs.may_act_for("QZZ", "P83002")
    assert not orgs.may_act_for("02B", "P81001")
    assert not orgs.may_act_for("P81001", "01A")
    assert not orgs.may_act_for("P81001", "P81002")


def test_descendants_of_a_place_are_itself_and_its_practices() -> None:
    assert reference().descendants("01A") == ["01A", *[f"P81{i:03d}" for i in range(1, 11)]]


def test_the_ics_is_called_by_its_icbs_name_from_the_reference_data() -> None:
    assert reference().ics_name() == "Demo Integrated Care Board"
    assert (
        reference().ics_name("P81001")
        == reference().ics_name("02B")
        == reference().ics_name()
        == "Demo Integrated Care Board"
    )
    assert reference().ics_name("NOPE1") == "Demo Integrated Care Board"  # an unknown code: the deployment's one ICS


def test_a_deployment_holds_no_demo_organisations_until_it_imports_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_DEVELOPMENT_MODE", raising=False)
    assert starting_hierarchies() == []
    assert Organisations.from_hierarchies(starting_hierarchies()).get("P81001") is None
    monkeypatch.setenv("HUB_DEVELOPMENT_MODE", "1")
    assert [h.icb_code for h in starting_hierarchies()] == ["QZZ"]


def test_the_contract_pattern_takes_exactly_the_ics_codes_in_any_case() -> None:
    # Matched whole, as JSON Schema (ECMA 262) does: Python's $ would let a final new line by.
    every = re.compile(code_pattern())
    practices = re.compile(code_pattern(Kind.PRACTICE))
    for org in reference():
        assert every.fullmatch(org.code) and every.fullmatch(org.code.lower())
        assert bool(practices.fullmatch(org.code)) == (org.kind is Kind.PRACTICE)
    for unknown in ("", "000", "P8100", "P810011", "ZZZ", " 01A", "01A ", "01A\n"):
        assert not every.fullmatch(unknown), unknown
