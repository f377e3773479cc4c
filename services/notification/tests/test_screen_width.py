"""Every page notification serves and every kind of email fits a 390 px phone screen
without sideways scrolling, and a desktop's without a page wider than its window, long
links and addresses included: measured in headless Chromium (document scroll width)."""

import asyncio
import mailbox
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hub_shared.console_testing import free_port, needs_chromium
from notification.handlers.branding import SAMPLE_BRANDING
from notification.links import unsubscribe_links
from notification.main import create_app
from notification.rules import kinds
from notification.rules.render import message, render
from notification.rules.samples import sample_context

# A link with no place to break, as a tracked "read more" link or a signed token can be.
LONG_LINK = "https://example.invalid/you-said-we-did/" + "physiotherapy-evening-clinics-" * 8 + "?token=" + "x" * 160
LONG_ADDRESS = "florence.nightingale-hospital-volunteers-and-patient-partners@a-very-long-mail-domain.example.org"
WIDTHS = (390, 1280)


def every_email(settings: Any) -> dict[str, Any]:
    """Every kind, rendered with sample data, a long link in it and a long subject."""
    rendered = {}
    for kind in kinds.ALL:
        context = sample_context(kind, "01A", dict(SAMPLE_BRANDING), settings)
        context["links"] = {**context["links"], "stop": LONG_LINK, "reply": LONG_LINK, "preferences": LONG_LINK}
        context["response"] = {**context["response"], "evidence_url": LONG_LINK}
        context["contact_email"] = LONG_ADDRESS
        rendered[kind] = render(kind, context)
    return rendered


@needs_chromium
async def test_every_page_and_email_fits_a_phone_screen(
    settings: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DEVELOPMENT_MODE", "1")  # the mailbox is for development only
    port = free_port()
    served = settings.model_copy(
        update={"public_base_url": f"http://127.0.0.1:{port}", "mailbox_dir": str(tmp_path / "mail")}
    )
    emails = every_email(served)
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for kind, rendered in emails.items():
        box.add(
            message(
                rendered,
                sender="Patient Partners <engagement@example.org>",
                to=LONG_ADDRESS,
                message_id=f"<{kind}@example.org>",
                notification_id=kind,
                unsubscribe_url=LONG_LINK if kind in kinds.NON_TRANSACTIONAL else None,
            ).as_bytes()
        )
    server = uvicorn.Server(uvicorn.Config(create_app(served), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    too_wide: list[str] = []

    async def measure(page: Any, name: str) -> None:
        for width in WIDTHS:
            await page.set_viewport_size({"width": width, "height": 800})
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                too_wide.append(f"{name} is {scroll} px wide at {width} px")

    try:
        while not server.started:
            await asyncio.sleep(0.05)
        page = await browser.new_page()
        try:
            pages = ["/mailbox", "/templates", unsubscribe_links(served).url("someone", "n").removeprefix(base)]
            pages += [f"/mailbox/{key}" for key in box.iterkeys()]
            pages += [f"/templates/{kind}" for kind in kinds.ALL]
            for path in pages:
                response = await page.goto(base + path)
                assert response is not None and response.status == 200, path
                await measure(page, path)
            for kind, rendered in emails.items():
                await page.set_content(rendered.html)  # as a phone's mail app shows it
                await measure(page, f"the {kind} email")
        finally:
            await page.close()
    finally:
        server.should_exit = True
        await serving
    assert too_wide == [], "\n".join(too_wide)
