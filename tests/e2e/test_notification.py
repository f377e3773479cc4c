"""Emails end to end: the services, the real broker and PostgreSQL, and a real SMTP server.
Each email is read as it arrived (subject, both parts, headers, personalisation) and its
links are followed against the running services."""

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
from sqlalchemy import func, select

from hub_shared import kafka_admin
from hub_shared.migrations import sync_url
from hub_shared.testing import consumer_group, eventually
from hub_shared.topics import FEEDBACK_RESPONSES, MEMBERSHIP_CONTACTS
from membership.models import HearBackContact
from membership.models import OutboxMessage as MembershipOutbox
from reporting.models import NotificationFact

from .conftest import Hub


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


def parts(email: EmailMessage) -> tuple[str, str]:
    return email.get_body(("plain",)).get_content(), email.get_body(("html",)).get_content()  # type: ignore[union-attr]


def link(text: str, path: str) -> str:
    found = re.search(rf"https?://\S+{re.escape(path)}\?token=[^\s\"<]+", text)
    assert found, f"no {path} link in:\n{text}"
    return found.group(0)


async def mail(hub: Hub, to: str, subject_starts: str, count: int = 1, timeout: float = 60) -> EmailMessage:
    assert hub.smtp is not None
    got: list[EmailMessage] = []

    async def arrived() -> bool:
        got[:] = [m for m in hub.smtp.to(to) if str(m["Subject"]).startswith(subject_starts)]
        return len(got) >= count

    await eventually(arrived, timeout=timeout, what=f"{count} email(s) '{subject_starts}…' to {to}")
    return got[-1]


