"""Every email's HTML part, the unsubscribe page and the template preview page, in headless
Chromium: axe-core finds no accessibility violations, and the emails read the same with
images off (they have none)."""

from typing import Any

from hub_shared.console_testing import axe_violations, free_port, serve
from notification.links import unsubscribe_links
from notification.main import create_app
from notification.rules import kinds

from .conftest import Hub


async def test_emails_and_pages_pass_axe(hub: Hub, browser: Any) -> None:
    assert hub.notification is not None and hub.notification_settings is not None
    port = free_port()
    settings = hub.notification_settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    server, serving = await serve(create_app(settings), port)
    page = await browser.new_page(viewport={"width": 390, "height": 900}, bypass_csp=True)  # axe is injected
    # An email is shown inside the mail client's page, whose landmarks hold it; the email
    # itself is one role="article" (email accessibility practice).
    in_mail_client = "{rules: {'landmark-one-main': {enabled: false}, region: {enabled: false}}}"
    try:
        for kind in kinds.ALL:
            r = await hub.notification.get(f"/v1/templates/{kind}/preview", headers=hub.token("01A"))
            await page.set_content(r.json()["html"])
            assert await page.locator("img").count() == 0
            assert await axe_violations(page, in_mail_client) == [], kind
        url = unsubscribe_links(settings).url("someone", "n")
        await page.goto(url)
        assert await page.locator("form[method=post] button").count() == 1
        assert await axe_violations(page, "{}") == []
        await page.goto(f"http://127.0.0.1:{port}/templates/invitation")
        assert await axe_violations(page, "{}") == []
    finally:
        await page.close()
        server.should_exit = True
        await serving
