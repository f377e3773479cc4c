"""The Feedback area in Chromium, signed in through the real provider, against intake's real
API in-process (its own SQLite store; events wait in its outbox, where the test reads them).

The place officer filters feedback and pages through it, decides on an item in the triage
queue (a missing decision shows the error summary), writes a "you said, we did" response to
feedback whose contributor asked to hear back and moves it on (each a feedback.responded event
staged in intake's outbox). The practice manager is refused another practice's feedback. Every
page is checked with axe-core at 1280 and 390 px (hub_shared.console_testing.check_page)."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

import feedback_intake.main as intake_main
from feedback_intake.models import OutboxMessage
from feedback_intake.settings import IntakeSettings
from hub_shared.auth import DevKeys
from hub_shared.console_testing import check_page
from hub_shared.events import decode
from hub_shared.testing import migrated

from .conftest import Console, Provider, Reporting, idp, needs_chromium, running_console, sign_in

pytestmark = [needs_chromium, pytest.mark.long(seconds=28)]

MEMBER = uuid.uuid4()
KIND = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "online_comment",
    "fft_answer": "very_good",
    "text": "Reception were kind and I was seen the same day. Call me on 07700 900123.",
    "occurred_at": "2026-10-05T09:30:00Z",
    "hear_back": {"member_id": str(MEMBER)},
}
COMPLAINT = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "online_comment",
    "fft_answer": "very_poor",
    "text": "I want to make a formal complaint about how my mother was spoken to.",
    "occurred_at": "2026-10-06T10:00:00Z",
}
ELSEWHERE = {
    "organisation_code": "P81002",
    "service_area": "musculoskeletal",
    "channel": "ppg_meeting",
    "text": "The physio waiting list is too long.",
    "occurred_at": "2026-09-10T18:00:00Z",
}


@dataclass
class Intake:
    app: Any
    ids: dict[str, str]

    async def outbox(self, event_type: str) -> list[Any]:
        async with self.app.state.sessions() as session:
            rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == event_type))).all()
        return [decode(r.payload.encode()) for r in rows]


@pytest_asyncio.fixture(scope="module")
async def intake(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Intake]:
    """Intake's real API (SQLite), trusting the provider; seeded by machine clients' tokens."""
    tmp = tmp_path_factory.mktemp("intake")
    keys = DevKeys(tmp / "keys").ensure()
    settings = IntakeSettings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'intake.db'}",
        HUB_JWKS_PATH=keys.jwks_path,
        identity_provider=idp(provider),
    )
    migrated(intake_main.MIGRATIONS, settings.database_url)
    app = intake_main.create_app(settings)

    def bearer(org: str) -> dict[str, str]:
        token = keys.issue(
            organisation=org,
            scopes=["feedback:write"],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        return {"Authorization": f"Bearer {token}"}

    ids: dict[str, str] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as api:
        paper = [
            {**KIND, "channel": "fft_paper", "text": f"Paper card {n}", "hear_back": None, "client_reference": f"c{n}"}
            for n in range(25)
        ]
        batch = await api.post("/v1/feedback/batch", json={"items": paper}, headers=bearer("P81001"))
        assert batch.json()["accepted"] == 25, batch.text
        for name, body in (("kind", KIND), ("complaint", COMPLAINT), ("elsewhere", ELSEWHERE)):
            posted = await api.post("/v1/feedback", json=body, headers=bearer(body["organisation_code"]))
            assert posted.status_code == 201, posted.text
            ids[name] = posted.json()["id"]
    yield Intake(app=app, ids=ids)
    await app.state.engine.dispose()


@pytest_asyncio.fixture(scope="module")
async def feedback_console(
    provider: Provider, reporting: Reporting, intake: Intake, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    transports: dict[str, httpx.AsyncBaseTransport] = {"intake": httpx.ASGITransport(app=intake.app)}
    async with running_console(provider, reporting, tmp_path_factory.mktemp("console"), transports) as console:
        yield console


@pytest_asyncio.fixture(scope="module")
async def officer(browser: Any, feedback_console: Console) -> AsyncIterator[Any]:
    """The place officer's one signed-in page for the module's journeys."""
    context = await browser.new_context(bypass_csp=True)  # axe is injected into the pages
    page = await context.new_page()
    await sign_in(page, feedback_console, "place-officer", start="/feedback")
    yield page
    await context.close()


async def test_the_place_officer_filters_feedback_and_pages_through_it(
    browser: Any, feedback_console: Console, intake: Intake, officer: Any
) -> None:
    page = officer
    await page.goto(feedback_console.url + "/feedback")
    main = await page.inner_text("main")
    assert "Reception were kind" in main and "The physio waiting list" in main  # its practices' feedback
    assert "07700" not in main  # scrubbed at intake
    assert "formal complaint" not in main and "Text held until it is reviewed" in main
    await check_page(page, "feedback-list")

    await page.select_option("#organisation_code", "P81001")
    await page.select_option("#channel", "fft_paper")
    await page.fill("#occurred_from-day", "1")
    await page.fill("#occurred_from-month", "10")
    await page.fill("#occurred_from-year", "2026")
    await page.fill("#occurred_to-day", "5")
    await page.fill("#occurred_to-month", "10")
    await page.fill("#occurred_to-year", "2026")
    await page.click("button:has-text('Apply filters')")
    cards = page.locator("main li.nhsuk-card")
    assert await cards.count() == 20
    assert "Paper card" in await cards.first.inner_text()
    assert "physio" not in await page.inner_text("main")
    await page.click("a:has-text('Next')")
    assert await cards.count() == 5  # 25 on paper that day (the 5th is included)
    assert "channel=fft_paper" in page.url
    await page.click("a:has-text('Previous')")
    assert await cards.count() == 20

    await page.select_option("#service_area", "musculoskeletal")
    await page.select_option("#organisation_code", "")
    await page.select_option("#channel", "")
    for part in ("day", "month", "year"):
        await page.fill(f"#occurred_from-{part}", "")
        await page.fill(f"#occurred_to-{part}", "")
    await page.click("button:has-text('Apply filters')")
    assert await cards.count() == 1 and "physio" in await cards.first.inner_text()

    # A date the API cannot read: its field error, in NHS.UK's error summary.
    await page.fill("#occurred_from-day", "31")
    await page.fill("#occurred_from-month", "13")
    await page.fill("#occurred_from-year", "2026")
    await page.click("button:has-text('Apply filters')")
    summary = page.locator(".nhsuk-error-summary")
    assert "From" in await summary.inner_text()
    assert await page.get_attribute(".nhsuk-error-summary a", "href") == "#occurred_from-day"

    await page.goto(feedback_console.url + f"/feedback/{intake.ids['kind']}")
    main = await page.inner_text("main")
    assert "Yes: they will be told" in main and str(MEMBER) not in main
    await check_page(page, "feedback-item")


async def test_the_place_officer_decides_on_flagged_feedback(
    browser: Any, feedback_console: Console, intake: Intake, officer: Any
) -> None:
    page = officer
    await page.goto(feedback_console.url + "/feedback/triage")
    main = await page.inner_text("main")
    assert "formal complaint" in main and "Possible complaint" in main and "1 item is waiting" in main
    await check_page(page, "feedback-triage")
    await page.click("main a:has-text('Decide')")
    assert page.url.endswith(f"/feedback/triage/{intake.ids['complaint']}")

    await page.click("button:has-text('Record decision')")  # no decision chosen
    summary = page.locator(".nhsuk-error-summary")
    assert "Select your decision on this feedback" in await summary.inner_text()
    assert await page.get_attribute(".nhsuk-error-summary a", "href") == "#decision"
    assert (await page.title()).startswith("Error: ")
    await check_page(page, "feedback-decide-error")
    assert await intake.outbox("feedback.reviewed.v1") == []

    await page.check("input[name=decision][value=complaint_referral]")
    await page.click("button:has-text('Record decision')")
    assert "/feedback/triage?" in page.url
    main = await page.inner_text("main")
    assert "Decision recorded: Referred as a complaint" in main and "Nothing is waiting for review" in main
    [event] = await intake.outbox("feedback.reviewed.v1")
    assert event.data.decision == "complaint_referral" and event.data.reviewed_by == "01A"

    # Decided already: the page says so, and the API would refuse a second decision.
    await page.goto(feedback_console.url + f"/feedback/triage/{intake.ids['complaint']}")
    assert "Already decided" in await page.inner_text("main")


async def test_the_place_officer_writes_a_response_and_moves_it_on(
    browser: Any, feedback_console: Console, intake: Intake, officer: Any
) -> None:
    page = officer
    await page.goto(feedback_console.url + "/feedback?organisation_code=P81001&channel=online_comment")
    await page.check(f"#answer-{intake.ids['kind']}")
    await page.click("button:has-text('Write a response to the selected feedback')")
    assert "/feedback/responses/new?submission=" in page.url
    assert await page.is_checked(f"input[name=submission_ids][value='{intake.ids['kind']}']")

    await page.click("button:has-text('Publish response')")  # nothing filled in
    summary = await page.locator(".nhsuk-error-summary").inner_text()
    assert "Enter what patients said" in summary and "Enter what changed" in summary
    assert "Select where the change stands" in summary
    await check_page(page, "feedback-respond-error")
    assert await page.is_checked(f"input[name=submission_ids][value='{intake.ids['kind']}']")  # kept

    await page.select_option("#organisation_code", "01A")
    await page.fill("#theme", "reception and booking")
    await page.fill("#you_said", "Reception were kind and you were seen the same day.")
    await page.fill("#we_did", "We are keeping same-day appointments and thanked the reception team.")
    await page.check("input[name=status][value=in_progress]")
    await page.fill("#change_due-day", "31")
    await page.fill("#change_due-month", "1")
    await page.fill("#change_due-year", "2027")
    await page.click("button:has-text('Publish response')")
    assert "/feedback/responses/" in page.url and "published=1" in page.url
    main = await page.inner_text("main")
    assert "Response published" in main and "1 person who asked to hear back will be told" in main
    assert str(MEMBER) not in await page.content()
    await check_page(page, "feedback-response")
    [created] = await intake.outbox("feedback.responded.v1")
    assert created.data.notify_member_ids == [MEMBER] and created.data.status == "in_progress"
    assert [str(i) for i in created.data.submission_ids] == [intake.ids["kind"]]

    # Moving it on to done needs the date it changed: the API says so, the page shows it.
    await page.check("input[name=status][value=done]")
    await page.click("button:has-text('Save and tell those hearing back')")
    summary = await page.locator(".nhsuk-error-summary").inner_text()
    assert "Date changed" in summary
    assert await page.get_attribute(".nhsuk-error-summary a", "href") == "#changed_at-day"
    await page.check("input[name=status][value=done]")
    await page.fill("#changed_at-day", "1")
    await page.fill("#changed_at-month", "12")
    await page.fill("#changed_at-year", "2026")
    await page.click("button:has-text('Save and tell those hearing back')")
    assert "moved=1" in page.url
    main = await page.inner_text("main")
    assert "Response moved on: Done" in main and "1 December 2026" in main
    events = await intake.outbox("feedback.responded.v1")
    assert sorted(e.data.status for e in events) == ["done", "in_progress"]
    assert {e.subject for e in events} == {str(created.data.response_id)}

    await page.goto(feedback_console.url + "/feedback/responses")
    main = await page.inner_text("main")
    assert "Reception were kind and you were seen" in main and "Done" in main
    await check_page(page, "feedback-responses")


async def test_the_practice_manager_is_refused_another_practices_feedback(
    browser: Any, feedback_console: Console, intake: Intake, tmp_path: Path
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, feedback_console, "practice-manager", start="/feedback")
    main = await page.inner_text("main")
    assert "Reception were kind" in main and "physio" not in main  # its own only
    response = await page.goto(feedback_console.url + f"/feedback/{intake.ids['elsewhere']}")
    assert response is not None and response.status == 404
    assert await page.inner_text("h1") == "Page not found"
    assert "physio" not in await page.inner_text("main")
    response = await page.goto(feedback_console.url + "/feedback?organisation_code=P81002")
    assert response is not None and response.status == 403
    assert await page.inner_text("h1") == "You cannot see or change this"
    response = await page.goto(feedback_console.url + f"/feedback/triage/{intake.ids['elsewhere']}")
    assert response is not None and response.status == 404
    await context.close()


async def test_a_response_with_a_nul_character_is_refused_naming_the_field(
    feedback_console: Console, intake: Intake, officer: Any
) -> None:
    page = officer
    before = len(await intake.outbox("feedback.responded.v1"))
    await page.goto(feedback_console.url + f"/feedback/responses/new?submission={intake.ids['kind']}")
    await page.select_option("#organisation_code", "01A")
    await page.fill("#you_said", "Reception were\x00 kind.")
    await page.fill("#we_did", "We thanked them.")
    await page.check("input[name=status][value=planned]")
    await page.click("button:has-text('Publish response')")
    summary = await page.locator(".nhsuk-error-summary").inner_text()
    assert "You said" in summary and "control characters" in summary
    assert await page.get_attribute(".nhsuk-error-summary a", "href") == "#you_said"
    assert len(await intake.outbox("feedback.responded.v1")) == before