async def ledger(hub: Hub, org: str, **params: Any) -> list[dict[str, Any]]:
    assert hub.notification is not None
    r = await hub.notification.get("/v1/notifications", params=params, headers=hub.token(org))
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def respond(hub: Hub, org: str, submission_id: str, we_did: str) -> str:
    r = await hub.intake.post(
        "/v1/responses",
        headers=hub.token(org),
        json={
            "organisation_code": org,
            "submission_ids": [submission_id],
            "you_said": "The waiting room is too cold in the mornings.",
            "we_did": we_did,
            "status": "planned",
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_you_said_we_did_reaches_the_person_and_one_click_stops_everything(hub: Hub) -> None:
    assert hub.notification is not None and hub.smtp is not None
    address = f"hattie.{int(time.time() * 1000)}@example.org"
    r = await hub.membership.post("/v1/hear-back", json={"email": address})
    assert r.status_code == 202, r.text
    contact_token = r.json()["contact_token"]

    # The confirmation email arrives; its link confirms the address with membership.
    confirm = await mail(hub, address, "Confirm you want to hear back")
    text, html = parts(confirm)
    url = link(text, "/hear-back/confirm")
    assert url in html.replace("&amp;", "&") and confirm["List-Unsubscribe"] is None
    r = await hub.membership.post("/v1/hear-back/confirm", json={"token": token_of(url)})
    assert r.status_code == 200, r.text

    # They leave feedback asking to hear back; the practice publishes "you said, we did".
    said = await hub.post_feedback(
        "P81002", text="The waiting room is cold.", hear_back={"contact_token": contact_token}
    )
    assert said.status_code == 201, said.text
    response_id = await respond(hub, "P81002", said.json()["id"], "We have fixed the heating; it is on from 7am.")
    update = await mail(hub, address, "You said, we did")
    assert update["Subject"] == "You said, we did: High Street Health Centre"
    text, html = parts(update)
    assert "We have fixed the heating; it is on from 7am." in text and "We have fixed the heating" in html
    assert "The waiting room is too cold in the mornings." in text
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = update["List-Unsubscribe"].strip("<>")
    assert (unsubscribe in text and unsubscribe.replace("&", "&amp;") in html) or unsubscribe in html

    # The practice sees it delivered in its own ledger (once the worker has recorded the SMTP
    # server's answer, just after the server took the email); another place does not see it.
    async def delivered() -> bool:
        rows = await ledger(hub, "P81002", reference=response_id)
        return [(r["kind"], r["status"], r["recipient_kind"]) for r in rows] == [("update", "delivered", "hear_back")]

    await eventually(delivered, timeout=10, what="the update delivered in the practice's ledger")
    assert await ledger(hub, "02B", reference=response_id) == []

    # Reporting counts it from notification.events: an update that reached its contributor.
    async def counted() -> bool:
        async with hub.reporting_sessions() as session:
            fact = await session.scalar(select(NotificationFact).where(NotificationFact.reference == response_id))
            return fact is not None and fact.status == "delivered" and fact.kind == "update"

    await eventually(counted, what="reporting to count the update")
    r = await hub.reporting.get("/v1/reports/notifications/P81002", headers=hub.token("P81002"))
    assert r.status_code == 200 and r.json()["updates_by_response"] == [{"response_id": response_id, "reached": "*"}]

    # One click (the mail client's POST, RFC 8058) and nothing more arrives.
    r = await hub.notification.post(
        urlparse(unsubscribe).path + "?" + urlparse(unsubscribe).query,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text

    # Membership hears of it (notification.unsubscribed.v1) and forgets the address.
    async def forgotten() -> bool:
        async with hub.membership_sessions() as session:
            return await session.get(HearBackContact, contact_token) is None

    await eventually(forgotten, what="membership to forget the unsubscribed address")
    again = await hub.post_feedback("P81002", text="Still cold.", hear_back={"contact_token": contact_token})
    second = await respond(hub, "P81002", again.json()["id"], "We have added a second radiator.")

    async def second_response_handled() -> bool:
        # Membership has read the second response (finding nobody left to tell, or asking
        # for an email), its outbox is published, and notification has read all of it.
        bootstrap = hub.kafka.bootstrap_servers
        if await kafka_admin.group_lag(bootstrap, consumer_group("membership.updates"), FEEDBACK_RESPONSES.name):
            return False
        async with hub.membership_sessions() as session:
            if await session.scalar(select(func.count()).where(MembershipOutbox.published_at.is_(None))):
                return False
        return (
            await kafka_admin.group_lag(bootstrap, consumer_group("notification.deliveries"), MEMBERSHIP_CONTACTS.name)
            == 0
        )

    await eventually(second_response_handled, what="the second response to be handled")
    await asyncio.sleep(0.5)
    # Nothing was sent for it: either never queued, or withheld at send time.
    assert all(r["status"] == "withheld" for r in await ledger(hub, "P81002", reference=second))
    assert len(hub.smtp.to(address)) == 2  # the confirmation and the first update, nothing more


def dump(url: str, skip: tuple[str, ...] = ()) -> str:
    out = []
    with psycopg.connect(sync_url(url).replace("postgresql+psycopg", "postgresql")) as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        for (table,) in tables.fetchall():
            if table in skip:
                continue
            out += [repr(row) for row in conn.execute(f'SELECT * FROM "{table}"').fetchall()]  # type: ignore[call-overload]
    return "\n".join(out)


async def test_a_members_emails_and_their_links_then_erasure(hub: Hub) -> None:
    assert hub.notification is not None and hub.smtp is not None and hub.notification_settings is not None
    stamp = int(time.time() * 1000)
    address, name = f"morwenna.{stamp}@example.org", f"Morwenna Trelawny{stamp}"
    r = await hub.membership.post(
        "/v1/join",
        json={
            "name": name,
            "email": address,
            "postcode": "LS1 4AP",
            "practice_code": "P81001",
            "interests": ["ophthalmology"],
            "consent_to_contact": True,
        },
    )
    assert r.status_code == 202, r.text
    confirm = await mail(hub, address, "Confirm your email address")
    text, html = parts(confirm)
    assert f"Dear {name}," in text and f"Dear {name}," in html
    r = await hub.membership.post("/v1/confirm", json={"token": token_of(link(text, "/confirm"))})
    assert r.status_code == 200, r.text
    member_id = r.json()["member_id"]

    r = await hub.membership.post("/v1/links", json={"email": address})
    fresh = await mail(hub, address, "Your link to your preferences")
    preferences = link(parts(fresh)[0], "/preferences")
    r = await hub.membership.get("/v1/me", params={"token": token_of(preferences)})
    assert r.status_code == 200 and r.json()["member_id"] == member_id

    now = datetime.now(UTC)
    r = await hub.membership.post(
        "/v1/opportunities",
        headers=hub.token("01A"),
        json={
            "organisation_code": "01A",
            "kind": "workshop",
            "title": f"Eye clinic waiting times {stamp}",
            "description": "Help us shorten the wait.",
            "starts_at": (now + timedelta(days=10)).isoformat(),
            "closes_at": (now + timedelta(days=5)).isoformat(),
            "online": True,
            "capacity": 5,
            "targeting": {"interests": ["ophthalmology"]},
        },
    )
    assert r.status_code == 201, r.text
    invitation = await mail(hub, address, "You are invited")
    assert invitation["Subject"] == f"You are invited: Eye clinic waiting times {stamp}"
    text, html = parts(invitation)
    assert "Workshop" in text and "online" in text and "Northvale Place" in text
    assert invitation["List-Unsubscribe"] is not None and preferences.split("?")[0] in text
    r = await hub.membership.post(
        "/v1/invitations/reply", json={"token": token_of(link(text, "/reply")), "answer": "yes"}
    )
    assert r.status_code == 200, r.text
    thanks = await mail(hub, address, "We have your reply")
    assert "your place is booked" in parts(thanks)[0]
    rows = await ledger(hub, "01A", kind="reminder")
    assert any(r["status"] == "created" and r["member_id"] == member_id for r in rows)  # due the day before

    r = await hub.membership.post("/v1/me/erase", params={"token": token_of(preferences)})
    assert r.status_code == 200, r.text
    await mail(hub, address, "We have deleted your details")

    url = hub.notification_settings.database_url

    async def forgotten() -> bool:
        # Not the address or name anywhere; not even the member id outside the published
        # events (which, like every topic but the contacts one, carry ids only).
        return (
            address not in (store := dump(url))
            and name not in store
            and member_id not in dump(url, skip=("outbox", "inbox"))
        )

    try:
        await eventually(forgotten, what="the notification store to forget the member")
    except AssertionError:
        for line in dump(url).splitlines():
            if address in line or name in line or member_id in line:
                print("LEFT:", line[:400])
        raise
    await asyncio.sleep(0.5)
    subjects = [str(m["Subject"]) for m in hub.smtp.to(address)]
    assert len(subjects) == 5, subjects  # confirm, fresh link, invitation, reply, goodbye: no reminder after erasure
