"""Joining, confirming, fresh links, preferences, leaving and erasure through the API,
on PostgreSQL; the events each step stages, and what they must never carry."""

import json

from sqlalchemy import select, text

from hub_shared.topics import MEMBERSHIP_CONTACTS
from membership.models import Member

from .conftest import JOIN, events_of, join_and_confirm, last_card, outbox, token_of


async def test_join_is_pending_until_the_signed_link_is_followed_once(client, app) -> None:
    r = await client.post("/v1/join", json=JOIN)
    assert r.status_code == 202
    joined = await events_of(app, "member.joined.v1")
    assert len(joined) == 1
    assert joined[0]["data"]["bands"]["age_band"] == "16_24"
    card = await last_card(app)
    assert card["email"] == "ada@example.org" and card["name"] == "Ada Lovelace" and card["phone"] == "+447700900982"
    assert card["message"]["kind"] == "confirm_join" and card["contactable"] is False
    token = token_of(card["message"]["links"]["confirm"])

    r = await client.post("/v1/confirm", json={"token": token})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert len(await events_of(app, "member.confirmed.v1")) == 1
    again = await client.post("/v1/confirm", json={"token": token})
    assert again.status_code == 410 and again.json()["reason"] == "used"
    tampered = await client.post("/v1/confirm", json={"token": token[:-3] + ("abc" if token[-3:] != "abc" else "xyz")})
    assert tampered.status_code == 403 and tampered.json()["reason"] == "invalid"
    assert len(await events_of(app, "member.confirmed.v1")) == 1


async def test_ordinary_events_never_carry_contact_details(client, app) -> None:
    await join_and_confirm(client, app)
    raw = json.dumps(await outbox(app))
    for secret in ("Ada", "Lovelace", "ada@example.org", "7700900982", "900982", "LS1 4AP"):
        assert secret not in raw


async def test_joining_twice_makes_one_member_and_the_same_answer(client, app) -> None:
    first = await client.post("/v1/join", json=JOIN)
    second = await client.post("/v1/join", json={**JOIN, "email": "ADA@Example.org", "name": "Someone Else"})
    unknown = await client.post("/v1/links", json={"email": "nobody@example.org"})
    known = await client.post("/v1/links", json={"email": "ada@example.org"})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert unknown.status_code == known.status_code == 202 and unknown.json() == known.json()
    async with app.state.sessions() as session:
        members = (await session.scalars(select(Member))).all()
    assert len(members) == 1 and members[0].name == "Ada Lovelace"
    assert len(await events_of(app, "member.joined.v1")) == 1


async def test_field_errors_name_each_field(client) -> None:
    r = await client.post(
        "/v1/join",
        json={**JOIN, "email": "not-an-email", "postcode": "XX1", "practice_code": "P99999", "phone": "12"},
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"email", "postcode", "practice_code", "phone"} <= fields
    r = await client.post("/v1/join", json={**JOIN, "consent_to_contact": False})
    assert r.status_code == 422


async def test_preferences_by_signed_link_and_expired_links(client, app, settings_overrides) -> None:
    member_id, token = await join_and_confirm(client, app)
    r = await client.get("/v1/me", params={"token": token})
    assert r.status_code == 200 and r.json()["member_id"] == member_id and r.json()["email"] == "ada@example.org"
    r = await client.patch(
        "/v1/me", params={"token": token}, json={"interests": ["dermatology"], "frequency": "weekly", "name": "Ada L"}
    )
    assert r.status_code == 200 and r.json()["frequency"] == "weekly" and r.json()["interests"] == ["dermatology"]
    changed = await events_of(app, "member.preferences_changed.v1")
    assert changed[-1]["data"]["frequency"] == "weekly"
    assert (await last_card(app))["name"] == "Ada L"
    forged = token.replace(token[5], "Z" if token[5] != "Z" else "Y", 1)
    bad = await client.get("/v1/me", params={"token": forged})
    assert bad.status_code == 403 and bad.json()["reason"] == "invalid"
    # The page the link opens refuses it alike, as a page saying so with a way to a fresh link.
    page = await client.get("/preferences", params={"token": forged})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "This link does not work" in page.text and 'action="/link"' in page.text
    # A link for another purpose is refused, even though it is correctly signed.
    confirm_token = token_of(app.state.links.url(__import__("membership.links").links.Purpose.CONFIRM, m=member_id))
    assert (await client.get("/v1/me", params={"token": confirm_token})).status_code == 403


async def test_expired_link_is_refused(client, app) -> None:
    from datetime import timedelta

    from membership.links import Links, Purpose

    member_id, _token = await join_and_confirm(client, app)
    expired_links = Links(app.state.links.signed, {p: timedelta(seconds=-1) for p in Purpose})
    token = expired_links.token(Purpose.PREFERENCES, m=member_id)
    app.state.links, saved = expired_links, app.state.links
    try:
        r = await client.get("/v1/me", params={"token": token})
    finally:
        app.state.links = saved
    assert r.status_code == 410 and r.json()["reason"] == "expired"


async def test_leave_stops_contact_and_keeps_only_anonymous_statistics(client, app) -> None:
    member_id, token = await join_and_confirm(client, app)
    r = await client.post("/v1/me/leave", params={"token": token})
    assert r.status_code == 200
    async with app.state.sessions() as session:
        member = await session.get(Member, __import__("uuid").UUID(member_id))
        assert member is not None and member.status == "left"
        assert (member.email, member.name, member.phone, member.postcode) == (None, None, None, None)
        assert member.age_band == "16_24"
    contacts = await outbox(app, MEMBERSHIP_CONTACTS.name)
    assert contacts == [{"tombstone": True, "key": member_id}]
    assert len(await events_of(app, "member.left.v1")) == 1


