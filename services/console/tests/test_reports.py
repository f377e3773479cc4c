"""The Reports area in Chromium, signed in through the real provider, against reporting's real
API (in-process, SQLite) fed with real feedback.received.v1 events: the analyst sees the ICB's
FFT table (places' practices nested under them, the figures the API gives) and downloads its
CSV; the place officer sees 01A's and is refused QZZ's with the API's 403 as a page; the
trend marks withheld months and stays within a phone's width; each report has its CSV. Each
page is checked with axe-core at 1280 and 390 px (hub_shared.console_testing.check_page)."""

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from console.pages.charts import line_chart, nested_rows
from hub_shared.console_testing import check_page, photograph
from hub_shared.events import FeedbackReceivedV1, decode, encode, new_envelope
from reporting.consumers import KEYED_HANDLERS

from .conftest import Console, Reporting, needs_chromium, sign_in

pytestmark = [needs_chromium, pytest.mark.long(seconds=35)]
PLACE_OF = {"P81001": "01A", "P81007": "01A", "P82001": "02B"}
# (practice, month, answers): June at P81001 gives 6 answers (5 positive); July 2, withheld.
FEEDBACK = [
    ("P81001", "2025-06", ["very_good", "very_good", "good", "good", "good", "poor"]),
    ("P81001", "2025-07", ["good", "very_poor"]),
    ("P81007", "2025-06", ["very_good"] * 7 + ["neither_good_nor_poor"] * 2),
    ("P82001", "2025-06", ["good"] * 12 + ["poor"] * 3),
]


def received(code: str, month: str, answer: str, i: int) -> FeedbackReceivedV1:
    year, number = (int(p) for p in month.split("-"))
    at = datetime(year, number, 1 + i % 27, 10, tzinfo=UTC)
    commented = i % 2 == 0
    return FeedbackReceivedV1(
        submission_id=uuid.uuid4(),
        organisation_code=code,
        counts_for=code,
        place_code=PLACE_OF[code],
        submitted_by=code,
        service_area="general_practice",
        channel="fft_sms",
        fft_answer=answer,
        text="Long wait for an appointment." if commented else None,
        occurred_at=at,
        received_at=at,
        sentiment=-0.4 if commented else None,
        themes=["access"] if commented else [],
        themes_version="themes-v1" if commented else None,
    )


@pytest_asyncio.fixture(scope="module")
async def seeded(reporting: Reporting) -> Reporting:
    envelopes = [  # as the consumer reads them off the topic
        decode(
            encode(
                new_envelope(
                    received(code, month, a, i),
                    source="feedback-intake",
                    subject=code,
                    tenant=code,
                    correlation_id="console-tests",
                )
            ).value
        )
        for code, month, answers in FEEDBACK
        for i, a in enumerate(answers)
    ]
    async with reporting.app.state.sessions() as session, session.begin():
        await KEYED_HANDLERS["feedback.received.v1"](session, envelopes)
    return reporting


@pytest_asyncio.fixture(scope="module")
async def signed_in(browser: Any, console: Console, seeded: Reporting) -> AsyncIterator[dict[str, Any]]:
    """One signed-in page per demo user for the module (bypass_csp: axe is injected)."""
    contexts, pages = [], {}
    for username in ("icb-analyst", "place-officer"):
        context = await browser.new_context(bypass_csp=True, accept_downloads=True)
        page = await context.new_page()
        await sign_in(page, console, username, start="/reports")
        contexts.append(context)
        pages[username] = page
    yield pages
    for context in contexts:
        await context.close()


