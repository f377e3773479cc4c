"""GET /v1/responses pages through every response a caller may see (the Link header gives the
next page), and each response says how many contributors it will reach, never who."""

import uuid

from .conftest import auth

ITEM = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "online_comment",
    "text": "The phones are always engaged at 8am.",
    "occurred_at": "2026-10-01T09:00:00Z",
}


async def test_responses_page_through_with_a_link_and_count_who_hears_back(client, keys) -> None:  # type: ignore[no-untyped-def]
    member = str(uuid.uuid4())
    items = [
        {**ITEM, "hear_back": {"member_id": member}},
        {**ITEM, "hear_back": {"member_id": member}},  # the same person twice: reached once
        {**ITEM, "hear_back": {"contact_token": "tok-123456789"}},
        ITEM,
    ]
    ids = [(await client.post("/v1/feedback", json=i, headers=auth(keys, "P81001"))).json()["id"] for i in items]
    body = {"organisation_code": "01A", "you_said": "Phones", "we_did": "More lines", "status": "planned"}
    created = []
    for n in range(5):
        answered = ids if n == 0 else ids[3:]
        made = await client.post("/v1/responses", json={**body, "submission_ids": answered}, headers=auth(keys, "01A"))
        assert made.status_code == 201, made.text
        created.append(made.json())
    assert created[0]["hearing_back"] == 2 and created[1]["hearing_back"] == 0
    assert "member" not in str(created[0]) and "tok-" not in str(created[0])
    one = await client.get(f"/v1/responses/{created[0]['id']}", headers=auth(keys, "01A"))
    assert one.json()["hearing_back"] == 2

    seen: list[str] = []
    url: str | None = "/v1/responses?limit=2"
    while url:
        page = await client.get(url, headers=auth(keys, "01A"))
        assert page.status_code == 200, page.text
        assert len(page.json()) <= 2
        seen += [r["id"] for r in page.json()]
        url = page.links.get("next", {}).get("url")
    assert seen == [r["id"] for r in reversed(created)]  # newest first, each once
    assert {r["id"]: r["hearing_back"] for r in (await client.get("/v1/responses", headers=auth(keys, "01A"))).json()}[
        created[0]["id"]
    ] == 2

    # A practice sees none of its place's responses; a bad cursor is a field error.
    assert (await client.get("/v1/responses", headers=auth(keys, "P81001"))).json() == []
    bad = await client.get("/v1/responses?cursor=nonsense", headers=auth(keys, "01A"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
