"""The one authorisation check: every API, page and the ingress get the same answer."""

from datetime import timedelta

import pytest

from hub_shared.auth import Principal
from hub_shared.authorisation import NotAuthorised, authorise, may_see
from hub_shared.links import LinkProblem, SignedLinks
from hub_shared.organisations import Kind, Organisation, Organisations, reference


def place(code: str) -> Principal:
    return Principal(organisation=code, scopes=frozenset(), subject="test")


def test_a_caller_acts_for_itself_and_what_is_under_it_in_any_case() -> None:
    assert authorise(place("01A"), "p81001") == "P81001"
    assert authorise("qzz", "02B") == "02B"
    assert authorise(place("P81001"), "P81001") == "P81001"


def test_an_unknown_organisation_is_422_naming_the_field() -> None:
    with pytest.raises(NotAuthorised) as raised:
        authorise(place("QZZ"), "ZZZ99", field="practice_code")
    assert raised.value.status == 422
    assert raised.value.errors == [
        {
            "field": "practice_code",
            "message": "'ZZZ99' is not an organisation of this ICS",
            "type": "unknown_organisation",
        }
    ]
    assert raised.value.body()["errors"] == raised.value.errors


def test_another_organisations_code_is_403() -> None:
    for caller, target in (("02B", "P81001"), ("P81001", "01A"), ("P81001", "P81002")):
        with pytest.raises(NotAuthorised) as raised:
            authorise(place(caller), target)
        assert raised.value.status == 403
        assert raised.value.errors[0]["type"] == "forbidden"


def test_may_see_filters_without_raising() -> None:
    assert may_see(place("01A"), "P81001")
    assert not may_see(place("02B"), "P81001")
    assert not may_see(place("QZZ"), None)


def test_organisations_know_their_icb() -> None:
    orgs = reference()
    assert orgs.icb_of() == "QZZ"
    assert orgs.icb_of("P81001") == "QZZ"
    assert orgs.icb_of("QZZ") == "QZZ"
    two = Organisations(
        [Organisation("QAA", "North ICB", Kind.ICB, None, None), Organisation("QBB", "South ICB", Kind.ICB, None, None)]
    )
    with pytest.raises(LookupError):
        two.icb_of()
    assert orgs.only_icb() == "QZZ" and two.only_icb() is None
    assert two.ics_name("QBB") == "South ICB" and two.ics_name() == "NHS" and two.ics_name("NOPE1") == "NHS"
    assert two.icb_of("QBB") == "QBB"


def test_practices_under_an_organisation() -> None:
    orgs = reference()
    assert orgs.practices_under("P81001") == ["P81001"]
    assert "01A" not in orgs.practices_under("01A") and "P81001" in orgs.practices_under("01A")


def test_a_rotated_secret_still_verifies_links_signed_before_and_signs_new_ones() -> None:
    old = SignedLinks(["old-secret-of-32-characters-long!"], "http://x", "membership")
    rotated = SignedLinks(
        ["old-secret-of-32-characters-long!", "new-secret-of-32-characters-long!"], "http://x", "membership"
    )
    new_only = SignedLinks(["new-secret-of-32-characters-long!"], "http://x", "membership")
    token = old.token("confirm", {"m": "1"})
    assert rotated.load("confirm", token, timedelta(days=1)) == {"m": "1"}
    assert new_only.load("confirm", rotated.token("confirm", {"m": "2"}), timedelta(days=1)) == {"m": "2"}
    with pytest.raises(LinkProblem) as raised:
        new_only.load("confirm", token, timedelta(days=1))
    assert raised.value.reason == "invalid"
    with pytest.raises(LinkProblem):
        rotated.load("preferences", token, timedelta(days=1))  # another purpose
    assert old.url("/confirm", token).startswith("http://x/confirm?token=")
