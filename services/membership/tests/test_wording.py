"""What membership's pages say, as people read it: a used confirmation link says so before
any button; a phone number as it is written, not as it is stored; times in the NHS.UK style;
ethnic groups in the ONS standard's words; the ICS by its name from the reference data."""

import re
from datetime import UTC, datetime, timedelta

from hub_shared.dates import when
from hub_shared.organisations import reference

from .conftest import JOIN, auth, events_of, join_and_confirm, last_card, token_of
from .test_groups_and_opportunities import opportunity


async def test_a_used_confirmation_link_says_so_before_any_button(client, app) -> None:
    await client.post("/v1/join", json=JOIN)
    token = token_of((await last_card(app))["message"]["links"]["confirm"])
    first = await client.get("/confirm", params={"token": token})
    assert first.status_code == 200 and "<button" in first.text
    assert (await client.post("/confirm", data={"token": token})).status_code == 200
    again = await client.get("/confirm", params={"token": token})
    assert again.status_code == 410 and "This link has already been used" in again.text
    assert 'action="/confirm"' not in again.text  # no Confirm button to press for nothing


async def test_a_phone_number_reads_as_it_is_written_and_is_stored_normalised(client, app) -> None:
    _, token = await join_and_confirm(client, app, phone="07700 900539")
    assert (await last_card(app))["phone"] == "+447700900539"
    page = await client.get("/preferences", params={"token": token})
    assert page.status_code == 200
    assert 'value="07700 900539"' in page.text and "+44" not in page.text


async def test_the_reply_page_writes_times_the_nhs_way(client, app, keys) -> None:
    await join_and_confirm(client, app, interests=["musculoskeletal"])
    starts = (datetime.now(UTC) + timedelta(days=40)).replace(hour=18, minute=0, second=0, microsecond=0)
    closes = (starts - timedelta(days=10)).replace(hour=0)
    r = await client.post(
        "/v1/opportunities",
        json=opportunity(starts_at=starts.isoformat(), closes_at=closes.isoformat()),
        headers=auth(keys, "01A"),
    )
    assert r.status_code == 201, r.text
    page = await client.get("/reply", params={"token": token_of((await last_card(app))["message"]["links"]["reply"])})
    assert when(starts) in page.text and when(closes) in page.text
    assert not re.search(r"\b\d{1,2}:\d{2}\b(?!\s*[ap]m)|12:00am|12am|12pm", page.text)


async def test_join_page_lists_ethnic_groups_in_the_ons_words_and_names_the_ics(client) -> None:
    page = (await client.get("/join")).text
    for label in (
        "Asian or Asian British: Bangladeshi",
        "White: Gypsy or Irish Traveller",
        "White: Roma",
        "Other ethnic group: Any other ethnic group",
    ):
        assert label in page
    assert "Asian bangladeshi" not in page and "Other any" not in page
    assert reference().ics_name() in page


async def test_a_place_given_up_moves_the_longest_waiting_and_says_it_was_a_move(client, app, keys) -> None:
    await join_and_confirm(client, app, email="first@example.org", interests=["musculoskeletal"])
    waiting, _ = await join_and_confirm(client, app, email="second@example.org", interests=["musculoskeletal"])
    assert (await client.post("/v1/opportunities", json=opportunity(), headers=auth(keys, "01A"))).status_code == 201
    replies = {}
    for email in ("first@example.org", "second@example.org"):
        replies[email] = token_of((await last_card(app, email))["message"]["links"]["reply"])
        r = await client.post("/v1/invitations/reply", json={"token": replies[email], "answer": "yes"})
        assert r.status_code == 200, r.text
    r = await client.post("/v1/invitations/reply", json={"token": replies["first@example.org"], "answer": "no"})
    assert r.status_code == 200
    answered = [e["data"] for e in await events_of(app, "invitation.answered.v1")]
    assert [(a["place"], a["moved"]) for a in answered] == [
        ("booked", False),
        ("waiting_list", False),
        (None, False),
        ("booked", True),  # the second was moved, not replying: "a place has come up" is the one email
    ]
    assert answered[-1]["member_id"] == waiting
    assert (await last_card(app, "second@example.org"))["message"]["kind"] == "place_offered"
