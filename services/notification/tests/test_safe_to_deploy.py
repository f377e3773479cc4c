"""One bad email never stops the others; no address reaches the ledger or an event; the
development mailbox and the public template pages show nothing of anyone; every response
carries the security headers; forms from other sites are refused; bad filters are 422s."""

import mailbox
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from hub_shared.auth import DevKeys
from hub_shared.events import MessageKind
from hub_shared.testing import SmtpSink
from notification.main import create_app
from notification.rules.reasons import without_addresses
from notification.settings import NotificationSettings
from notification.workers.delivery import Worker

from .conftest import auth, card, contacts, deliver, drain, ledger, published
from .test_people import opportunity


def technical_failures(kind: str) -> float:
    value = REGISTRY.get_sample_value("hub_notification_outcomes_total", {"kind": kind, "result": "technical-failure"})
    return value or 0.0


@pytest.mark.parametrize("title", ["a\nb", "a\u2028b", "a\rBcc: x@example.org"])
async def test_an_email_that_cannot_be_built_is_settled_and_the_rest_are_sent(
    app: Any, worker: Worker, smtp_sink: SmtpSink, title: str
) -> None:
    bad_id, bad = opportunity(title=title)
    good_id, good = opportunity(title="Skin clinic redesign")
    await deliver(app, bad, good)
    member = uuid.uuid4()
    await deliver(
        app, contacts(card("first@example.org", MessageKind.INVITATION, member_id=member, reference=str(bad_id)))
    )
    await deliver(
        app,
        contacts(card("second@example.org", MessageKind.INVITATION, member_id=uuid.uuid4(), reference=str(good_id))),
    )
    before = technical_failures("invitation")

    await drain(worker)

    rows = {r.reference: r for r in await ledger(app)}
    assert rows[str(good_id)].status == "delivered"
    assert [m["To"] for m in smtp_sink.messages] == ["second@example.org"]
    settled = rows[str(bad_id)]
    assert settled.status == "technical-failure" and settled.reason and "cannot build the email" in settled.reason
    assert "@" not in settled.reason
    assert technical_failures("invitation") == before + 1
    assert await worker.run_once() == 0  # nothing left due: the bad one is not first in line for ever
    states = [e["data"] for e in await published(app, "notification.status_changed.v1")]
    assert any(s["status"] == "technical-failure" and s["notification_id"] == str(settled.id) for s in states)


async def test_a_relay_refusal_reaches_the_ledger_and_events_without_the_address(
    app: Any, worker: Worker, smtp_sink: SmtpSink, client: httpx.AsyncClient, keys: DevKeys
) -> None:
    smtp_sink.refuse = {"bob": "550 5.1.1 <bob@example.org>: Recipient address rejected (bob@example.org)"}
    member = uuid.uuid4()
    await deliver(app, contacts(card("bob@example.org", MessageKind.FRESH_LINK, member_id=member, tenant="P81001")))
    await drain(worker)

    [row] = await ledger(app)
    assert row.status == "permanent-failure" and row.reason and "550" in row.reason
    assert "bob" not in (row.reason or "") and "bob" not in (row.relay_reply or "")
    listed = (await client.get("/v1/notifications", headers=auth(keys, "P81001"))).json()["items"]
    assert listed and all("bob" not in (item["reason"] or "") for item in listed)
    for event in await published(app):
        assert "bob" not in str(event.get("data")), event["type"]
    [suppressed] = await published(app, "notification.recipient_suppressed.v1")
    assert "550" in suppressed["data"]["reason"]


def test_anything_address_like_is_scrubbed() -> None:
    for reply, gone in [
        ("550 5.1.1 <bob@example.org>: Recipient address rejected", "bob"),
        ('550 "bob smith"@example.org unknown', "bob"),
        ("553 bob%40example.org relaying denied", "bob"),
        ("550 <bob> unknown user", "bob"),
        ("550 bob (at) example.org", "bob"),
    ]:
        scrubbed = without_addresses(reply)
        assert scrubbed and gone not in scrubbed and scrubbed[:3] == reply[:3], scrubbed
    assert without_addresses("421 4.7.0 Try again later") == "421 4.7.0 Try again later"


