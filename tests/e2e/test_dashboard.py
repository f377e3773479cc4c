"""The dashboard renders real data in headless Chromium, through its sign-in form, and
axe-core finds no accessibility violations. A screenshot is left in .state/dashboard.png."""

import asyncio
import os
import shutil
import socket
from pathlib import Path

import pytest
import uvicorn

from reporting.main import create_app

from .conftest import Hub, eventually

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "services" / "reporting" / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_dashboard_shows_real_figures_and_passes_axe(hub: Hub) -> None:
    # A missing browser is a failure, not a skip: `make test` installs it (as root) or names it.
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once, before anything runs)
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test` as root, or apt-get install chromium")
    from playwright.async_api import async_playwright

    assert AXE.exists(), "axe-core is installed by `make install` (npm ci in services/reporting/web)"
    for answer in ("very_good", "very_good", "good", "good", "good", "poor"):
        await hub.post_feedback(
            "P81007", fft_answer=answer, service_area="dermatology", text="Clear explanations from a kind nurse."
        )

    async def counted() -> bool:
        r = await hub.reporting.get(
            "/v1/reports/fft/P81007", params={"service_area": "dermatology"}, headers=hub.token("QZZ")
        )
        return r.json()["rows"][0]["total"] == 6

    await eventually(counted, what="the dashboard's data in reporting")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub.reporting_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"http://127.0.0.1:{port}/dashboard")
            assert page.url.endswith("/dashboard/sign-in")
            await page.fill("#token", hub.token("01A", ["reports:read"])["Authorization"].split()[1])
            await page.click("button[type=submit]")
            await page.goto(f"http://127.0.0.1:{port}/dashboard?organisation=P81007&service_area=dermatology")
            assert "P81007" in await page.inner_text("h1")
            body = await page.inner_text("main")
            assert "Friends and Family Test" in body and "% positive by month" in body
            cards = await page.locator(".nhsuk-card").all_inner_texts()
            assert any("Responses" in c and "6" in c for c in cards)
            assert any("% positive" in c and "83" in c for c in cards)  # 5 of 6
            screenshot = REPO / ".state" / "dashboard.png"
            screenshot.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(screenshot), full_page=True)
            await page.add_script_tag(path=str(AXE))
            results = await page.evaluate("async () => await axe.run(document)")
            violations = [(v["id"], v["help"], len(v["nodes"])) for v in results["violations"]]
            assert violations == []
            await browser.close()
    finally:
        server.should_exit = True
        await serving
