"""Groups and their authority, PPG list imports, opportunities with targeting, replies
with capacity and a waiting list, attendance, and closing the loop, on PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

from hub_shared.events import FeedbackRespondedV1, ResponseStatus, new_envelope
from hub_shared.topics import MEMBERSHIP_CONTACTS
from membership.handlers.hear_back import on_feedback_responded

from .conftest import auth, events_of, join_and_confirm, last_card, outbox, token_of


async def make_group(client, keys, org: str, **body) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/v1/groups", json={"organisation_code": org, **body}, headers=auth(keys, org))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_practices_manage_their_ppg_and_places_their_groups(client, app, keys) -> None:
    ppg = await make_group(client, keys, "P81001", kind="ppg", name="Church Street PPG")
    r = await client.post(
        "/v1/groups", json={"organisation_code": "P81001", "kind": "ppg", "name": "x"}, headers=auth(keys, "P81002")
    )
    assert r.status_code == 403
    r = await client.post(
        "/v1/groups",
        json={"organisation_code": "01A", "kind": "coproduction", "name": "MSK"},
        headers=auth(keys, "01A"),
    )
    assert r.status_code == 422 and "service_area" in r.text
    msk = await make_group(
        client, keys, "01A", kind="coproduction", name="MSK co-production", service_area="musculoskeletal"
    )
    member_id, _ = await join_and_confirm(client, app, group_ids=[ppg["id"], msk["id"]])
    r = await client.post(
        f"/v1/groups/{ppg['id']}/members", json={"member_id": member_id, "role": "chair"}, headers=auth(keys, "P81001")
    )
    assert r.status_code == 201 and r.json()["role"] == "chair"
    listed = (await client.get(f"/v1/groups/{ppg['id']}/members", headers=auth(keys, "01A"))).json()
    assert [(m["member_id"], m["role"]) for m in listed] == [(member_id, "chair")]
    # Another place sees neither the group nor the member; nobody sees contact details.
    assert (await client.get(f"/v1/groups/{ppg['id']}/members", headers=auth(keys, "02B"))).status_code == 404
    members = (await client.get("/v1/members", headers=auth(keys, "01A"))).json()
    assert [m["id"] for m in members] == [member_id]
    assert "email" not in members[0] and "name" not in members[0] and "phone" not in members[0]
    assert (await client.get("/v1/members", headers=auth(keys, "02B"))).json() == []
    # The one authorisation answer: a practice of another place is 403, no practice at all 422.
    mine = await client.get("/v1/members", params={"practice_code": "p81001"}, headers=auth(keys, "01A"))
    assert [m["id"] for m in mine.json()] == [member_id]
    theirs = await client.get("/v1/members", params={"practice_code": "P81001"}, headers=auth(keys, "02B"))
    assert theirs.status_code == 403 and theirs.json()["errors"][0]["type"] == "forbidden"
    unknown = await client.get("/v1/members", params={"practice_code": "ZZZ999"}, headers=auth(keys, "01A"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "practice_code"
    changes = await events_of(app, "member.group_membership_changed.v1")
    assert [c["data"]["role"] for c in changes] == ["member", "member", "chair"]
    left = await client.patch(
        f"/v1/groups/{msk['id']}/members/{member_id}", json={"left_on": "2026-11-30"}, headers=auth(keys, "01A")
    )
    assert left.status_code == 200 and left.json()["left_on"] == "2026-11-30"


async def test_ppg_csv_import_gives_a_result_per_row_and_a_welcome_each(client, app, keys) -> None:
    ppg = await make_group(client, keys, "P81002", kind="ppg", name="High Street PPG")
    csv = (
        "name,email,phone,postcode,practice_code,consent_basis,role\n"
        "Mary Seacole,mary@example.org,,SW1A 1AA,P81002,paper form 2024,chair\n"
        "No Email,,,SW1A 1AA,P81002,paper form 2024,\n"
        "Elsewhere Person,else@example.org,,SW1A 1AA,P81001,paper form,\n"
        "No Basis,nobasis@example.org,,SW1A 1AA,P81002,,\n"
    )
    r = await client.post(
        f"/v1/groups/{ppg['id']}/import", content=csv, headers={**auth(keys, "P81002"), "content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["imported"], result["rejected"]) == (1, 3)
    assert [row["status"] for row in result["rows"]] == ["imported", "rejected", "rejected", "rejected"]
    assert result["rows"][1]["errors"][0]["field"] == "email"
    assert result["rows"][2]["errors"][0]["field"] == "practice_code"
    assert result["rows"][3]["errors"][0]["field"] == "consent_basis"
    card = await last_card(app, "mary@example.org")
    assert card["message"]["kind"] == "welcome_imported" and "confirm" in card["message"]["links"]
    joined = await events_of(app, "member.joined.v1")
    assert [e["data"]["consent_source"] for e in joined] == ["csv_import"]
    listed = (await client.get(f"/v1/groups/{ppg['id']}/members", headers=auth(keys, "P81002"))).json()
    assert [m["role"] for m in listed] == ["chair"]


def opportunity(**overrides) -> dict:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    return {
        "organisation_code": "01A",
        "kind": "workshop",
        "title": "Redesigning MSK physiotherapy",
        "description": "Help us shape the new service.",
        "starts_at": (now + timedelta(days=14)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
        "location": "Northvale Community Centre",
        "capacity": 1,
        "targeting": {"interests": ["musculoskeletal"], "age_bands": ["16_24"]},
        **overrides,
    }


async def test_invited_once_then_capacity_waiting_list_and_attendance(client, app, keys) -> None:
    a, _ = await join_and_confirm(client, app, email="a@example.org", interests=["musculoskeletal"])
    b, _ = await join_and_confirm(client, app, email="b@example.org", interests=["dermatology"])
    c, _ = await join_and_confirm(client, app, email="c@example.org", interests=[], demographics={"age_band": "65_74"})
    pending = await client.post(
        "/v1/join",
        json={
            "email": "p@example.org",
            "name": "P",
            "postcode": "LS1 4AP",
            "practice_code": "P81001",
            "interests": ["musculoskeletal"],
            "consent_to_contact": True,
        },
    )
    assert pending.status_code == 202
    elsewhere, _ = await join_and_confirm(client, app, email="e@example.org", practice_code="P82001")
    r = await client.post("/v1/opportunities", json=opportunity(), headers=auth(keys, "01A"))
    assert r.status_code == 201, r.text
    opp = r.json()
    # a matches both targets (interest and age) but is invited once; b matches the age band
    # only; c matches nothing; the pending member and another place's member are not invited.
    assert opp["invited"] == 2
    issued = await events_of(app, "invitation.issued.v1")
    assert sorted(e["data"]["member_id"] for e in issued) == sorted([a, b])
    assert c not in {e["data"]["member_id"] for e in issued} and elsewhere not in str(issued)
    published = await events_of(app, "opportunity.published.v1")
    assert published[0]["data"]["invited"] == 2

    reply_a = token_of((await last_card(app, "a@example.org"))["message"]["links"]["reply"])
    reply_b = token_of((await last_card(app, "b@example.org"))["message"]["links"]["reply"])
    r = await client.post("/v1/invitations/reply", json={"token": reply_a, "answer": "yes"})
    assert r.json()["place"] == "booked"
    r = await client.post("/v1/invitations/reply", json={"token": reply_b, "answer": "yes"})
    assert r.json()["place"] == "waiting_list"
    r = await client.post("/v1/invitations/reply", json={"token": reply_a, "answer": "no"})
    assert r.json()["place"] is None
    offered = await last_card(app, "b@example.org")
    assert offered["message"]["kind"] == "place_offered"
    summary = (await client.get(f"/v1/opportunities/{opp['id']}", headers=auth(keys, "01A"))).json()
    assert (summary["booked"], summary["waiting_list"]) == (1, 0)
    answered = await events_of(app, "invitation.answered.v1")
    assert [(e["data"]["answer"], e["data"]["place"]) for e in answered] == [
        ("yes", "booked"),
        ("yes", "waiting_list"),
        ("no", None),
        ("yes", "booked"),
    ]
    r = await client.post(
        f"/v1/opportunities/{opp['id']}/attendance", json={"member_ids": [b, c]}, headers=auth(keys, "01A")
    )
    assert r.status_code == 422  # c was never invited
    r = await client.post(
        f"/v1/opportunities/{opp['id']}/attendance", json={"member_ids": [b]}, headers=auth(keys, "01A")
    )
    assert r.json() == {"recorded": 1}
    attended = await events_of(app, "attendance.recorded.v1")
    assert attended[0]["data"]["member_id"] == b and attended[0]["data"]["bands"]["age_band"] == "16_24"
    assert (await client.post("/v1/opportunities", json=opportunity(), headers=auth(keys, "02B"))).status_code == 403


async def test_under_represented_ethnic_groups_are_targeted(client, app, keys) -> None:
    for i in range(3):
        await join_and_confirm(client, app, email=f"w{i}@example.org", demographics={"ethnic_group": "white_british"})
    few, _ = await join_and_confirm(
        client, app, email="few@example.org", demographics={"ethnic_group": "asian_pakistani"}
    )
    r = await client.post(
        "/v1/opportunities",
        json=opportunity(targeting={"under_represented_ethnic_groups": True}, capacity=None),
        headers=auth(keys, "01A"),
    )
    assert r.json()["invited"] == 1
    assert (await events_of(app, "invitation.issued.v1"))[0]["data"]["member_id"] == few


async def test_a_response_tells_contributors_and_interested_group_members_once_each(client, app, keys) -> None:
    ppg = await make_group(client, keys, "P81001", kind="ppg", name="Church Street PPG")
    contributor, _ = await join_and_confirm(
        client, app, email="k@example.org", group_ids=[ppg["id"]], interests=["dermatology"]
    )
    interested, _ = await join_and_confirm(
        client, app, email="i@example.org", group_ids=[ppg["id"]], interests=["dermatology"]
    )
    await join_and_confirm(client, app, email="u@example.org", group_ids=[ppg["id"]], interests=["maternity"])
    r = await client.post("/v1/hear-back", json={"email": "hb@example.org"})
    hb_token = r.json()["contact_token"]
    card = await last_card(app, "hb@example.org")
    await client.post("/v1/hear-back/confirm", json={"token": token_of(card["message"]["links"]["confirm"])})
    unconfirmed = (await client.post("/v1/hear-back", json={"email": "no@example.org"})).json()["contact_token"]

    event = FeedbackRespondedV1(
        response_id=uuid.uuid4(),
        organisation_code="P81001",
        you_said="Hard to book skin appointments",
        we_did="Added evening clinics",
        status=ResponseStatus.DONE,
        responded_at=datetime.now(UTC),
        notify_member_ids=[uuid.UUID(contributor)],
        notify_contact_tokens=[hb_token, unconfirmed],
        service_areas=["dermatology"],
    )
    envelope = new_envelope(
        event, source="feedback-intake", subject=str(event.response_id), tenant="P81001", correlation_id="c1"
    )
    async with app.state.sessions() as session, session.begin():
        await on_feedback_responded(session, envelope, app.state.links)
    due = await events_of(app, "member.update_due.v1")
    people = sorted((e["data"]["member_id"] or e["data"]["contact_token"], e["data"]["reason"]) for e in due)
    # The contributor is also an interested PPG member: still one event. The PPG member
    # interested in maternity hears nothing; nor does an unconfirmed hear-back address.
    assert people == sorted([(contributor, "contributor"), (interested, "group_interest"), (hb_token, "contributor")])
    cards = [c["data"] for c in await outbox(app, MEMBERSHIP_CONTACTS.name) if "data" in c]
    assert sum(1 for c in cards if (c["message"] or {}).get("kind") == "update_due") == 3


async def test_leaving_gives_a_booked_place_to_the_longest_waiting(client, app, keys) -> None:
    a, a_prefs = await join_and_confirm(client, app, email="a@example.org")
    b, _ = await join_and_confirm(client, app, email="b@example.org")
    opp = (await client.post("/v1/opportunities", json=opportunity(), headers=auth(keys, "01A"))).json()
    for email in ("a@example.org", "b@example.org"):
        token = token_of((await last_card(app, email))["message"]["links"]["reply"])
        await client.post("/v1/invitations/reply", json={"token": token, "answer": "yes"})
    assert (await client.post("/v1/me/leave", params={"token": a_prefs})).status_code == 200
    summary = (await client.get(f"/v1/opportunities/{opp['id']}", headers=auth(keys, "01A"))).json()
    assert (summary["booked"], summary["waiting_list"]) == (1, 0)
    assert (await last_card(app, "b@example.org"))["message"]["kind"] == "place_offered"
    answered = await events_of(app, "invitation.answered.v1")
    assert (answered[-1]["data"]["member_id"], answered[-1]["data"]["place"]) == (b, "booked")
    assert a != b
