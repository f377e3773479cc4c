"""A patient partner's journey through membership's API with every step's event checked on
the real broker, and erasure proven everywhere: every service's store and every topic."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from sqlalchemy import func, select

from hub_shared import kafka_admin
from hub_shared.events import MemberContactV2
from hub_shared.migrations import sync_url
from hub_shared.testing import eventually
from hub_shared.topics import MEMBERSHIP_CONTACTS, MEMBERSHIP_EVENTS
from hub_shared.topics import PREFIX as topics_prefix
from notification.models import Notification, Recipient

from .conftest import Hub, contact_keys

pytestmark = pytest.mark.long(seconds=18)


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


async def records(hub: Hub, topic: str) -> list[kafka_admin.DeadLetter]:
    return await kafka_admin.read_all(hub.kafka.bootstrap_servers, topic)


async def events(hub: Hub, event_type: str, member_id: str | None = None) -> list[dict[str, Any]]:
    found = []
    for r in await records(hub, MEMBERSHIP_EVENTS.name):
        event = json.loads(r.value)
        if event["type"] == event_type and (member_id is None or event["subject"] == member_id):
            found.append(event)
    return found


async def contact_cards(hub: Hub) -> list[tuple[bytes, dict[str, Any] | None]]:
    """Every contact card on the compacted topic, oldest first, with its key and its details
    as notification opens them (None: its person's key is gone, so nobody can read it)."""
    keys = contact_keys(hub.apps["membership"])
    opened: list[tuple[bytes, dict[str, Any] | None]] = []
    for r in await records(hub, MEMBERSHIP_CONTACTS.name):
        event = json.loads(r.value) if r.value else {}
        if event.get("type") == MemberContactV2.event_type:
            sealed = MemberContactV2.model_validate(event["data"])
            details = await keys.open(sealed)
            ids = sealed.model_dump(mode="json", include={"member_id", "contact_token"})
            opened.append((r.key or b"", {**ids, **details.model_dump(mode="json")} if details else None))
    return opened


async def card(hub: Hub, email: str, kind: str) -> dict[str, Any]:
    """The newest contact card on the compacted topic for this address carrying a message
    of this kind, opened as notification opens it: what notification emails."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        for _key, data in await contact_cards(hub):
            if data and data["email"] == email and (data.get("message") or {}).get("kind") == kind:
                found.append(data)
        return bool(found)

    await eventually(arrived, what=f"a {kind} card for {email} on {MEMBERSHIP_CONTACTS.name}")
    return found[-1]


async def on_broker(hub: Hub, event_type: str, member_id: str, count: int = 1) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    async def check() -> bool:
        got[:] = await events(hub, event_type, member_id)
        return len(got) >= count

    await eventually(check, what=f"{event_type} for {member_id}")
    return got


def dump_database(url: str) -> str:
    """Every row of every table of a service's database, as text."""
    out = []
    with psycopg.connect(sync_url(url).replace("postgresql+psycopg", "postgresql")) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        for (table,) in tables:
            out += [repr(row) for row in conn.execute(f'SELECT * FROM "{table}"').fetchall()]  # type: ignore[call-overload]
    return "\n".join(out)


PERSON = {
    "name": "Zebedee Quartermaine",
    "email": "zebedee.quartermaine@example.org",
    "phone": "07700 900123",
    "postcode": "LS6 2QT",
    "practice_code": "P81003",
    "interests": ["dermatology"],
    "demographics": {"age_band": "25_34", "sex": "male", "ethnic_group": "black_african", "carer": "yes"},
    "consent_to_contact": True,
}
TRACES = ("Zebedee", "Quartermaine", "zebedee.quartermaine@example.org", "07700 900123", "+447700900123", "7700900123")


async def test_journey_through_the_api_and_erasure_leaves_nothing(hub: Hub) -> None:
    m = hub.membership
    # Join; the confirmation link comes on the contacts topic; confirm it.
    assert (await m.post("/v1/join", json=PERSON)).status_code == 202
    confirm = await card(hub, PERSON["email"], "confirm_join")
    r = await m.post("/v1/confirm", json={"token": token_of(confirm["message"]["links"]["confirm"])})
    assert r.status_code == 200
    member_id = r.json()["member_id"]
    joined = await on_broker(hub, "member.joined.v1", member_id)
    assert joined[0]["data"]["bands"]["ethnic_group"] == "black_african"
    await on_broker(hub, "member.confirmed.v1", member_id)

    # Preferences by a fresh signed link.
    assert (await m.post("/v1/links", json={"email": PERSON["email"]})).status_code == 202
    prefs = token_of((await card(hub, PERSON["email"], "fresh_link"))["message"]["links"]["preferences"])
    r = await m.patch("/v1/me", params={"token": prefs}, json={"interests": ["dermatology", "musculoskeletal"]})
    assert r.status_code == 200
    await on_broker(hub, "member.preferences_changed.v1", member_id)

    # Invited, replies, attends.
    now = datetime.now(UTC)
    r = await m.post(
        "/v1/opportunities",
        headers=hub.token("01A"),
        json={
            "organisation_code": "01A",
            "kind": "coproduction_session",
            "title": "Skin clinic redesign",
            "description": "Patients and clinicians redesign the skin clinic together.",
            "starts_at": (now + timedelta(days=10)).isoformat(),
            "closes_at": (now + timedelta(days=5)).isoformat(),
            "online": True,
            "capacity": 10,
            "targeting": {"interests": ["dermatology"]},
        },
    )
    assert r.status_code == 201, r.text
    opportunity = r.json()
    issued = await on_broker(hub, "invitation.issued.v1", member_id)
    assert issued[0]["data"]["opportunity_id"] == opportunity["id"]
    invitation = await card(hub, PERSON["email"], "invitation")
    r = await m.post(
        "/v1/invitations/reply", json={"token": token_of(invitation["message"]["links"]["reply"]), "answer": "yes"}
    )
    assert r.json()["place"] == "booked"
    await on_broker(hub, "invitation.answered.v1", member_id)
    r = await m.post(
        f"/v1/opportunities/{opportunity['id']}/attendance", headers=hub.token("01A"), json={"member_ids": [member_id]}
    )
    assert r.json() == {"recorded": 1}
    attended = await on_broker(hub, "attendance.recorded.v1", member_id)
    assert attended[0]["data"]["bands"]["age_band"] == "25_34"

    # Hears back: feedback they left gets a published response.
    said = await hub.post_feedback(
        "P81003", service_area="dermatology", hear_back={"member_id": member_id}, text="Evening clinics please."
    )
    assert said.status_code == 201, said.text
    r = await hub.intake.post(
        "/v1/responses",
        headers=hub.token("01A"),
        json={
            "organisation_code": "P81003",
            "submission_ids": [said.json()["id"]],
            "you_said": "Evening skin clinics.",
            "we_did": "Two evening clinics a week from January.",
            "status": "planned",
        },
    )
    assert r.status_code == 201, r.text
    due = await on_broker(hub, "member.update_due.v1", member_id)
    assert due[0]["data"]["reason"] == "contributor"
    await card(hub, PERSON["email"], "update_due")

    # The search below finds the person while they are a member (so it can fail): in the
    # store, and in their cards, which open with their key.
    assert PERSON["email"] in dump_database(hub.membership_settings.database_url)
    assert any(d and d["email"] == PERSON["email"] for _k, d in await contact_cards(hub))

    # Erased: membership forgets, intake unlinks, the contacts topic gets a tombstone.
    assert (await m.post("/v1/me/erase", params={"token": prefs})).status_code == 200
    await on_broker(hub, "member.erased.v1", member_id)

    async def unlinked() -> bool:
        stored = await hub.intake.get(f"/v1/feedback/{said.json()['id']}", headers=hub.token("P81003"))
        return stored.json()["hears_back"] is False

    await eventually(unlinked, what="intake to unlink the erased member")

    async def tombstoned() -> bool:
        latest = {r.key: r.value for r in await records(hub, MEMBERSHIP_CONTACTS.name)}
        return latest.get(member_id.encode()) == b""

    await eventually(tombstoned, what="the tombstone to be the member's latest contact record")
    await notification_forgot(hub, member_id)
    for service, url in stores(hub).items():
        everything = dump_database(url).encode()
        for trace in traces_of(TRACES):
            assert trace not in everything, f"{trace!r} outlived erasure in {service}'s store"
    await search_topics(hub, TRACES, member_id)


async def notification_forgot(hub: Hub, *card_keys: str) -> None:
    """Notification's confirmation: no recipient of these keys, and no goodbye still holding
    its address (sent, and the address wiped)."""

    async def forgotten() -> bool:
        async with hub.notification_sessions() as session:
            people = await session.scalar(
                select(func.count()).select_from(Recipient).where(Recipient.key.in_(card_keys))
            )
            addresses = await session.scalar(
                select(func.count()).select_from(Notification).where(Notification.farewell_address.is_not(None))
            )
        return people == 0 and addresses == 0

    await eventually(forgotten, what="notification to forget them and their goodbye's address")


def stores(hub: Hub) -> dict[str, str]:
    assert hub.notification_settings is not None
    return {
        "membership": hub.membership_settings.database_url,
        "feedback-intake": hub.settings.database_url,
        "reporting": hub.reporting_settings.database_url,
        "notification": hub.notification_settings.database_url,
    }


def traces_of(details: tuple[str, ...]) -> list[bytes]:
    """A person's details as bytes, and as they would read inside base64 (standard and URL
    alphabets, at each of the three alignments), for details long enough that a chance match
    in encoded ciphertext is out of the question."""
    found = []
    for detail in details:
        raw = detail.encode()
        found.append(raw)
        if len(raw) < 12:
            continue
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw)
            # Only the characters made of the detail's bits alone (not the pad's, nor padding).
            fixed = encoded[-(-8 * shift // 6) : (8 * (shift + len(raw))) // 6]
            found += [fixed, fixed.replace(b"+", b"-").replace(b"/", b"_")]
    return found


async def search_topics(hub: Hub, details: tuple[str, ...], *card_keys: str) -> None:
    """No record of any of this hub's topics, from the beginning (the contacts topic's whole
    history, which compaction may not have touched, and every dead-letter topic), carries
    the details in clear or encoded; no card of these keys opens any more."""
    admin = AIOKafkaAdminClient(bootstrap_servers=hub.kafka.bootstrap_servers)
    await admin.start()
    try:
        # This hub's topics (other test processes, with their own prefix, have their own people).
        topics = [t for t in await admin.list_topics() if not t.startswith("__") and t.startswith(topics_prefix)]
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, MEMBERSHIP_CONTACTS.name)])
    finally:
        await admin.close()
    config = {c[0]: c[1] for c in described[0].resources[0][4]}
    assert config["cleanup.policy"] == "compact"
    assert {MEMBERSHIP_EVENTS.name, MEMBERSHIP_CONTACTS.name, MEMBERSHIP_CONTACTS.name + ".dlq"} <= set(topics)
    traces = traces_of(details)
    searched = 0
    for topic in topics:
        for r in await records(hub, topic):
            blob = (r.key or b"") + r.value + json.dumps(r.headers).encode()
            for trace in traces:
                assert trace not in blob, f"{trace!r} is readable on {topic}"
            searched += 1
    opened = [(key.decode(), data) for key, data in await contact_cards(hub) if key.decode() in card_keys]
    assert opened, "the person's cards were not on the contacts topic to be searched"
    assert all(data is None for _key, data in opened), "a card of the erased person still opens"
    assert searched > len(opened)


