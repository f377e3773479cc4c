"""Recipients from contact cards, consent at send time, delivery over SMTP with every
state of the ledger, and the ledger as places see it."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from hub_shared.auth import DevKeys
from hub_shared.events import MemberConfirmedV1, MemberLeftV1, MessageKind
from hub_shared.testing import SmtpSink, eventually
from notification.models import Recipient
from notification.workers.delivery import Worker
from notification.workers.smtp import RelayUnavailable

from .conftest import auth, card, contacts, deliver, drain, ledger, membership_event, published

pytestmark = pytest.mark.long(seconds=18)

CONFIRM = "http://membership/confirm?token=abc.def"
PREFS = "http://membership/preferences?token=pref"


async def test_confirmation_email_to_a_pending_member_and_nothing_else_until_confirmed(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    member = uuid.uuid4()
    join = card(
        "ada@example.org", MessageKind.CONFIRM_JOIN, member_id=member, contactable=False, links={"confirm": CONFIRM}
    )
    assert await deliver(app, contacts(join)) == ["applied"]
    invite = card(
        "ada@example.org", MessageKind.INVITATION, member_id=member, contactable=False, reference=str(uuid.uuid4())
    )
    await deliver(app, contacts(invite))
    await drain(worker)

    assert len(smtp_sink.messages) == 1
    email = smtp_sink.messages[0]
    assert email["Subject"] == "Confirm your email address"
    assert email["To"] == "ada@example.org"
    assert email["List-Unsubscribe"] is None  # transactional
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "Dear Ada Lovelace," in text and CONFIRM in text
    assert "Dear Ada Lovelace," in html and f'href="{CONFIRM}"' in html.replace("&amp;", "&")
    assert "<style" not in html and 'style="' in html  # styles inlined for mail clients
    rows = {r.kind: r for r in await ledger(app)}
    assert rows["confirm_email"].status == "delivered"
    assert rows["invitation"].status == "withheld" and rows["invitation"].reason == "unconfirmed"
    states = [e["data"]["status"] for e in await published(app, "notification.status_changed.v1")]
    assert states.count("created") == 2 and "sending" in states and "delivered" in states and "withheld" in states


async def test_the_same_event_twice_queues_and_sends_one_email(app: Any, worker: Worker, smtp_sink: SmtpSink) -> None:
    member = uuid.uuid4()
    join = card(
        "twice@example.org", MessageKind.CONFIRM_JOIN, member_id=member, contactable=False, links={"confirm": CONFIRM}
    )
    assert await deliver(app, contacts(join), contacts(join)) == ["applied", "duplicate"]
    assert await deliver(app, contacts(join)) == ["duplicate"]
    await drain(worker)
    await drain(worker)
    assert len(smtp_sink.messages) == 1
    assert [r.status for r in await ledger(app)] == ["delivered"]


async def test_consent_is_checked_when_sending_not_only_when_queued(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    leaver, other = uuid.uuid4(), uuid.uuid4()
    opportunity = str(uuid.uuid4())
    await deliver(
        app,
        contacts(card("leaver@example.org", MessageKind.INVITATION, member_id=leaver, reference=opportunity)),
        contacts(card("other@example.org", MessageKind.FRESH_LINK, member_id=other, links={"preferences": PREFS})),
    )
    # Before the worker gets to it, the first person leaves.
    from datetime import UTC, datetime

    await deliver(app, membership_event(MemberLeftV1(member_id=leaver, left_at=datetime.now(UTC)), str(leaver)))
    await drain(worker)
    by_kind = {r.kind: r for r in await ledger(app)}
    assert by_kind["invitation"].status == "withheld" and by_kind["invitation"].reason == "left"
    assert by_kind["fresh_link"].status == "delivered"
    assert by_kind["left"].status == "delivered"  # their goodbye, and nothing else
    subjects = sorted(m["Subject"] for m in smtp_sink.messages)
    assert subjects == ["You have left the patient partners scheme", "Your link to your preferences"]
    assert by_kind["left"].farewell_address is None


async def test_confirmed_event_makes_a_member_contactable_for_transactional_email(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    member = uuid.uuid4()
    await deliver(app, contacts(card("never@example.org", member_id=member, contactable=False)))
    from datetime import UTC, datetime

    await deliver(
        app, membership_event(MemberConfirmedV1(member_id=member, confirmed_at=datetime.now(UTC)), str(member))
    )
    await deliver(app, contacts(card("never@example.org", MessageKind.FRESH_LINK, member_id=member, contactable=False)))
    await drain(worker)
    assert [m["Subject"] for m in smtp_sink.messages] == ["Your link to your preferences"]


async def test_temporary_failures_are_retried_with_backoff_then_given_up(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    smtp_sink.refuse = {"busy": "451 4.3.2 Try again later"}
    await deliver(app, contacts(card("busy@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    await worker.run_once()
    [row] = await ledger(app)
    assert row.status == "temporary-failure" and row.attempts == 1 and "451" in (row.reason or "")
    assert row.due_at > row.updated_at  # waits before the next try
    for _ in range(40):
        await worker.run_once()
        [row] = await ledger(app)
        if row.status == "technical-failure":
            break
        await asyncio.sleep(0.05)
    assert row.status == "technical-failure" and row.attempts == worker.settings.max_attempts
    assert smtp_sink.messages == []


async def test_a_temporary_failure_that_clears_is_delivered_once(app: Any, worker: Worker, smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse = {"later": "421 4.7.0 Slow down"}
    await deliver(app, contacts(card("later@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    await worker.run_once()
    smtp_sink.refuse = {}
    await asyncio.sleep(0.05)
    await drain(worker)
    [row] = await ledger(app)
    assert row.status == "delivered" and row.attempts == 2
    assert len(smtp_sink.messages) == 1


async def test_a_permanent_failure_suppresses_the_address_and_tells_membership(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    smtp_sink.refuse = {"gone": "550 5.1.1 No such mailbox"}
    member = uuid.uuid4()
    await deliver(app, contacts(card("gone@example.org", MessageKind.FRESH_LINK, member_id=member)))
    await drain(worker)
    await deliver(app, contacts(card("gone@example.org", MessageKind.INVITATION, member_id=member, reference="x")))
    await drain(worker)
    rows = {r.kind: r for r in await ledger(app)}
    assert rows["fresh_link"].status == "permanent-failure" and "550" in (rows["fresh_link"].reason or "")
    assert rows["invitation"].status == "withheld" and rows["invitation"].reason == "suppressed"
    [told] = await published(app, "notification.recipient_suppressed.v1")
    assert told["data"]["member_id"] == str(member) and "gone@" not in str(told)
    async with app.state.sessions() as session:
        recipient = await session.get(Recipient, str(member))
        assert recipient is not None and recipient.suppressed_at is not None
    # A new address from membership lifts the suppression; the old one stays refused.
    await deliver(app, contacts(card("found@example.org", MessageKind.FRESH_LINK, member_id=member)))
    await drain(worker)
    assert [m["To"] for m in smtp_sink.messages] == ["found@example.org"]


async def test_when_the_relay_is_down_work_waits_and_resumes_without_loss(app: Any, settings: Any) -> None:
    sink = SmtpSink()
    sink.start()
    port = sink.port
    sink.stop()  # the relay is down
    worker = Worker(settings.model_copy(update={"smtp_port": port}), app.state.sessions, name="w-down")
    for i in range(3):
        await deliver(app, contacts(card(f"p{i}@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    with pytest.raises(RelayUnavailable):
        await worker.run_once()
    assert {r.status for r in await ledger(app)} == {"created"}  # nothing claimed, nothing spent
    sink = SmtpSink()
    sink.port = port
    sink.start()
    try:
        await drain(worker)
        assert len(sink.messages) == 3
        assert {r.status for r in await ledger(app)} == {"delivered"}
        assert all(r.attempts == 1 for r in await ledger(app))
    finally:
        await worker.relay.close()
        sink.stop()


async def test_on_postgresql_a_new_email_wakes_the_idle_worker_instead_of_its_next_look(
    app: Any, settings: Any, smtp_sink: SmtpSink
) -> None:
    """With migration 0008's trigger, an email added to the ledger goes out at once though
    the idle worker would look again only after 30 seconds."""
    worker = Worker(settings.model_copy(update={"worker_idle_seconds": 30}), app.state.sessions, name="w-idle")
    running = asyncio.create_task(worker.run())
    try:
        for n in range(2):  # the first while it starts listening, the second while it waits
            await asyncio.sleep(0.5)
            address = f"woken{n}@example.org"
            await deliver(app, contacts(card(address, MessageKind.FRESH_LINK, member_id=uuid.uuid4())))

            async def sent(address: str = address) -> bool:
                return bool(smtp_sink.to(address))

            await eventually(sent, timeout=5, what=f"the email to {address}")
    finally:
        worker.stop()
        await running


async def test_two_workers_at_once_never_send_one_email_twice(app: Any, settings: Any, smtp_sink: SmtpSink) -> None:
    for i in range(40):
        await deliver(app, contacts(card(f"both{i}@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    workers = [Worker(settings, app.state.sessions, name=f"w{n}") for n in range(3)]
    await asyncio.gather(*(drain(w, rounds=50) for w in workers))
    for w in workers:
        await w.relay.close()
    ids = [m["X-Hub-Notification-Id"] for m in smtp_sink.messages]
    assert len(ids) == 40 and len(set(ids)) == 40
    rows = await ledger(app)
    assert {r.status for r in rows} == {"delivered"}
    assert {r.claimed_by for r in rows} - {"w0", "w1", "w2"} == set()


async def test_rate_limit_per_organisation_holds_back_one_sender_without_dropping(
    app: Any, settings: Any, smtp_sink: SmtpSink
) -> None:
    limited = Worker(settings.model_copy(update={"org_rate_limit": "3 per 2 second"}), app.state.sessions, name="rl")
    for i in range(5):
        await deliver(
            app, contacts(card(f"a{i}@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4(), tenant="P81001"))
        )
        await deliver(
            app, contacts(card(f"b{i}@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4(), tenant="P82001"))
        )
    await limited.run_once()
    to = [m["To"] for m in smtp_sink.messages]
    assert sum(t.startswith("a") for t in to) == 3 and sum(t.startswith("b") for t in to) == 3
    await asyncio.sleep(2.1)
    await drain(limited)
    await limited.relay.close()
    assert len(smtp_sink.messages) == 10
    assert len({m["To"] for m in smtp_sink.messages}) == 10


async def test_a_place_lists_its_own_sends_with_reasons_and_never_anothers(
    app: Any, client: httpx.AsyncClient, worker: Worker, keys: DevKeys, smtp_sink: SmtpSink
) -> None:
    await deliver(
        app,
        contacts(card("north@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4(), tenant="P81001")),
        contacts(card("south@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4(), tenant="P82001")),
        contacts(card("pending@example.org", MessageKind.INVITATION, member_id=uuid.uuid4(), contactable=False)),
    )
    await drain(worker)
    r = await client.get("/v1/notifications", headers=auth(keys, "01A"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {i["organisation_code"] for i in items} == {"P81001"}
    assert {(i["kind"], i["status"], i["reason"]) for i in items} == {
        ("fresh_link", "delivered", None),
        ("invitation", "withheld", "unconfirmed"),
    }
    assert "north@example.org" not in r.text and "Ada" not in r.text
    r = await client.get("/v1/notifications", params={"status": "withheld"}, headers=auth(keys, "01A"))
    assert [i["kind"] for i in r.json()["items"]] == ["invitation"]
    r = await client.get("/v1/notifications", params={"organisation_code": "01A"}, headers=auth(keys, "02B"))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = await client.get("/v1/notifications", headers=auth(keys, "02B"))
    assert [i["organisation_code"] for i in r.json()["items"]] == ["P82001"]
    r = await client.get("/v1/notifications", params={"kind": "nonsense"}, headers=auth(keys, "01A"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = await client.get("/v1/notifications", params={"limit": 1}, headers=auth(keys, "QZZ"))
    first = r.json()
    r = await client.get(
        "/v1/notifications", params={"limit": 5, "cursor": first["next_cursor"]}, headers=auth(keys, "QZZ")
    )
    assert len(first["items"]) + len(r.json()["items"]) == 3
    r = await client.get("/v1/notifications/summary", headers=auth(keys, "QZZ"))
    assert r.json()["by_status"] == {"delivered": 2, "withheld": 1} and r.json()["unknown"] == 0
    r = await client.get("/v1/notifications", headers=auth(keys, "01A", ("members:read",)))
    assert r.status_code == 403


async def test_the_relay_rate_limit_holds_back_everyone_without_dropping(
    app: Any, settings: Any, smtp_sink: SmtpSink
) -> None:
    limited = Worker(settings.model_copy(update={"relay_rate_limit": "4 per 2 second"}), app.state.sessions, name="r")
    for i in range(6):
        await deliver(app, contacts(card(f"r{i}@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    await limited.run_once()
    assert len(smtp_sink.messages) == 4
    assert sorted(r.status for r in await ledger(app)) == ["created"] * 2 + ["delivered"] * 4
    await asyncio.sleep(2.1)
    await drain(limited)
    await limited.relay.close()
    assert len(smtp_sink.messages) == 6 and len({m["To"] for m in smtp_sink.messages}) == 6