async def api_json(console: Console, path: str, organisation: str = "QZZ", **params: Any) -> Any:
    token = console.keys.issue(
        organisation=organisation,
        scopes=["reports:read"],
        issuer=console.reporting.state.settings.jwt_issuer,
        audience=console.reporting.state.settings.jwt_audience,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=console.reporting), base_url="http://r") as api:
        response = await api.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_analyst_sees_the_icbs_fft_table_as_the_api_gives_it_and_downloads_its_csv(
    signed_in: dict[str, Any], console: Console
) -> None:
    page = signed_in["icb-analyst"]
    await page.goto(console.url + "/reports")
    await check_page(page, "reports-index")
    await page.click("a:has-text('Friends and Family Test')")
    assert "/reports/fft" in page.url
    api = await api_json(console, "/v1/reports/fft/QZZ")
    root = api["rows"][0]
    await page.wait_for_load_state()
    cards = await page.locator(".hub-stat").all_inner_texts()
    assert cards, await page.inner_text("main")
    assert any("Responses" in c and str(root["total"]) in c for c in cards), cards
    assert any("% positive" in c and f"{root['pct_positive']}%" in c for c in cards), cards
    names = [n.strip() for n in await page.locator(".hub-org-table tbody th").all_inner_texts()]
    order = [n.split()[-1] for n in names]  # each name ends with its code
    assert order[0] == "QZZ" and order.index("01A") < order.index("P81001") < order.index("02B"), order
    table = await page.locator(".hub-org-table").inner_text()
    p81001 = next(r for r in api["rows"] if r["organisation_code"] == "P81001")
    assert p81001["total"] == 8 and str(p81001["pct_positive"]) + "%" in table
    await check_page(page, "reports-fft")

    async with page.expect_download() as download_info:
        await page.click("text=Download this report as CSV")
    download = await download_info.value
    content = await asyncio.to_thread(Path(await download.path()).read_text)
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows[0]["ICB Code"] == "QZZ" and rows[0]["Rule Set"] == "nhse-fft-v1"
    assert int(rows[0]["Total Responses"]) == root["total"]

    # Filters: one month and a practice, as the API gives them.
    await page.select_option("#organisation", "P81001")
    await page.select_option("#month", "2025-06")
    await page.click("button:has-text('Show')")
    await page.wait_for_load_state()
    cards = await page.locator(".hub-stat").all_inner_texts()
    assert any("Responses" in c and "6" in c for c in cards) and any("83%" in c for c in cards), cards
    # A malformed month in the address: the API's 422 as an error summary on the filters.
    await page.goto(console.url + "/reports/fft?month=June")
    summary = page.locator(".nhsuk-error-summary")
    assert await summary.count() == 1 and await summary.locator("a[href='#month']").count() == 1
    await check_page(page, "reports-fft-error")


async def test_the_place_officer_sees_their_place_and_is_refused_the_icbs(
    signed_in: dict[str, Any], console: Console
) -> None:
    page = signed_in["place-officer"]
    await page.goto(console.url + "/reports/fft")
    assert "Northvale Place (01A)" in await page.inner_text("main")
    codes = [n.split()[-1] for n in await page.locator(".hub-org-table tbody th").all_inner_texts()]
    assert codes[0] == "01A" and "P81001" in codes and "02B" not in codes and "P82001" not in codes
    response = await page.goto(console.url + "/reports/fft?organisation=QZZ")
    assert response.status == 403
    assert await page.inner_text("h1") == "You cannot see or change this"
    csv_response = await page.request.get(console.url + "/reports/fft.csv?organisation=QZZ")
    assert csv_response.status == 403
    for report in ("themes", "scorecard", "representativeness", "email-reach", "trend"):
        refused = await page.goto(console.url + f"/reports/{report}?organisation=02B")
        assert refused.status == 403, report


