"""Every email's HTML part, the unsubscribe page and the template preview page, in headless
Chromium: axe-core finds no accessibility violations, and the emails read the same with
images off (they have none)."""

import asyncio
import socket
from pathlib import Path

import pytest
import uvicorn

from hub_shared.console_testing import CHROMIUM, FLAGS
from notification.links import unsubscribe_links
from notification.main import create_app
from notification.rules import kinds

from .conftest import Hub

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "services" / "console" / "web" / "node_modules" / "axe-core" / "axe.min.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_emails_and_pages_pass_axe(hub: Hub) -> None:
    # A missing browser is a failure, not a skip: `make test` installs it (as root) or names it.
    if not Path(CHROMIUM).exists():  # noqa: ASYNC240 (once, before anything runs)
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test` as root, or apt-get install chromium")
    from playwright.async_api import async_playwright

    assert hub.notification is not None and hub.notification_settings is not None
    port = free_port()
    settings = hub.notification_settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 390, "height": 900}, bypass_csp=True)  # axe is injected

            async def violations(email: bool = False) -> list[tuple[str, str, int]]:
                await page.add_script_tag(path=str(AXE))
                # An email is shown inside the mail client's page, whose landmarks hold it; the
                # email itself is one role="article" (email accessibility practice).
                options = (
                    "{rules: {'landmark-one-main': {enabled: false}, region: {enabled: false}}}" if email else "{}"
                )
                results = await page.evaluate(f"async () => await axe.run(document, {options})")
                return [(v["id"], v["help"], len(v["nodes"])) for v in results["violations"]]

            for kind in kinds.ALL:
                r = await hub.notification.get(f"/v1/templates/{kind}/preview", headers=hub.token("01A"))
                await page.set_content(r.json()["html"])
                assert await page.locator("img").count() == 0
                assert await violations(email=True) == [], kind
            url = unsubscribe_links(settings).url("someone", "n")
            await page.goto(url)
            assert await page.locator("form[method=post] button").count() == 1
            assert await violations() == []
            await page.goto(f"http://127.0.0.1:{port}/templates/invitation")
            assert await violations() == []
            await browser.close()
    finally:
        server.should_exit = True
        await serving
