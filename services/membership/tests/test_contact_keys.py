"""Contact cards leave membership sealed with the person's own key; notification, and only
notification (a request signed with the secret the two share, for that one key), gets the
key; erasure and leaving destroy it, so every card already sent stays sealed for good."""

import base64
import json

import httpx
from sqlalchemy import select

from hub_shared.events import MemberContactV2
from hub_shared.links import SignedLinks
from hub_shared.sealing import NAMESPACE, ContactKeys, request_token
from membership.links import Purpose
from membership.models import OutboxMessage

from .conftest import JOIN, join_and_confirm, token_of


def notification_keys(app) -> ContactKeys:  # type: ignore[no-untyped-def]
    """Membership's keys as notification asks for them, signed with the secret they share."""
    return ContactKeys("http://membership", app.state.contact_key_links, transport=httpx.ASGITransport(app=app))


async def staged_cards(app) -> list[MemberContactV2]:  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session:
        payloads = (await session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.seq))).all()
    events = [json.loads(p) for p in payloads if p]
    return [MemberContactV2.model_validate(e["data"]) for e in events if e["type"] == MemberContactV2.event_type]


async def test_cards_carry_ids_only_and_open_with_the_key_notification_is_given(client, app) -> None:
    member_id, _ = await join_and_confirm(client, app)
    cards = await staged_cards(app)
    assert cards and {str(c.member_id) for c in cards} == {member_id}
    for card in cards:
        # Looked for in what a reader sees and in the sealed bytes (not in their base64 text,
        # where three letters such as "Ada" turn up by chance in one run of a hundred).
        readable = card.model_dump_json(exclude={"sealed"})
        sealed = base64.urlsafe_b64decode(card.sealed.encode())
        for detail in ("Ada", "Lovelace", "ada@example.org", "07700", "7700900982", "LS1"):
            assert detail not in readable and detail.encode() not in sealed
    opened = [await notification_keys(app).open(card) for card in cards]
    assert [o.email if o else None for o in opened] == [JOIN["email"]] * len(cards)
    assert opened[0] is not None and opened[0].message is not None and "confirm" in opened[0].message.links


async def test_only_a_request_signed_for_that_key_gets_it(client, app) -> None:
    member_id, _ = await join_and_confirm(client, app)
    other_id, _ = await join_and_confirm(client, app, email="grace@example.org")
    signed = app.state.contact_key_links
    stranger = SignedLinks(["a-secret-nobody-shares-with-membership-0123456789"], "http://x", NAMESPACE)
    asked = {
        "no token": {},
        "a staff token": {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
        "another secret": {"Authorization": f"Bearer {request_token(stranger, member_id)}"},
        "another key": {"Authorization": f"Bearer {request_token(signed, other_id)}"},
    }
    for why, headers in asked.items():
        r = await client.get(f"/v1/contact-keys/{member_id}", headers=headers)
        assert r.status_code == 401, (why, r.status_code)
        assert "key" not in r.json(), why
    r = await client.get(
        f"/v1/contact-keys/{member_id}", headers={"Authorization": f"Bearer {request_token(signed, member_id)}"}
    )
    assert r.status_code == 200 and len(r.json()["key"]) == 44  # 32 bytes, base64url


async def test_erasure_and_leaving_destroy_the_key_so_sent_cards_stay_sealed(client, app) -> None:
    erased_id, erased_token = await join_and_confirm(client, app)
    left_id, left_token = await join_and_confirm(client, app, email="grace@example.org")
    sent = await staged_cards(app)  # as they are on the topic, in dead letters, anywhere
    keys = notification_keys(app)
    assert all([await keys.open(card) for card in sent])
    assert (await client.post("/v1/me/erase", params={"token": erased_token})).status_code == 200
    assert (await client.post("/v1/me/leave", params={"token": left_token})).status_code == 200
    assert {str(c.member_id) for c in sent} == {erased_id, left_id}
    assert [await keys.open(card) for card in sent] == [None] * len(sent)
    assert await keys.key_for(erased_id) is None and await keys.key_for(left_id) is None


async def test_a_hear_back_contacts_cards_close_when_it_stops(client, app) -> None:
    token = (await client.post("/v1/hear-back", json={"email": "stop@example.org"})).json()["contact_token"]
    sent = await staged_cards(app)
    keys = notification_keys(app)
    opened = await keys.open(sent[0])
    assert opened is not None and opened.email == "stop@example.org" and sent[0].contact_token == token
    stop = token_of(app.state.links.url(Purpose.HEAR_BACK_STOP, t=token))
    assert (await client.post("/v1/hear-back/stop", json={"token": stop})).status_code == 200
    assert await keys.open(sent[0]) is None
