"""An opportunity changed, then cancelled, end to end: the services, the real broker and
PostgreSQL, and a real SMTP server. The member who booked reads the new time in the
"changed" email, then the reason in the "cancelled" one; their reminder moves with the
time and is withheld once it is cancelled; their reply link no longer takes replies."""

import time
from datetime import UTC, datetime, timedelta

from hub_shared.testing import eventually
from notification.rules.render import london

from .conftest import Hub
from .test_notification import ledger, link, mail, parts, token_of


async def test_a_booked_member_is_emailed_the_change_then_the_cancellation(hub: Hub) -> None:
    assert hub.smtp is not None
    stamp = int(time.time() * 1000)
    address, name = f"tegan.{stamp}@example.org", f"Tegan Price{stamp}"
    r = await hub.membership.post(
        "/v1/join",
        json={
            "name": name,
            "email": address,
            "postcode": "LS1 4AP",
            "practice_code": "P81001",
            "interests": ["maternity"],
            "consent_to_contact": True,
        },
    )
    assert r.status_code == 202, r.text
    confirm = await mail(hub, address, "Confirm your email address")
    r = await hub.membership.post("/v1/confirm", json={"token": token_of(link(parts(confirm)[0], "/confirm"))})
    assert r.status_code == 200, r.text
    member_id = r.json()["member_id"]

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    title = f"Maternity voices {stamp}"
    r = await hub.membership.post(
        "/v1/opportunities",
        headers=hub.token("01A"),
        json={
            "organisation_code": "01A",
            "kind": "workshop",
            "title": title,
            "description": "Tell us about your maternity care.",
            "starts_at": (now + timedelta(days=10)).isoformat(),
            "closes_at": (now + timedelta(days=5)).isoformat(),
            "location": "Northvale Community Centre",
            "capacity": 5,
            "targeting": {"interests": ["maternity"]},
        },
    )
    assert r.status_code == 201, r.text
    opportunity_id = r.json()["id"]
    invitation = await mail(hub, address, f"You are invited: {title}")
    reply = link(parts(invitation)[0], "/reply")
    r = await hub.membership.post("/v1/invitations/reply", json={"token": token_of(reply), "answer": "yes"})
    assert r.status_code == 200 and r.json()["place"] == "booked", r.text
    await mail(hub, address, "We have your reply")

    # Changed: a new time and a new venue. The email shows them as the other emails write dates.
    new_start = now + timedelta(days=12, hours=3)
    r = await hub.membership.patch(
        f"/v1/opportunities/{opportunity_id}",
        headers=hub.token("01A"),
        json={"starts_at": new_start.isoformat(), "location": "Northvale Library, Room 2"},
    )
    assert r.status_code == 200 and r.json()["emailed"] >= 1, r.text
    changed = await mail(hub, address, f"Changed: {title}")
    assert changed["Subject"] == f"Changed: {title}, now {london(new_start)}"
    text, html = parts(changed)
    for part in (text, html):
        assert f"Dear {name}," in part and london(new_start) in part and "Northvale Library, Room 2" in part
        assert "the date and time and where it is" in part and "You still have a place." in part
    assert link(text, "/reply") and changed["List-Unsubscribe"] is None  # about their place: no unsubscribe

    async def reminder_moved() -> bool:
        rows = [r for r in await ledger(hub, "01A", kind="reminder") if r["member_id"] == member_id]
        return bool(rows) and all(datetime.fromisoformat(r["due_at"]) > now + timedelta(days=11) for r in rows)

    await eventually(reminder_moved, what="the reminder to move with the start time")

    # Cancelled: the reason reaches them; the reminder is withheld; the link takes no reply.
    reason = f"The venue has flooded; we will invite you again when we have a new date ({stamp})."
    r = await hub.membership.post(
        f"/v1/opportunities/{opportunity_id}/cancel", headers=hub.token("01A"), json={"reason": reason}
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    cancelled = await mail(hub, address, f"Cancelled: {title}")
    text, html = parts(cancelled)
    for part in (text, html):
        assert reason in part and london(new_start) in part and "your place is cancelled" in part

    async def reminder_withheld() -> bool:
        rows = [r for r in await ledger(hub, "01A", kind="reminder") if r["member_id"] == member_id]
        return bool(rows) and all(r["status"] == "withheld" for r in rows)

    await eventually(reminder_withheld, what="the reminder to be withheld")
    r = await hub.membership.post("/v1/invitations/reply", json={"token": token_of(reply), "answer": "no"})
    assert r.status_code == 410 and r.json()["reason"] == "cancelled"
    subjects = [str(m["Subject"]) for m in hub.smtp.to(address)]
    assert [s.split(":")[0] for s in subjects] == [
        "Confirm your email address",
        "You are invited",
        "We have your reply",
        "Changed",
        "Cancelled",
    ], subjects
