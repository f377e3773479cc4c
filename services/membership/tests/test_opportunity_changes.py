"""Changing and cancelling an opportunity: checked as a new one is, capacity moving people
between booked and the waiting list, everyone who said yes emailed (a contact card with
the message), replies refused once cancelled, and nobody else's opportunity touched."""

from datetime import UTC, datetime, timedelta

from hub_shared.topics import MEMBERSHIP_CONTACTS

from .conftest import auth, events_of, join_and_confirm, last_card, outbox, token_of
from .test_groups_and_opportunities import opportunity


async def published_with_replies(client, app, keys, answers: dict[str, str], **overrides) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    """An opportunity of 01A with capacity 2 by default, and members replying in order:
    {email: answer}. Returns its id and {email: member id}."""
    members = {}
    for email in answers:
        members[email], _ = await join_and_confirm(client, app, email=email, interests=["musculoskeletal"])
    r = await client.post(
        "/v1/opportunities", json=opportunity(**{"capacity": 2, **overrides}), headers=auth(keys, "01A")
    )
    assert r.status_code == 201, r.text
    for email, answer in answers.items():
        reply = token_of((await last_card(app, email))["message"]["links"]["reply"])
        r = await client.post("/v1/invitations/reply", json={"token": reply, "answer": answer})
        assert r.status_code == 200, r.text
    return r.json()["opportunity_id"], members


