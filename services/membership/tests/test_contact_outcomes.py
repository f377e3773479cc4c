"""Notification's word on a person's email stops contact here: a one-click unsubscribe or
an address the relay refused sets the member to hear nothing more (no invitations, no
updates) and their contact card says so; a hear-back address is forgotten."""

import uuid
from datetime import UTC, datetime

from hub_shared.consumer import EventConsumer, read_record
from hub_shared.events import RecipientSuppressedV1, UnsubscribeReceivedV1, encode, new_envelope
from hub_shared.topics import NOTIFICATION_EVENTS
from membership.consumers import CONTACT_OUTCOMES_GROUP, consumers
from membership.models import Member

from .conftest import events_of, join_and_confirm, last_card


def consumer_for(app) -> EventConsumer:  # type: ignore[no-untyped-def]
    found = [c for c in consumers(app.state.settings, app.state.sessions) if c.group == CONTACT_OUTCOMES_GROUP]
    return found[0]


async def deliver(app, data) -> None:  # type: ignore[no-untyped-def]
    """Apply an event as the consumer does (decode, inbox, handler, one transaction)."""
    from aiokafka.structs import ConsumerRecord

    message = encode(new_envelope(data, source="notification", subject="s", tenant="QZZ", correlation_id="c"))
    record = ConsumerRecord(NOTIFICATION_EVENTS.name, 0, 0, 0, 0, b"s", message.value, None, 0, 0, [])
    consumer = consumer_for(app)
    async with app.state.sessions() as session, session.begin():
        await consumer.apply(session, [read_record(record)])


async def test_a_one_click_unsubscribe_stops_every_kind_of_contact(client, app) -> None:  # type: ignore[no-untyped-def]
    member_id, _ = await join_and_confirm(client, app, email="ada@example.org")
    await deliver(app, UnsubscribeReceivedV1(member_id=uuid.UUID(member_id), unsubscribed_at=datetime.now(UTC)))
    async with app.state.sessions() as session:
        member = await session.get(Member, uuid.UUID(member_id))
        assert member is not None and member.frequency == "never"
    card = await last_card(app, "ada@example.org")
    assert card["contactable"] is False
    changed = await events_of(app, "member.preferences_changed.v1")
    assert changed[-1]["data"]["frequency"] == "never"


async def test_an_address_the_relay_refused_is_not_written_to_again(client, app) -> None:  # type: ignore[no-untyped-def]
    member_id, _ = await join_and_confirm(client, app, email="bounce@example.org")
    await deliver(
        app,
        RecipientSuppressedV1(
            member_id=uuid.UUID(member_id), reason="550 no such user", suppressed_at=datetime.now(UTC)
        ),
    )
    async with app.state.sessions() as session:
        member = await session.get(Member, uuid.UUID(member_id))
        assert member is not None and member.frequency == "never"
    assert (await last_card(app, "bounce@example.org"))["contactable"] is False