async def test_the_trend_marks_withheld_months_and_fits_a_phone(signed_in: dict[str, Any], console: Console) -> None:
    page = signed_in["icb-analyst"]
    await page.goto(console.url + "/reports/trend?organisation=P81001")
    chart = page.locator(".hub-chart svg")
    assert await chart.locator(".hub-chart__series--selected path").count() >= 1
    assert await chart.locator(".hub-chart__series--ics").count() == 1  # the ICS beside it
    assert await chart.locator(".hub-chart__withheld").count() >= 1  # July: 2 answers
    table = await page.locator(".hub-trend-table").inner_text()
    assert "July 2025" in table and "*" in table and "83%" in table
    await check_page(page, "reports-trend")
    label = await chart.locator(".hub-chart__label").first.bounding_box()  # at 390 px now
    assert label is not None and label["height"] >= 11, label
    await photograph(page.locator(".hub-chart"), "reports-trend-chart-390")
    trend = await api_json(console, "/v1/reports/fft/P81001/trend")
    download = await page.request.get(console.url + "/reports/trend.csv?organisation=P81001")
    rows = list(csv.DictReader(io.StringIO(await download.text())))
    assert [(r["Period"], r["Percentage Positive"]) for r in rows] == [
        (t["month"], str(t["pct_positive"])) for t in trend
    ]
    # The place officer may not see the ICB's trend: their chart has no ICS line, and no error.
    officer = signed_in["place-officer"]
    await officer.goto(console.url + "/reports/trend")
    assert await officer.locator(".hub-chart__series--ics").count() == 0
    assert await officer.locator(".hub-chart__series--selected").count() == 1


async def test_themes_scorecard_representativeness_and_email_reach_each_with_csv(
    signed_in: dict[str, Any], console: Console
) -> None:
    page = signed_in["place-officer"]
    themes = await api_json(console, "/v1/reports/themes/01A")
    for report, text in (
        ("themes", "Access"),
        ("scorecard", "Feedback received"),
        ("representativeness", "Representativeness score"),
        ("email-reach", "Invitations sent"),
    ):
        response = await page.goto(console.url + f"/reports/{report}")
        assert response.status == 200, report
        assert text in await page.inner_text("main"), report
        await check_page(page, f"reports-{report}")
        download = await page.request.get(console.url + f"/reports/{report}.csv?organisation=01A")
        assert download.status == 200 and download.headers["content-type"].startswith("text/csv"), report
        assert len(list(csv.reader(io.StringIO(await download.text())))) >= 2, report
    access = next(t for t in themes["themes"] if t["theme"] == "access")
    await page.goto(console.url + "/reports/themes")
    assert str(access["mentions"]) in await page.locator(".hub-themes-table").inner_text()


def test_the_line_chart_breaks_at_withheld_months_and_marks_them() -> None:
    months = ["2025-01", "2025-02", "2025-03", "2025-04"]
    points = [
        {"month": "2025-01", "pct_positive": 80},
        {"month": "2025-02", "pct_positive": "*"},
        {"month": "2025-03", "pct_positive": 90},
        {"month": "2025-04", "pct_positive": 100},
    ]
    chart = line_chart([{"label": "P", "css": "selected", "points": points}], months)
    [line] = chart["lines"]
    assert len(line["paths"]) == 2 and [w["month"] for w in line["withheld"]] == ["2025-02"]
    assert [t["label"] for t in chart["y_ticks"]] == ["0%", "25%", "50%", "75%", "100%"]
    top = next(p for p in line["points"] if p["value"] == 100)
    assert top["y"] == chart["top"] and chart["x_ticks"][0]["label"] == "Jan 25"


def test_practices_stay_under_their_place_when_sorted() -> None:
    rows: list[dict[str, Any]] = [
        {"organisation_code": "QZZ", "parent": None, "name": "ICB", "total": 30, "pct_positive": 80},
        {"organisation_code": "01A", "parent": "QZZ", "name": "North", "total": 10, "pct_positive": 70},
        {"organisation_code": "P1", "parent": "01A", "name": "Alpha", "total": 4, "pct_positive": "*"},
        {"organisation_code": "P2", "parent": "01A", "name": "Beta", "total": 6, "pct_positive": 90},
        {"organisation_code": "02B", "parent": "QZZ", "name": "South", "total": 20, "pct_positive": 85},
    ]
    by_total = [r["organisation_code"] for r in nested_rows(rows, "total", descending=True)]
    assert by_total == ["QZZ", "02B", "01A", "P2", "P1"]
    by_pct = [r["organisation_code"] for r in nested_rows(rows, "pct_positive", descending=False)]
    assert by_pct == ["QZZ", "01A", "P2", "P1", "02B"]  # withheld last
