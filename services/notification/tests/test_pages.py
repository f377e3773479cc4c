"""The development mailbox page over a Maildir (as the `make run` sink writes it), and the
service's AsyncAPI document."""

import mailbox
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub_shared.events import MessageKind
from hub_shared.testing import SmtpSink
from notification.main import create_app
from notification.workers.delivery import Worker

from .conftest import card, contacts, deliver, drain


async def test_the_mailbox_page_shows_what_the_sink_kept(
    app: Any, settings: Any, worker: Worker, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    await deliver(app, contacts(card("box@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    await drain(worker)
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(smtp_sink.messages[0].as_bytes())  # what aiosmtpd's Mailbox handler does under `make run`
    with_mailbox = create_app(settings.model_copy(update={"mailbox_dir": str(tmp_path / "mail")}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=with_mailbox), base_url="http://n") as client:
            listing = await client.get("/mailbox")
            assert listing.status_code == 200 and "Your link to your preferences" in listing.text
            [key] = list(box.keys())
            message = await client.get(f"/mailbox/{key}")
            assert message.status_code == 200
            assert "box@example.org" in message.text and "preferences-token" in message.text
            assert (await client.get("/mailbox/nope")).status_code == 404
    finally:
        await with_mailbox.state.engine.dispose()


async def test_without_a_mailbox_folder_there_is_no_mailbox_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/mailbox")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/asyncapi.json"])
async def test_asyncapi_names_what_notification_publishes_and_consumes(client: httpx.AsyncClient, path: str) -> None:
    document = (await client.get(path)).text
    for event_type in (
        "notification.status_changed.v1",
        "notification.recipient_suppressed.v1",
        "notification.unsubscribed.v1",
        "membership.contacts",
        "notification.deliveries",
    ):
        assert event_type in document, event_type