async def messages(app, kind: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The latest message of this kind per address."""
    return {
        c["data"]["email"]: c["data"]["message"]
        for c in await outbox(app, MEMBERSHIP_CONTACTS.name)
        if "data" in c and c["data"].get("message") and c["data"]["message"]["kind"] == kind
    }


async def test_a_change_is_checked_as_a_new_one_and_emails_everyone_who_said_yes(client, app, keys) -> None:
    opp, _ = await published_with_replies(
        client,
        app,
        keys,
        {"a@example.org": "yes", "b@example.org": "yes", "c@example.org": "yes", "d@example.org": "no"},
    )
    # The same checks as publishing, with the same field errors.
    r = await client.patch(f"/v1/opportunities/{opp}", json={"title": ""}, headers=auth(keys, "01A"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "title"
    late = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    r = await client.patch(f"/v1/opportunities/{opp}", json={"closes_at": late}, headers=auth(keys, "01A"))
    assert r.status_code == 422 and "closes_at: replies must close before it starts" in r.text
    r = await client.patch(f"/v1/opportunities/{opp}", json={"location": None}, headers=auth(keys, "01A"))
    assert r.status_code == 422 and "location: say where it is" in r.text
    r = await client.patch(f"/v1/opportunities/{opp}", json={}, headers=auth(keys, "01A"))
    assert r.status_code == 422
    assert await events_of(app, "opportunity.changed.v1") == []

    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=21)
    r = await client.patch(
        f"/v1/opportunities/{opp}",
        json={"starts_at": starts.isoformat(), "location": "Northvale Library, Room 2"},
        headers=auth(keys, "01A"),
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["location"] == "Northvale Library, Room 2" and changed["version"] == 2
    assert datetime.fromisoformat(changed["starts_at"]) == starts
    assert changed["emailed"] == 3  # two booked, one waiting; not the one who said no
    event = (await events_of(app, "opportunity.changed.v1"))[0]
    assert event["subject"] == opp and event["data"]["changed"] == ["starts_at", "location"]
    assert event["data"]["version"] == 2 and event["data"]["location"] == "Northvale Library, Room 2"
    told = await messages(app, "opportunity_changed")
    assert sorted(told) == ["a@example.org", "b@example.org", "c@example.org"]
    assert told["a@example.org"]["reference"] == opp and told["a@example.org"]["links"]["place"] == "booked"
    assert told["c@example.org"]["links"]["place"] == "waiting_list"
    assert told["a@example.org"]["links"]["version"] == "2"
    # Their own reply link, which still works.
    reply = token_of(told["c@example.org"]["links"]["reply"])
    r = await client.post("/v1/invitations/reply", json={"token": reply, "answer": "maybe"})
    assert r.status_code == 200 and r.json()["place"] is None

    # Asking for what is already so is a no-op: no event, no email.
    r = await client.patch(
        f"/v1/opportunities/{opp}", json={"location": "Northvale Library, Room 2"}, headers=auth(keys, "01A")
    )
    assert r.status_code == 200 and r.json()["emailed"] == 0 and r.json()["version"] == 2
    assert len(await events_of(app, "opportunity.changed.v1")) == 1


async def test_capacity_shrinks_to_the_waiting_list_and_grows_from_it(client, app, keys) -> None:
    opp, members = await published_with_replies(
        client,
        app,
        keys,
        {"a@example.org": "yes", "b@example.org": "yes", "c@example.org": "yes"},
        capacity=2,
    )
    a, b, c = members["a@example.org"], members["b@example.org"], members["c@example.org"]
    r = await client.patch(f"/v1/opportunities/{opp}", json={"capacity": 1}, headers=auth(keys, "01A"))
    assert r.status_code == 200, r.text
    assert (r.json()["booked"], r.json()["waiting_list"], r.json()["emailed"]) == (1, 2, 0)
    listed = (await client.get(f"/v1/opportunities/{opp}/invitations", headers=auth(keys, "01A"))).json()
    # The latest booked goes back, at the head of the waiting list (b replied before c).
    assert [(i["member_id"], i["place"]) for i in listed] == [(a, "booked"), (b, "waiting_list"), (c, "waiting_list")]
    moved = (await events_of(app, "invitation.answered.v1"))[-1]["data"]
    assert (moved["member_id"], moved["place"]) == (b, "waiting_list")

    r = await client.patch(f"/v1/opportunities/{opp}", json={"capacity": None}, headers=auth(keys, "01A"))
    assert (r.json()["booked"], r.json()["waiting_list"], r.json()["capacity"]) == (3, 0, None)
    offered = await messages(app, "place_offered")
    assert sorted(offered) == ["b@example.org", "c@example.org"]


async def test_cancel_emails_those_who_said_yes_and_replies_are_refused(client, app, keys) -> None:
    opp, _ = await published_with_replies(
        client,
        app,
        keys,
        {"a@example.org": "yes", "b@example.org": "yes", "c@example.org": "yes", "d@example.org": "maybe"},
    )
    r = await client.post(f"/v1/opportunities/{opp}/cancel", json={"reason": "  "}, headers=auth(keys, "01A"))
    assert r.status_code == 422 and "reason" in r.text
    reason = "The venue has flooded; we will arrange another date."
    r = await client.post(f"/v1/opportunities/{opp}/cancel", json={"reason": reason}, headers=auth(keys, "01A"))
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["emailed"]) == ("cancelled", reason, 3)
    event = (await events_of(app, "opportunity.cancelled.v1"))[0]["data"]
    assert (event["opportunity_id"], event["reason"], event["version"]) == (opp, reason, 2)
    told = await messages(app, "opportunity_cancelled")
    assert sorted(told) == ["a@example.org", "b@example.org", "c@example.org"]

    # Again: nothing changes, nobody is emailed, the first reason stands.
    r = await client.post(f"/v1/opportunities/{opp}/cancel", json={"reason": "other"}, headers=auth(keys, "01A"))
    assert r.status_code == 200 and r.json()["emailed"] == 0 and r.json()["cancel_reason"] == reason
    assert len(await events_of(app, "opportunity.cancelled.v1")) == 1

    # No more replies, by the API or the page; no change, no attendance.
    reply = token_of((await last_card(app, "d@example.org"))["message"]["links"]["reply"])
    r = await client.post("/v1/invitations/reply", json={"token": reply, "answer": "yes"})
    assert r.status_code == 410 and r.json()["reason"] == "cancelled" and reason in r.json()["detail"]
    page = await client.get("/reply", params={"token": reply})
    assert page.status_code == 200 and "This has been cancelled" in page.text and reason in page.text
    assert 'name="answer"' not in page.text
    r = await client.patch(f"/v1/opportunities/{opp}", json={"title": "New"}, headers=auth(keys, "01A"))
    assert r.status_code == 409
    member = (await client.get(f"/v1/opportunities/{opp}/invitations", headers=auth(keys, "01A"))).json()[0]
    r = await client.post(
        f"/v1/opportunities/{opp}/attendance", json={"member_ids": [member["member_id"]]}, headers=auth(keys, "01A")
    )
    assert r.status_code == 409


async def test_another_organisation_can_neither_change_nor_cancel(client, app, keys) -> None:
    opp, _ = await published_with_replies(client, app, keys, {"a@example.org": "yes"})
    # Another place does not see it; a practice under the place sees it but may not act for it.
    r = await client.patch(f"/v1/opportunities/{opp}", json={"title": "Mine now"}, headers=auth(keys, "02B"))
    assert r.status_code == 404
    r = await client.post(f"/v1/opportunities/{opp}/cancel", json={"reason": "no"}, headers=auth(keys, "02B"))
    assert r.status_code == 404
    r = await client.post(f"/v1/opportunities/{opp}/cancel", json={"reason": "no"}, headers=auth(keys, "P81001"))
    assert r.status_code in (403, 404)
    read_only = auth(keys, "01A", ("members:read",))
    r = await client.post(f"/v1/opportunities/{opp}/cancel", json={"reason": "no"}, headers=read_only)
    assert r.status_code == 403
    summary = (await client.get(f"/v1/opportunities/{opp}", headers=auth(keys, "01A"))).json()
    assert (summary["title"], summary["status"], summary["version"]) == ("Redesigning MSK physiotherapy", "open", 1)
    assert (
        await events_of(app, "opportunity.changed.v1") == [] and await events_of(app, "opportunity.cancelled.v1") == []
    )
