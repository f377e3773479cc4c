"""The dashboard journey in headless Chromium at 1280 and 390 px wide: sign in, filter by
each combination (empty values included), download the CSV with the sign-in cookie, sign
out; axe-core finds no violations on any page, nothing is fetched from another host, the
page never scrolls sideways on a phone and chart text stays legible. Screenshots are left
in .state/dashboard-1280.png and .state/dashboard-390.png; /docs is Swagger UI served
locally."""

import asyncio
import csv
import io
import os
import shutil
import socket
from itertools import product
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn

from hub_shared.testing import eventually
from reporting.main import create_app

from .conftest import Hub

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
AREA = "dermatology"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def axe_violations(page) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    await page.add_script_tag(path=str(AXE))
    results = await page.evaluate("async () => await axe.run(document)")
    return [(v["id"], v["help"], len(v["nodes"])) for v in results["violations"]]


async def journey(browser, base: str, port: int, width: int, token: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in, filter by each combination, look, download, sign out: at one width."""
    context = await browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

    await page.goto(f"{base}/dashboard")
    assert page.url.endswith("/dashboard/sign-in")
    assert await axe_violations(page) == []
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard")
    assert "Northvale Place" in await page.inner_text("h1")

    for organisation, area, month in product(("01A", "P81007"), ("", AREA), ("", "2025-06")):
        await page.select_option("#organisation", organisation)
        await page.select_option("#service_area", area)
        await page.select_option("#month", month)
        await page.click("text=Apply filters")
        await page.wait_for_load_state()
        assert organisation in await page.inner_text("h1"), (organisation, area, month)
        assert "There is a problem" not in await page.inner_text("main")
        violations = await axe_violations(page)
        assert violations == [], (width, organisation, area, month, violations)
        overflow = await page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, (width, organisation, area, month, overflow)

    # The practice's own page: 8 answers in dermatology (June 6 and July 2).
    await page.goto(f"{base}/dashboard?organisation=P81007&service_area={AREA}&month=2025-06")
    cards = await page.locator(".nhsuk-card").all_inner_texts()
    assert any("Responses" in c and "6" in c for c in cards)
    assert any("% positive" in c and "83%" in c for c in cards)  # 5 of 6
    await page.goto(f"{base}/dashboard?organisation=P81007")
    chart = page.locator(".hub-chart svg")
    assert await chart.locator(".hub-chart__series--selected path").count() >= 1
    assert await chart.locator(".hub-chart__series--ics").count() == 1  # the ICS beside it
    assert await chart.locator(".hub-chart__withheld").count() >= 1  # July is withheld
    label = await chart.locator(".hub-chart__label").first.bounding_box()
    assert label is not None and label["height"] >= 11, label  # legible on a phone too
    trend = await page.locator("table").first.inner_text()
    assert "2025-07" in trend and "*" in trend

    # Sorting the organisation table keeps each place's practices under it.
    await page.goto(f"{base}/dashboard?organisation=01A&sort=total&order=desc")
    names = await page.locator(".hub-org-table tbody th").all_inner_texts()
    assert "Northvale Place" in names[0] and len(names) > 2

    screenshot = REPO / ".state" / f"dashboard-{width}.png"
    screenshot.parent.mkdir(exist_ok=True)
    await page.goto(f"{base}/dashboard?organisation=P81007&service_area={AREA}")
    await page.screenshot(path=str(screenshot), full_page=True)
    await page.locator(".hub-chart").screenshot(path=str(screenshot.with_name(f"dashboard-chart-{width}.png")))

    # The CSV downloads with the sign-in cookie, in NHS England's layout.
    async with page.expect_download() as download_info:
        await page.click("text=Download this table as CSV")
    download = await download_info.value
    content = await asyncio.to_thread(Path(await download.path()).read_text)
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows[0]["Practice Code"] == "P81007" and rows[0]["Rule Set"] == "nhse-fft-v1"

    # Sign out: the cookie is gone, the dashboard and the CSV ask again.
    await page.click("text=Sign out")
    await page.wait_for_url(f"{base}/dashboard/sign-in?signed_out=1")
    assert "You have signed out" in await page.inner_text("main")
    await page.goto(f"{base}/dashboard")
    assert page.url.endswith("/dashboard/sign-in")
    csv_after = await page.request.get(f"{base}/v1/reports/fft/P81007.csv")
    assert csv_after.status == 401

    # Swagger UI from the service itself; a favicon.
    await page.goto(f"{base}/docs")
    await page.wait_for_selector(".swagger-ui .info .title")
    assert (await page.request.get(f"{base}/favicon.ico")).status == 200

    assert hosts == {f"127.0.0.1:{port}"}, hosts  # nothing from another host
    assert failed == [], failed
    await context.close()


@pytest.mark.long(seconds=60)
async def test_the_dashboard_journey_at_desktop_and_phone_widths(hub: Hub) -> None:
    # A missing browser is a failure, not a skip: `make test` installs it (as root) or names it.
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once, before anything runs)
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test` as root, or apt-get install chromium")
    from playwright.async_api import async_playwright

    assert AXE.exists(), "axe-core is installed by `make install` (npm ci in services/reporting/web)"
    june = ("very_good", "very_good", "good", "good", "good", "poor")
    for answer in june:
        await hub.post_feedback(
            "P81007",
            fft_answer=answer,
            service_area=AREA,
            occurred_at="2025-06-12T10:00:00Z",
            text="Clear explanations from a kind nurse.",
        )
    for answer in ("good", "very_poor"):  # a month of 2: withheld, marked *
        await hub.post_feedback("P81007", fft_answer=answer, service_area=AREA, occurred_at="2025-07-03T10:00:00Z")

    async def counted() -> bool:
        r = await hub.reporting.get("/v1/reports/fft/P81007", params={"service_area": AREA}, headers=hub.token("QZZ"))
        return r.json()["rows"][0]["total"] >= 8

    await eventually(counted, what="the dashboard's data in reporting")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub.reporting_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    token = hub.token("01A", ["reports:read"])["Authorization"].split()[1]
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for width in (1280, 390):
                await journey(browser, base, port, width, token)
            await browser.close()
    finally:
        server.should_exit = True
        await serving