async def test_the_scorecard_counts_members_from_real_events(hub: Hub) -> None:
    for n in range(5):
        person = {**PERSON, "email": f"scorecard{n}@example.org", "practice_code": "P81010", "phone": None}
        assert (await hub.membership.post("/v1/join", json=person)).status_code == 202
        confirm = await card(hub, person["email"], "confirm_join")
        r = await hub.membership.post("/v1/confirm", json={"token": token_of(confirm["message"]["links"]["confirm"])})
        assert r.status_code == 200

    async def counted() -> bool:
        r = await hub.reporting.get("/v1/reports/scorecard/P81010", headers=hub.token("01A"))
        measures = r.json()["membership"]
        # Other tests' members share this hub: the joint disclosure audit may star these 5 to
        # protect another practice's small count, and then labels the star as its own.
        return bool(measures["members"] == 5 or "members" in measures.get("extra_suppression", []))

    await eventually(counted, what="reporting's scorecard to count 5 members at P81010")
    r = await hub.reporting.get("/v1/reports/scorecard/P81010", headers=hub.token("01A"))
    measures = r.json()["membership"]
    if measures["members"] == 5:
        assert measures["members_per_1000_registered"] > 0
        band = next(b for b in measures["representation"]["bands"] if (b["age_band"], b["sex"]) == ("25_34", "male"))
        assert band["members"] == 5
