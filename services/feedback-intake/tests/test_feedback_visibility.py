"""Who reads feedback text, on a real SQLite store: text awaiting review (or referred) is
shown only to those who triage it, withheld text to no one, and another organisation's
feedback to nobody outside it, whichever way it is read."""

from typing import Any

import httpx

from hub_shared.auth import DevKeys

from .conftest import auth

FLAGGED = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "online_comment",
    "text": "I want to make a formal complaint about Dr Smith at my home visit.",
    "occurred_at": "2026-10-01T09:00:00Z",
}
READER = ("feedback:read",)
TRIAGER = ("feedback:read", "feedback:review")


async def read_back(client: httpx.AsyncClient, keys: DevKeys, org: str, scopes: tuple[str, ...], item_id: str) -> Any:
    """The item's text as the list and the single read show it to this caller (both must agree)."""
    listed = (await client.get("/v1/feedback", headers=auth(keys, org, scopes))).json()["items"]
    [found] = [i for i in listed if i["id"] == item_id]
    single = await client.get(f"/v1/feedback/{item_id}", headers=auth(keys, org, scopes))
    assert single.status_code == 200 and single.json()["text"] == found["text"]
    return found["text"]


async def flagged_item(client: httpx.AsyncClient, keys: DevKeys) -> str:
    created = await client.post("/v1/feedback", json=FLAGGED, headers=auth(keys, "P81001", ("feedback:write",)))
    assert created.status_code == 201 and created.json()["review_status"] == "pending"
    return str(created.json()["id"])


async def decide(client: httpx.AsyncClient, keys: DevKeys, item_id: str, decision: str) -> Any:
    decided = await client.post(f"/v1/reviews/{item_id}", json={"decision": decision}, headers=auth(keys, "01A"))
    assert decided.status_code == 200, decided.text
    return decided.json()


async def test_pending_text_is_shown_to_those_who_triage_it_only(client, keys) -> None:  # type: ignore[no-untyped-def]
    item_id = await flagged_item(client, keys)
    assert await read_back(client, keys, "01A", READER, item_id) is None
    assert await read_back(client, keys, "P81001", READER, item_id) is None
    assert await read_back(client, keys, "01A", TRIAGER, item_id) == FLAGGED["text"]
    [queued] = (await client.get("/v1/reviews", headers=auth(keys, "01A", TRIAGER))).json()
    assert queued["text"] == FLAGGED["text"]


async def test_referred_text_stays_with_those_who_triage_it(client, keys) -> None:  # type: ignore[no-untyped-def]
    item_id = await flagged_item(client, keys)
    assert (await decide(client, keys, item_id, "safeguarding_referral"))["text"] == FLAGGED["text"]
    assert await read_back(client, keys, "01A", READER, item_id) is None
    assert await read_back(client, keys, "01A", TRIAGER, item_id) == FLAGGED["text"]


async def test_withheld_text_is_never_returned(client, keys) -> None:  # type: ignore[no-untyped-def]
    item_id = await flagged_item(client, keys)
    decided = await decide(client, keys, item_id, "withheld")
    assert decided["text"] is None and decided["review_status"] == "withheld"
    for scopes in (READER, TRIAGER):
        for org in ("P81001", "01A", "QZZ"):  # the practice, its place, the ICB
            assert await read_back(client, keys, org, scopes, item_id) is None


async def test_cleared_text_is_shown_to_readers(client, keys) -> None:  # type: ignore[no-untyped-def]
    item_id = await flagged_item(client, keys)
    await decide(client, keys, item_id, "cleared")
    assert await read_back(client, keys, "P81001", READER, item_id) == FLAGGED["text"]


async def test_another_organisation_sees_nothing(client, keys) -> None:  # type: ignore[no-untyped-def]
    pending = await flagged_item(client, keys)
    cleared = await flagged_item(client, keys)
    await decide(client, keys, cleared, "cleared")
    for org in ("02B", "P82001"):  # another place, another place's practice, even one who triages
        listed = await client.get("/v1/feedback", headers=auth(keys, org, TRIAGER))
        assert listed.status_code == 200 and listed.json()["items"] == []
        assert (await client.get("/v1/reviews", headers=auth(keys, org, TRIAGER))).json() == []
        for item_id in (pending, cleared):
            single = await client.get(f"/v1/feedback/{item_id}", headers=auth(keys, org, TRIAGER))
            assert single.status_code == 404 and FLAGGED["text"] not in single.text