async def test_erase_removes_the_person_from_the_store(client, app) -> None:
    member_id, token = await join_and_confirm(client, app)
    r = await client.post("/v1/me/erase", params={"token": token})
    assert r.status_code == 200
    erased = await events_of(app, "member.erased.v1")
    assert [e["data"]["member_id"] for e in erased] == [member_id]
    assert await outbox(app, MEMBERSHIP_CONTACTS.name) == [{"tombstone": True, "key": member_id}]
    async with app.state.sessions() as session:
        assert await session.get(Member, __import__("uuid").UUID(member_id)) is None
        dump = []
        for table in ("member", "hear_back_contact", "group_membership", "invitation", "outbox", "used_link"):
            dump += [str(r) for r in (await session.execute(text(f"SELECT * FROM {table}"))).all()]
    everything = "\n".join(dump)
    for secret in ("Ada", "ada@example.org", "+447700900982", "LS1 4AP"):
        assert secret not in everything
    assert (await client.get("/v1/me", params={"token": token})).status_code == 403


async def test_hear_back_issues_a_token_that_counts_once_confirmed(client, app) -> None:
    r = await client.post("/v1/hear-back", json={"email": "grace@example.org"})
    assert r.status_code == 202
    contact_token = r.json()["contact_token"]
    card = await last_card(app, "grace@example.org")
    assert card["contact_token"] == contact_token and card["contactable"] is False
    r = await client.post("/v1/hear-back/confirm", json={"token": token_of(card["message"]["links"]["confirm"])})
    assert r.status_code == 200 and r.json() == {"contact_token": contact_token, "confirmed": True}
    assert (await last_card(app, "grace@example.org"))["contactable"] is True
    async with app.state.sessions() as session:
        assert (await session.scalars(select(Member))).all() == []


async def test_public_forms_are_rate_limited(client, app) -> None:
    from hub_shared.ratelimit import RateLimit

    app.state.public_rate_limit = RateLimit("3/minute")
    codes = [(await client.post("/v1/links", json={"email": f"x{i}@example.org"})).status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]


async def test_public_pages_are_rate_limited_too(client, app) -> None:
    from hub_shared.ratelimit import RateLimit

    app.state.public_rate_limit = RateLimit("2/minute")
    codes = [(await client.post("/link", data={"email": f"y{i}@example.org"})).status_code for i in range(3)]
    assert codes == [303, 303, 429]
    limited = await client.post("/join", data={"email": "z@example.org"})
    assert limited.status_code == 429 and "Too many attempts" in limited.text and limited.headers["retry-after"]


async def test_oversized_bodies_get_413(client) -> None:
    r = await client.post(
        "/v1/join", content=b"{" + b" " * (70 * 1024) + b"}", headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


async def test_asyncapi_documents_every_published_event_and_the_consumed_one(client) -> None:
    document = (await client.get("/asyncapi.json")).json()
    channels = set(document["channels"])
    for event_type in (
        "member.joined.v1",
        "member.confirmed.v1",
        "member.preferences_changed.v1",
        "member.left.v1",
        "member.erased.v1",
        "member.group_membership_changed.v1",
        "opportunity.published.v1",
        "invitation.issued.v1",
        "invitation.answered.v1",
        "attendance.recorded.v1",
        "member.update_due.v1",
        "member.contact.v2",
        "membership.updates",
    ):
        assert event_type in channels


async def test_a_hear_back_address_can_be_forgotten_by_its_link(client, app) -> None:
    from membership.links import Purpose

    token = (await client.post("/v1/hear-back", json={"email": "stop@example.org"})).json()["contact_token"]
    stop = token_of(app.state.links.url(Purpose.HEAR_BACK_STOP, t=token))
    assert (await client.post("/v1/hear-back/stop", json={"token": stop})).json() == {"status": "stopped"}
    assert await outbox(app, MEMBERSHIP_CONTACTS.name) == [{"tombstone": True, "key": token}]
    async with app.state.sessions() as session:
        rows = (await session.execute(text("SELECT * FROM hear_back_contact"))).all()
    assert rows == []
    assert (
        await client.post("/v1/hear-back/stop", json={"token": stop[:-2] + ("yy" if stop.endswith("xx") else "xx")})
    ).status_code == 403


async def test_a_new_email_address_counts_only_once_confirmed_from_it(client, app) -> None:
    member_id, token = await join_and_confirm(client, app)
    r = await client.patch("/v1/me", params={"token": token}, json={"email": "ada.new@example.org"})
    assert r.status_code == 200 and r.json()["email"] == "ada@example.org"  # not yet
    card = await last_card(app, "ada@example.org")
    assert card["message"]["kind"] == "confirm_new_email" and card["message"]["to"] == "ada.new@example.org"
    confirm = token_of(card["message"]["links"]["confirm"])
    r = await client.post("/v1/email/confirm", json={"token": confirm})
    assert r.status_code == 200 and r.json() == {"member_id": member_id, "email": "ada.new@example.org"}
    assert (await last_card(app))["email"] == "ada.new@example.org"
    assert (await client.post("/v1/email/confirm", json={"token": confirm})).status_code == 410
    # Joining again with the old address now makes a new, separate pending member.
    await client.post("/v1/join", json=JOIN)
    async with app.state.sessions() as session:
        assert len((await session.scalars(select(Member))).all()) == 2