async def test_created_from_without_a_zone_is_a_field_error(client: httpx.AsyncClient, keys: DevKeys) -> None:
    for name in ("created_from", "created_to"):
        r = await client.get("/v1/notifications", params={name: "2026-11-01T00:00:00"}, headers=auth(keys, "01A"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert any(e["field"].endswith(name) for e in r.json()["errors"])
    ok = await client.get(
        "/v1/notifications", params={"created_from": "2026-11-01T00:00:00Z"}, headers=auth(keys, "01A")
    )
    assert ok.status_code == 200


async def test_branding_with_a_line_break_in_the_team_name_is_a_field_error(
    client: httpx.AsyncClient, keys: DevKeys
) -> None:
    r = await client.put(
        "/v1/branding/01A", json={"sign_off": "Thanks,", "team_name": "Team\u2028Bcc"}, headers=auth(keys, "01A")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("team_name")


async def _mailbox_client(
    settings: NotificationSettings, folder: Path, client_host: str
) -> tuple[Any, httpx.AsyncClient]:
    application = create_app(settings.model_copy(update={"mailbox_dir": str(folder)}))
    transport = httpx.ASGITransport(app=application, client=(client_host, 50000))
    return application, httpx.AsyncClient(transport=transport, base_url="http://n")


async def test_the_mailbox_answers_only_this_machine_in_development_mode(
    app: Any,
    settings: NotificationSettings,
    worker: Worker,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await deliver(app, contacts(card("box@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    await drain(worker)
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    key = box.add(smtp_sink.messages[0].as_bytes())

    for host, allowed in (("127.0.0.1", True), ("::1", True), ("203.0.113.7", False), ("10.0.0.5", False)):
        application, client = await _mailbox_client(settings, tmp_path / "mail", host)
        async with client:
            for path in ("/mailbox", f"/mailbox/{key}"):
                r = await client.get(path)
                assert (r.status_code == 200) is allowed, (host, path, r.status_code)
                if not allowed:
                    assert "box@example.org" not in r.text and "preferences-token" not in r.text
        await application.state.engine.dispose()

    message = None
    application, client = await _mailbox_client(settings, tmp_path / "mail", "127.0.0.1")
    async with client:
        message = (await client.get(f"/mailbox/{key}")).text
        monkeypatch.delenv("HUB_DEVELOPMENT_MODE")
        assert (await client.get("/mailbox")).status_code == 404  # development mode ended: no mailbox
    await application.state.engine.dispose()
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in message
    with pytest.raises(ValueError, match="NOTIFICATION_MAILBOX_DIR"):
        NotificationSettings(link_secret="x" * 40, contact_keys_secret="y" * 40, mailbox_dir=str(tmp_path / "mail"))


async def test_public_template_pages_show_sample_branding_never_an_organisations(
    client: httpx.AsyncClient, keys: DevKeys
) -> None:
    r = await client.put(
        "/v1/branding/01A",
        json={"sign_off": "Secret sign-off of Northvale,", "team_name": "Northvale private team"},
        headers=auth(keys, "01A"),
    )
    assert r.status_code == 200
    for path in (
        "/templates/invitation",
        "/templates/invitation?organisation_code=01A",
        "/templates?organisation_code=01A",
    ):
        page = await client.get(path)
        assert page.status_code == 200
        assert "Secret sign-off" not in page.text and "Northvale private team" not in page.text
    page = await client.get("/templates/invitation")
    assert "<iframe" in page.text and 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page.text
    # Staff see their own branding through the bearer API (the console's Emails area).
    preview = await client.get("/v1/templates/invitation/preview", headers=auth(keys, "01A"))
    assert "Secret sign-off of Northvale," in preview.json()["text"]
    assert (await client.get("/v1/templates/invitation/preview")).status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/openapi.json", "/templates", "/templates/invitation", "/v1/notifications", "/unsubscribe?token=x"],
)
async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"


async def test_a_form_from_another_site_is_refused_but_one_click_unsubscribe_is_not(
    client: httpx.AsyncClient, keys: DevKeys
) -> None:
    headers = {**auth(keys, "01A"), "Origin": "https://evil.example"}
    r = await client.put("/v1/branding/01A", json={"sign_off": "Hacked,"}, headers=headers)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = await client.put(
        "/v1/branding/01A", json={"sign_off": "Fine,"}, headers={**auth(keys, "01A"), "Sec-Fetch-Site": "cross-site"}
    )
    assert r.status_code == 403
    same = await client.put(
        "/v1/branding/01A", json={"sign_off": "Fine,"}, headers={**auth(keys, "01A"), "Origin": "http://notification"}
    )
    assert same.status_code == 200
    assert (
        await client.put("/v1/branding/01A", json={"sign_off": "Fine,"}, headers=auth(keys, "01A"))
    ).status_code == 200
    # RFC 8058: a mail provider posts the one-click unsubscribe from its own site.
    r = await client.post("/unsubscribe?token=not-a-token", headers={"Origin": "https://mail.example"})
    # Reached the page (an invalid link, in HTML), not refused as cross-site (a problem document).
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
