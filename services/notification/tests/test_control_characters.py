"""Text that cannot be stored or compared faithfully (a NUL, other control characters, line
separators in one line) is refused where it comes in, naming the field, never a 500."""

import pytest

from .conftest import auth


@pytest.mark.parametrize("reference", ["opportunity\x00", "opportunity\u2028"])
async def test_a_query_with_a_control_character_is_refused(client, keys, reference) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/v1/notifications", params={"reference": reference}, headers=auth(keys, "01A"))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["query.reference"]


@pytest.mark.parametrize(("field", "value"), [("sign_off", "With thanks\x00"), ("team_name", "Northvale\nteam")])
async def test_branding_with_a_control_character_is_refused(client, keys, field, value) -> None:  # type: ignore[no-untyped-def]
    body = {"sign_off": "With warm thanks,", "team_name": "Northvale engagement team", field: value}
    response = await client.put("/v1/branding/01A", json=body, headers=auth(keys, "01A"))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    shown = await client.get("/v1/branding/01A", headers=auth(keys, "01A"))
    assert shown.status_code == 200 and value not in shown.text
