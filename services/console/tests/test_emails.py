"""The Emails area in Chromium, signed in through the real provider, against notification's
real API (in-process, its own SQLite store): the practice manager changes the branding (a bad
email gets NHS.UK's error summary, a good one is saved and shows in the preview), previews a
template in a sandboxed frame under its own policy, and reads the delivery ledger: a failed
email with its reason, never an address, filtered and paged. The analyst may read but is
not offered the change."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

import notification.main as notification_main
from hub_shared.console_testing import check_page
from hub_shared.db import create_engine, session_factory
from hub_shared.testing import migrated
from notification.models import Notification
from notification.settings import NotificationSettings

from .conftest import Console, Provider, Reporting, idp, needs_chromium, running_console, sign_in

pytestmark = [needs_chromium, pytest.mark.long(seconds=20)]
REASON = "550 5.1.1 The mailbox is unavailable"


def ledger_row(
    code: str, status: str, at: datetime, reason: str | None = None, kind: str = "invitation"
) -> Notification:
    ident = uuid.uuid4()
    return Notification(
        id=ident,
        dedupe_key=str(ident),
        recipient_key=None,
        recipient_kind="member",
        member_id=uuid.uuid4(),
        organisation_code=code,
        kind=kind,
        reference=None,
        links={},
        status=status,
        reason=reason,
        attempts=1,
        due_at=at,
        farewell_address="someone@example.org",  # held by notification; never shown
        created_at=at,
        updated_at=at,
    )


@pytest_asyncio.fixture(scope="module")
async def notification_app(provider: Provider, reporting: Reporting, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """notification's real API on its own SQLite store, its ledger holding 30 emails for
    P81001 (one refused by the recipient's server) and one for another place's practice."""
    tmp = tmp_path_factory.mktemp("notification")
    database = f"sqlite+aiosqlite:///{tmp / 'notification.db'}"
    migrated(notification_main.MIGRATIONS, database)
    app = notification_main.create_app(
        NotificationSettings(database_url=database, jwks_path=reporting.keys.jwks_path, identity_provider=idp(provider))
    )
    engine = create_engine(database)
    start = datetime(2025, 6, 1, 9, tzinfo=UTC)
    rows = [ledger_row("P81001", "delivered", start + timedelta(hours=i)) for i in range(29)]
    rows.append(ledger_row("P81001", "permanent-failure", start + timedelta(days=3), REASON))
    rows.append(ledger_row("P82001", "technical-failure", start + timedelta(days=4), "another place's failure"))
    async with session_factory(engine)() as session, session.begin():
        session.add_all(rows)
    await engine.dispose()
    return app


@pytest_asyncio.fixture(scope="module")
async def console(
    provider: Provider, reporting: Reporting, notification_app: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    transports: dict[str, httpx.AsyncBaseTransport] = {"notification": httpx.ASGITransport(app=notification_app)}
    async with running_console(provider, reporting, tmp_path_factory.mktemp("console"), transports) as running:
        yield running


@pytest_asyncio.fixture(scope="module")
async def manager(browser: Any, console: Console) -> AsyncIterator[Any]:
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await sign_in(page, console, "practice-manager", start="/emails")
    yield page
    await context.close()


async def test_the_practice_manager_changes_the_branding_and_previews_a_template(
    manager: Any, console: Console
) -> None:
    page = manager
    assert page.url == console.url + "/emails"
    await check_page(page, "emails-index")
    await page.click("a[href='/emails/branding']")
    assert page.url == console.url + "/emails/branding"
    await page.fill("#sign_off", "With thanks from Church Street,")
    await page.fill("#team_name", "Church Street PPG team")
    await page.fill("#contact_email", "not-an-email")
    await page.click("button:has-text('Save branding')")
    summary = page.locator(".nhsuk-error-summary")
    assert await summary.count() == 1
    assert await summary.locator("a[href='#contact_email']").count() == 1
    assert "correct format" in await page.locator("#contact_email-error").inner_text()
    assert (await page.title()).startswith("Error:")
    assert await page.input_value("#sign_off") == "With thanks from Church Street,"  # kept
    await check_page(page, "emails-branding-error")

    await page.fill("#contact_email", "church.street@nhs.net")
    await page.click("button:has-text('Save branding')")
    await page.wait_for_url(console.url + "/emails?saved=1")
    main = await page.inner_text("main")
    assert "Your branding was saved" in main and "With thanks from Church Street," in main

    await page.click("a:has-text('Invitation')")
    assert page.url == console.url + "/emails/templates/invitation"
    frame_element = page.locator("iframe.hub-email-preview")
    assert await frame_element.get_attribute("sandbox") == ""
    frame = await frame_element.element_handle()
    content = await frame.content_frame()
    assert content is not None
    await content.wait_for_load_state()
    assert "With thanks from Church Street," in await content.inner_text("body")
    assert await content.locator("script").count() == 0
    await check_page(page, "emails-template")
    served = await page.request.get(console.url + "/emails/templates/invitation/preview.html")
    policy = served.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy


async def test_the_ledger_lists_a_failed_email_with_its_reason_and_never_an_address(
    manager: Any, console: Console
) -> None:
    page = manager
    await page.goto(console.url + "/emails")
    await page.click("a:has-text('Failed: address refused')")
    assert "status=permanent-failure" in page.url
    table = await page.locator(".hub-ledger-table").inner_text()
    assert REASON in table and "Church Street Surgery" in table
    assert table.count("Failed: address refused") == 1 and "Delivered" not in table
    assert "another place" not in await page.inner_text("main")
    await check_page(page, "emails-ledger")

    await page.goto(console.url + "/emails/ledger")
    assert await page.locator(".hub-ledger-table tbody tr").count() == 25
    assert "@" not in await page.inner_text("main")
    await page.click("a:has-text('Next')")
    assert await page.locator(".hub-ledger-table tbody tr").count() == 5
    await page.click("a:has-text('Previous')")
    assert await page.locator(".hub-ledger-table tbody tr").count() == 25

    # Dates: the 'to' day is included; a date the API refuses gets the error summary.
    await page.goto(console.url + "/emails/ledger?from=2025-06-04&to=2025-06-04")
    assert await page.locator(".hub-ledger-table tbody tr").count() == 1
    await page.goto(console.url + "/emails/ledger?from=2025-13-40")
    assert await page.locator(".nhsuk-error-summary a[href='#from']").count() == 1
    # Another practice's ledger: the API's refusal, as a page.
    refused = await page.goto(console.url + "/emails/ledger?organisation=P81002")
    assert refused.status == 403


async def test_the_analyst_reads_email_outcomes_but_is_not_offered_the_branding(
    browser: Any, console: Console, tmp_path: Path
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, console, "icb-analyst", start="/emails")
    assert "Failed: address refused" in await page.inner_text("main")
    assert await page.locator("a[href='/emails/branding']").count() == 0  # (templates list "Opportunity changed")
    await page.goto(console.url + "/emails/ledger?status=technical-failure")
    assert "another place's failure" in await page.inner_text("main")
    await context.close()
