"""Text that ends up in email subjects and headers is one line: control characters and line
or paragraph separators are refused where they cannot belong, with a field error."""

import pytest
from sqlalchemy import select

from membership.models import GroupInvitation

from .conftest import auth
from .test_groups_and_opportunities import make_group, opportunity


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


@pytest.mark.parametrize("basis", ["paper form\x00", "paper\u2028form", "paper\tform"])
async def test_an_imported_rows_consent_basis_is_one_line_of_text(app, client, keys, basis: str) -> None:  # type: ignore[no-untyped-def]
    ppg = await make_group(client, keys, "P81002", kind="ppg", name="High Street PPG")
    csv = (
        "name,email,phone,postcode,practice_code,consent_basis\n"
        "Mary Seacole,mary@example.org,,SW1A 1AA,P81002,paper form 2024\n"
        f'Ada Lovelace,ada@example.org,,SW1A 1AA,P81002,"{basis}"\n'
    )
    r = await client.post(
        f"/v1/groups/{ppg['id']}/import", content=csv, headers={**auth(keys, "P81002"), "content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert [(row["status"], [e["field"] for e in row["errors"]]) for row in r.json()["rows"]] == [
        ("imported", []),
        ("rejected", ["consent_basis"]),
    ]
    # Only the good row waits for its welcome to be accepted, with its consent as given.
    async with app.state.sessions() as session:
        waiting = (await session.scalars(select(GroupInvitation))).all()
    assert [(w.email, w.consent_basis) for w in waiting] == [("mary@example.org", "paper form 2024")]
