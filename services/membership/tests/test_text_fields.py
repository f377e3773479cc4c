"""Text that ends up in email subjects and headers is one line: control characters and line
or paragraph separators are refused where they cannot belong, with a field error."""

import pytest

from .conftest import auth
from .test_groups_and_opportunities import opportunity


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "a\nb"),
        ("title", "a\u2028b"),
        ("title", "a\rBcc: someone@example.org"),
        ("title", "nul\x00byte"),
        ("location", "Room 1\u2029Floor 2"),
        ("description", "fine line\nthen a \x1b[31m escape"),
        ("description", "paragraph\u2029separator"),
    ],
)
async def test_an_opportunity_with_a_control_character_is_refused_naming_the_field(
    client, keys, field: str, value: str
) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/v1/opportunities", json=opportunity(**{field: value}), headers=auth(keys, "01A"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"].split(".")[-1] for e in r.json()["errors"]] == [field]


async def test_a_description_may_break_lines_and_the_schema_says_what_is_allowed(client, keys) -> None:  # type: ignore[no-untyped-def]
    body = opportunity(description="First line.\nSecond line,\twith a tab.")
    assert (await client.post("/v1/opportunities", json=body, headers=auth(keys, "01A"))).status_code == 201
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["OpportunityCreate"]["properties"]
    assert "\\u2028" in schema["title"]["pattern"] and "\\u2028" in schema["description"]["pattern"]


async def test_a_group_name_and_a_joiners_name_are_one_line(client, keys) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/v1/groups",
        json={"organisation_code": "P81001", "kind": "ppg", "name": "Church\nStreet"},
        headers=auth(keys, "P81001"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("name")
    r = await client.post(
        "/v1/join",
        json={
            "name": "Ada\u2028Lovelace",
            "email": "ada@example.org",
            "postcode": "LS1 4AP",
            "practice_code": "P81001",
            "consent_to_contact": True,
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("name")
