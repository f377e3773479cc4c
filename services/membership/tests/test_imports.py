"""PPG list imports: a row never adds, changes or reveals a member (another place's least of
all); one address listed many times is one welcome; a row that cannot be read is named, not
a server error."""

import uuid

from sqlalchemy import select

from hub_shared.topics import MEMBERSHIP_CONTACTS
from membership.models import GroupMembership, Member

from .conftest import auth, join_and_confirm, outbox, token_of
from .test_groups_and_opportunities import make_group

HEADER = "name,email,phone,postcode,practice_code,consent_basis,role\n"


async def import_csv(client, keys, org: str, group_id: str, csv: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(
        f"/v1/groups/{group_id}/import", content=csv, headers={**auth(keys, org), "content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def welcomes(cards: list[dict], email: str) -> list[dict]:  # type: ignore[type-arg]
    return [
        c["data"]
        for c in cards
        if "data" in c
        and c["data"]["email"] == email
        and (c["data"]["message"] or {}).get("kind") == "welcome_imported"
    ]


async def test_importing_another_places_member_neither_touches_nor_reveals_them(client, app, keys) -> None:
    # A member of Northvale (01A), in their practice's PPG.
    home_ppg = await make_group(client, keys, "P81001", kind="ppg", name="Church Street PPG")
    victim, _ = await join_and_confirm(client, app, email="victim@example.org", group_ids=[home_ppg["id"]])
    async with app.state.sessions() as session:
        before = (await session.get(Member, uuid.UUID(victim))).__dict__.copy()  # type: ignore[union-attr]
    events_before = len(await outbox(app))
    # Riverside (02B) lists the victim's address, and an address nobody uses, in its group.
    theirs = await make_group(
        client, keys, "02B", kind="coproduction", name="Riverside MSK", service_area="musculoskeletal"
    )
    report = await import_csv(
        client,
        keys,
        "02B",
        theirs["id"],
        HEADER
        + "Victim Probe,VICTIM@example.org,,SW1A 1AA,P82001,paper form,chair\n"
        + "Nobody Known,nobody@example.org,,SW1A 1AA,P82001,paper form,chair\n",
    )
    # Nothing about the victim changed or can be seen by Riverside.
    async with app.state.sessions() as session:
        after = await session.get(Member, uuid.UUID(victim), populate_existing=True)
        held = (await session.scalars(select(GroupMembership).where(GroupMembership.member_id == after.id))).all()  # type: ignore[union-attr]
    assert {k: v for k, v in after.__dict__.items() if k != "_sa_instance_state"} == {  # type: ignore[union-attr]
        k: v for k, v in before.items() if k != "_sa_instance_state"
    }
    assert [str(h.group_id) for h in held] == [home_ppg["id"]]
    listed = await client.get(f"/v1/groups/{theirs['id']}/members", headers=auth(keys, "02B"))
    assert listed.status_code == 200 and listed.json() == []
    assert (await client.get("/v1/members", headers=auth(keys, "02B"))).json() == []
    # The report says the same of both rows.
    first, second = report["rows"]
    assert {**first, "line": 0} == {**second, "line": 0}
    assert (report["imported"], report["rejected"], report["duplicates"]) == (2, 0, 0)
    # No event names the victim; the welcome goes to the address, keyed by a token, not by who owns it.
    new_events = (await outbox(app))[events_before:]
    assert all(e.get("subject") != victim for e in new_events)
    cards = await outbox(app, MEMBERSHIP_CONTACTS.name)
    [welcome] = welcomes(cards, "victim@example.org")
    assert welcome["member_id"] is None and welcome["contact_token"]
    # The owner of the address may accept: they are who they are, registered elsewhere, so not added.
    r = await client.post("/v1/welcome", json={"token": token_of(welcome["message"]["links"]["confirm"])})
    assert r.status_code == 200 and r.json()["member_id"] == victim and r.json()["joined"] is False
    assert (await client.get(f"/v1/groups/{theirs['id']}/members", headers=auth(keys, "02B"))).json() == []


async def test_an_address_listed_many_times_is_one_welcome_and_the_rest_are_duplicates(client, app, keys) -> None:
    ppg = await make_group(client, keys, "P81001", kind="ppg", name="Church Street PPG")
    rows = "".join(
        f"Many Times,{'Many' if i % 2 else 'many'}@Example.org,,LS1 4AP,P81001,paper form,member\n" for i in range(300)
    )
    report = await import_csv(client, keys, "P81001", ppg["id"], HEADER + rows)
    assert (report["imported"], report["duplicates"], report["rejected"]) == (1, 299, 0)
    assert report["rows"][0] == {"line": 2, "status": "imported", "errors": []}
    assert {r["status"] for r in report["rows"][1:]} == {"duplicate"}
    assert report["rows"][-1]["errors"] == [
        {"field": "email", "message": "the same address as line 2", "type": "duplicate"}
    ]
    assert len(welcomes(await outbox(app, MEMBERSHIP_CONTACTS.name), "many@example.org")) == 1


async def test_rows_that_cannot_be_read_are_rejected_by_line(client, app, keys) -> None:
    ppg = await make_group(client, keys, "P81001", kind="ppg", name="Church Street PPG")
    huge = "x" * 131_073
    csv = (
        HEADER
        + "Too Many,many@example.org,,LS1 4AP,P81001,paper form,member,extra,fields\n"
        + f'Huge Field,huge@example.org,,LS1 4AP,P81001,"{huge}",member\n'
        + "Fine Person,fine@example.org,,LS1 4AP,P81001,paper form,member\n"
    )
    report = await import_csv(client, keys, "P81001", ppg["id"], csv)
    assert [(r["line"], r["status"]) for r in report["rows"]] == [(2, "rejected"), (3, "rejected"), (4, "imported")]
    assert [(e["field"], e["type"]) for e in report["rows"][0]["errors"]] == [("row", "too_many_fields")]
    assert [(e["field"], e["type"]) for e in report["rows"][1]["errors"]] == [("row", "unreadable")]
    assert "9 fields but the header has 7" in report["rows"][0]["errors"][0]["message"]


async def test_the_welcome_is_accepted_from_its_page_once(client, app, keys) -> None:
    ppg = await make_group(client, keys, "P81001", kind="ppg", name="Church Street PPG")
    await import_csv(client, keys, "P81001", ppg["id"], HEADER + "Page Person,page@example.org,,LS1 4AP,P81001,form,\n")
    [welcome] = welcomes(await outbox(app, MEMBERSHIP_CONTACTS.name), "page@example.org")
    token = token_of(welcome["message"]["links"]["confirm"])
    landing = await client.get("/welcome", params={"token": token})
    assert landing.status_code == 200 and 'action="/welcome"' in landing.text
    assert (await client.get(f"/v1/groups/{ppg['id']}/members", headers=auth(keys, "P81001"))).json() == []
    accepted = await client.post("/welcome", data={"token": token})
    assert accepted.status_code == 200 and "You are now a member of Church Street PPG" in accepted.text
    listed = (await client.get(f"/v1/groups/{ppg['id']}/members", headers=auth(keys, "P81001"))).json()
    assert [(m["status"], m["role"]) for m in listed] == [("active", "member")]
    again = await client.post("/welcome", data={"token": token})
    assert again.status_code == 410 and "already been used" in again.text
