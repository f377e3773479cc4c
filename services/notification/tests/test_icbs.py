"""Recipients in a hub serving two ICBs (the demo ICS and NHS Southshire ICB,
``hub_shared.organisations_testing``): a hear-back contact's card names its ICB, and its
email goes out for that ICB, with its name; a recipient row without an organisation (none is
written now) is filed under its last email's, and an unsubscribe for one that has none says
so in the log and fails nothing."""

import uuid
from datetime import UTC, datetime
from typing import Any

from hub_shared.events import MessageKind
from hub_shared.organisations_testing import SecondIcb
from hub_shared.testing import SmtpSink
from notification.handlers.recipients import organisation_of
from notification.handlers.unsubscribes import unsubscribe
from notification.models import Recipient
from notification.workers.delivery import Worker

from .conftest import card, contacts, deliver, drain, ledger, published

CONFIRM = {"confirm": "http://membership/hear-back/confirm?token=t", "reference": "7KQ3-M9X2-RT4"}


async def test_a_second_icbs_hear_back_contact_gets_its_confirmation_from_its_icb(
    app: Any, worker: Worker, smtp_sink: SmtpSink, two_icbs: SecondIcb
) -> None:
    token = "7KQ3M9X2RT4"
    confirm = card("south@example.org", MessageKind.CONFIRM_HEAR_BACK, token=token, tenant=two_icbs.icb, links=CONFIRM)
    assert await deliver(app, contacts(confirm)) == ["applied"]
    await drain(worker)
    [email] = smtp_sink.to("south@example.org")
    assert email["Subject"].startswith("Confirm you want to hear back")
    assert "NHS SOUTHSHIRE INTEGRATED CARE BOARD" in email.get_body(("plain",)).get_content()
    [row] = await ledger(app)
    assert (row.organisation_code, row.status) == (two_icbs.icb, "delivered")
    async with app.state.sessions() as session:
        recipient = await session.get(Recipient, token)
        assert recipient is not None and recipient.organisation_code == two_icbs.icb


async def test_a_recipient_without_an_organisation_is_filed_under_its_last_emails(
    app: Any, worker: Worker, two_icbs: SecondIcb
) -> None:
    token, never_emailed = "7KQ3M9X2RT4", "8KQ3M9X2RT5"
    sent = card("old@example.org", MessageKind.CONFIRM_HEAR_BACK, token=token, tenant=two_icbs.icb, links=CONFIRM)
    await deliver(app, contacts(sent))
    await drain(worker)
    async with app.state.sessions() as session, session.begin():
        recipient = await session.get(Recipient, token)
        assert recipient is not None
        recipient.organisation_code = None  # as a row written before cards named one would be
        assert await organisation_of(session, recipient) == two_icbs.icb  # its last email's
        lost = Recipient(
            key=never_emailed,
            kind="hear_back",
            email="lost@example.org",
            organisation_code=None,
            confirmed=True,
            contactable=True,
            updated_at=datetime.now(UTC),
        )
        session.add(lost)
        await session.flush()
        assert await organisation_of(session, lost) is None  # two ICBs, no email: nobody can tell
        assert await unsubscribe(session, {"k": never_emailed}) is True  # recorded; nothing raised
    assert await published(app, "notification.unsubscribed.v1") == []
    async with app.state.sessions() as session:
        assert (await session.get(Recipient, never_emailed)).unsubscribed_at is not None  # type: ignore[union-attr]


async def test_with_one_icb_a_recipient_without_an_organisation_is_that_icbs(app: Any) -> None:
    member = uuid.uuid4()
    await deliver(app, contacts(card("one@example.org", member_id=member)))
    async with app.state.sessions() as session, session.begin():
        recipient = await session.get(Recipient, str(member))
        assert recipient is not None
        recipient.organisation_code = None
        assert await organisation_of(session, recipient) == "QZZ"
        assert await unsubscribe(session, {"k": str(member)}) is True
    [told] = await published(app, "notification.unsubscribed.v1")
    assert told["tenant"] == "QZZ"
