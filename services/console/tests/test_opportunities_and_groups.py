"""Opportunities and groups through the console, in Chromium, signed in through the real
provider, against membership's real API in-process (its own SQLite store; its events and
emails wait in its outbox, where these tests look for them): a place officer checks who an
opportunity would invite, sends it, follows the replies and records attendance; a practice
manager creates their PPG and imports a list with a bad row; and is refused another
practice's group and another organisation's opportunity."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

import membership.main as membership_main
from hub_shared.auth import SCOPES, DevKeys
from hub_shared.console_testing import check_page
from hub_shared.events import MemberContactV2
from hub_shared.sealing import ContactKeys
from hub_shared.testing import migrated
from hub_shared.topics import MEMBERSHIP_CONTACTS, MEMBERSHIP_EVENTS
from membership.models import OutboxMessage
from membership.settings import MembershipSettings

from .conftest import Console, Provider, Reporting, idp, needs_chromium, running_console, sign_in

pytestmark = [needs_chromium, pytest.mark.long(seconds=45)]


@dataclass
class Membership:
    app: Any
    client: httpx.AsyncClient
    keys: DevKeys
    settings: MembershipSettings

    def auth(self, org: str) -> dict[str, str]:
        token = self.keys.issue(
            organisation=org, scopes=list(SCOPES), issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience
        )
        return {"Authorization": f"Bearer {token}"}

    async def staged(self, topic: str = MEMBERSHIP_EVENTS.name) -> list[dict[str, Any]]:
        async with self.app.state.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.seq)
                )
            ).all()
        return [json.loads(r.payload) for r in rows if r.payload]

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in await self.staged() if e["type"] == event_type]

    async def cards(self, email: str) -> list[dict[str, Any]]:
        """The contact cards staged for this address, opened with keys from membership."""
        keys = ContactKeys(
            "http://membership", self.app.state.contact_key_links, transport=httpx.ASGITransport(app=self.app)
        )
        staged = [MemberContactV2.model_validate(c["data"]) for c in await self.staged(MEMBERSHIP_CONTACTS.name)]
        opened = [await keys.open(card) for card in staged]
        return [d.model_dump(mode="json") for d in opened if d is not None and d.email == email]

    async def member(self, email: str, practice: str, **extra: Any) -> str:
        """Joins and confirms by the emailed link, as a person does; returns the member id."""
        body = {
            "name": "Test Person",
            "email": email,
            "postcode": "LS1 4AP",
            "practice_code": practice,
            "consent_to_contact": True,
            **extra,
        }
        assert (await self.client.post("/v1/join", json=body)).status_code == 202
        link = (await self.cards(email))[-1]["message"]["links"]["confirm"]
        r = await self.client.post("/v1/confirm", json={"token": token_of(link)})
        assert r.status_code == 200, r.text
        return str(r.json()["member_id"])


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


@pytest_asyncio.fixture(scope="module")
async def membership(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Membership]:
    tmp: Path = tmp_path_factory.mktemp("membership")
    keys = DevKeys(tmp / "keys").ensure()
    settings = MembershipSettings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'membership.db'}",
        jwks_path=keys.jwks_path,
        identity_provider=idp(provider),
        public_response_floor_ms=0,
    )
    migrated(membership_main.MIGRATIONS, settings.database_url)
    app = membership_main.create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://membership") as client:
        yield Membership(app=app, client=client, keys=keys, settings=settings)
    await app.state.engine.dispose()


@pytest_asyncio.fixture(scope="module")
async def console(
    provider: Provider, reporting: Reporting, membership: Membership, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with running_console(
        provider,
        reporting,
        tmp_path_factory.mktemp("console"),
        transports={"membership": httpx.ASGITransport(app=membership.app)},
    ) as running:
        yield running


async def signed_in(browser: Any, console: Console, username: str, start: str) -> tuple[Any, Any]:
    context = await browser.new_context(bypass_csp=True)  # axe is injected into the page
    page = await context.new_page()
    await sign_in(page, console, username, start=start)
    return context, page


async def test_place_officer_checks_sends_follows_replies_and_records_attendance(
    browser: Any, console: Console, membership: Membership
) -> None:
    ada = await membership.member(
        "ada@example.org",
        "P81001",
        interests=["musculoskeletal"],
        demographics={"age_band": "25_34", "sex": "female", "ethnic_group": "white_british"},
    )
    bo = await membership.member(
        "bo@example.org",
        "P81002",
        interests=["musculoskeletal"],
        demographics={"age_band": "65_74", "sex": "male", "ethnic_group": "asian_indian"},
    )
    await membership.member("cy@example.org", "P81001", interests=["dermatology"])
    await membership.member("di@example.org", "P82001", interests=["musculoskeletal"])  # another place

    context, page = await signed_in(browser, console, "place-officer", "/opportunities")
    assert await page.inner_text("h1") == "Opportunities"
    assert "No opportunities yet" in await page.inner_text("main")
    await page.click("text=Create an opportunity")

    # Nothing filled in: every field the API (and the form) names is in the error summary.
    await page.click("button:has-text('Check who would be invited')")
    summary = await page.inner_text(".nhsuk-error-summary")
    for expected in (
        "Kind: Choose the kind of opportunity",
        "Title: Enter a title",
        "Description: Enter a description",
        "Date it starts: Enter the date it starts",
        "Time it starts",
        "Replies close",
        "Who to invite: name at least one target",
    ):
        assert expected in summary, summary
    assert await page.title() == "Error: Create an opportunity – ICS Engagement Hub"
    await check_page(page, "opportunity-errors")

    starts = date.today() + timedelta(days=30)
    await page.select_option("#kind", "workshop")
    await page.fill("#title", "Redesigning MSK physiotherapy")
    await page.fill("#description", "Help us shape the new service.")
    await page.fill("#starts_at", starts.isoformat())
    await page.fill("#starts_at_time", "18:30")
    await page.fill("#closes_at", (starts + timedelta(days=2)).isoformat())  # after it starts: refused
    await page.fill("#location", "Northvale Community Centre")
    await page.fill("#capacity", "1")
    await page.check("input[name=interests][value=musculoskeletal]")
    await page.click("button:has-text('Check who would be invited')")
    summary = await page.inner_text(".nhsuk-error-summary")
    assert "Replies close: replies must close before it starts" in summary, summary
    await page.click(".nhsuk-error-summary a")
    assert await page.evaluate("document.activeElement.id") == "closes_at"
    assert await page.input_value("#title") == "Redesigning MSK physiotherapy"  # what was typed stays

    await page.fill("#closes_at", (starts - timedelta(days=7)).isoformat())
    await page.click("button:has-text('Check who would be invited')")
    assert await page.inner_text("h1") == "Check before sending"
    assert await page.inner_text("#invited-count") == "2 people"
    main = await page.inner_text("main")
    assert "25 to 34" in main and "65 to 74" in main and "Asian or Asian British: Indian" in main
    assert "ada@example.org" not in main and "Test Person" not in main
    assert await membership.events("invitation.issued.v1") == []  # nothing sent yet
    await check_page(page, "opportunity-check")

    await page.click("button:has-text('Send invitations')")
    assert "Sent: 2 invited to 'Redesigning MSK physiotherapy'." in await page.inner_text(".nhsuk-notification-banner")
    issued = await membership.events("invitation.issued.v1")
    assert sorted(e["data"]["member_id"] for e in issued) == sorted([ada, bo])
    invitation = (await membership.cards("ada@example.org"))[-1]["message"]
    assert invitation["kind"] == "invitation" and "reply" in invitation["links"]
    opportunity_url = page.url

    # Replies come in by the emailed links: one place, so the second yes waits.
    for email in ("ada@example.org", "bo@example.org"):
        link = (await membership.cards(email))[-1]["message"]["links"]["reply"]
        r = await membership.client.post("/v1/invitations/reply", json={"token": token_of(link), "answer": "yes"})
        assert r.status_code == 200, r.text
    await page.goto(opportunity_url)
    main = await page.inner_text("main")
    assert "Booked\n1 of 1" in main and "Waiting list\n1" in main, main
    # Times as every page and email writes them (NHS.UK style), not a 24-hour clock.
    assert f"{starts:%A} {starts.day} {starts:%B %Y} at 6:30pm" in main and "18:30" not in main, main
    await page.click("a:has-text('Waiting list')")
    assert bo[:8] in await page.inner_text("table") and ada[:8] not in await page.inner_text("table")
    await page.click("a:has-text('Booked')")
    await check_page(page, "opportunity-detail")

    # Nobody ticked: the error summary says so; then record Ada as attended.
    await page.click("button:has-text('Record attendance')")
    assert "Select who attended" in await page.inner_text(".nhsuk-error-summary")
    await page.check(f"#attended-{ada}")
    await page.click("button:has-text('Record attendance')")
    assert "Attendance recorded for 1 more." in await page.inner_text(".nhsuk-notification-banner")
    attended = await membership.events("attendance.recorded.v1")
    assert [e["data"]["member_id"] for e in attended] == [ada]
    assert attended[0]["data"]["bands"]["age_band"] == "25_34"
    await page.goto(console.url + "/opportunities")
    assert "Redesigning MSK physiotherapy" in await page.inner_text("table")
    await check_page(page, "opportunities")
    await context.close()


CSV = (
    "name,email,phone,postcode,practice_code,consent_basis,role\n"
    "Ann Chair,ann@example.org,,LS1 4AP,P81001,Signed PPG form 2026,chair\n"
    "Bad Email,not-an-email,,LS1 4AP,P81001,Signed PPG form 2026,member\n"
    "Cal Member,cal@example.org,,LS1 4AP,P81001,Signed PPG form 2026,\n"
)


async def test_practice_manager_creates_their_ppg_and_imports_a_list_with_a_bad_row(
    browser: Any, console: Console, membership: Membership, tmp_path: Path
) -> None:
    context, page = await signed_in(browser, console, "practice-manager", "/groups")
    await page.click("text=Create a group")
    await page.click("button:has-text('Create group')")
    assert "Kind" in await page.inner_text(".nhsuk-error-summary")
    await check_page(page, "group-new-errors")
    await page.check("input[name=kind][value=ppg]")
    await page.fill("#name", "Church Street PPG")
    await page.click("button:has-text('Create group')")
    assert await page.inner_text("h1") == "Church Street PPG"

    await page.click("text=Import a list of members")
    await page.click("button:has-text('Import')")
    assert "Select a CSV file" in await page.inner_text(".nhsuk-error-summary")
    upload = tmp_path / "ppg.csv"
    upload.write_text(CSV)
    await page.set_input_files("#file", str(upload))
    await page.click("button:has-text('Import')")
    assert await page.inner_text("#import-result") == "2 imported, 1 rejected"
    rows = await page.locator("table tbody tr").all_inner_texts()
    assert len(rows) == 3
    assert "Rejected" in rows[1] and "Email" in rows[1] and "3" in rows[1], rows
    assert "Imported" in rows[0] and "Imported" in rows[2]
    assert "not-an-email" not in await page.inner_text("main")
    await check_page(page, "group-import-report")
    await page.click("a:has-text('Rejected rows')")
    assert len(await page.locator("table tbody tr").all_inner_texts()) == 1
    welcomes = await membership.cards("ann@example.org")
    assert welcomes[-1]["message"]["kind"] == "welcome_imported"
    # They join the PPG when they accept the welcome from their email.
    for email in ("ann@example.org", "cal@example.org"):
        link = (await membership.cards(email))[-1]["message"]["links"]["confirm"]
        assert (await membership.client.post("/v1/welcome", json={"token": token_of(link)})).status_code == 200

    await page.click("a.nhsuk-back-link")
    table = await page.inner_text("table")
    assert table.count("P81001") == 2 and "Chair" in table
    await check_page(page, "group-members")
    # Cal becomes the group's clinician.
    await page.locator("details.app-member-actions summary").nth(1).click()
    await page.locator("details.app-member-actions select").nth(1).select_option("clinician")
    await page.locator("details.app-member-actions button:has-text('Change role')").nth(1).click()
    assert "Role changed." in await page.inner_text(".nhsuk-notification-banner")
    assert "Clinician" in await page.inner_text("table")
    await page.goto(console.url + "/groups")
    await check_page(page, "groups")
    await context.close()


async def test_practice_manager_is_refused_other_organisations_groups_and_opportunities(
    browser: Any, console: Console, membership: Membership
) -> None:
    m = membership

    async def group(org: str, **body: Any) -> str:
        r = await m.client.post("/v1/groups", json={"organisation_code": org, **body}, headers=m.auth(org))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    other_ppg = await group("P81002", kind="ppg", name="High Street PPG")
    place_group = await group("01A", kind="coproduction", name="Northvale MSK group", service_area="musculoskeletal")
    starts = date.today() + timedelta(days=20)
    r = await m.client.post(
        "/v1/opportunities",
        headers=m.auth("02B"),
        json={
            "organisation_code": "02B",
            "kind": "seminar",
            "title": "Riverside seminar",
            "description": "For Riverside.",
            "online": True,
            "starts_at": f"{starts.isoformat()}T18:00:00Z",
            "closes_at": f"{(starts - timedelta(days=5)).isoformat()}T00:00:00Z",
            "targeting": {"interests": ["maternity"]},
        },
    )
    assert r.status_code == 201, r.text
    riverside = r.json()["id"]

    context, page = await signed_in(browser, console, "practice-manager", f"/groups/{other_ppg}")
    assert await page.inner_text("h1") == "Page not found"  # another practice's PPG: the API's 404
    assert "High Street PPG" not in await page.content()
    await page.goto(f"{console.url}/opportunities/{riverside}")
    assert await page.inner_text("h1") == "Page not found"
    assert "Riverside seminar" not in await page.content()
    await page.goto(console.url + "/opportunities")
    assert "Riverside seminar" not in await page.inner_text("main")
    # The place's co-production group is visible to the practice but not theirs to change.
    await page.goto(f"{console.url}/groups/{place_group}/import")
    await page.set_input_files("#file", files=[{"name": "ppg.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    await page.click("button:has-text('Import')")
    assert await page.inner_text("h1") == "You cannot see or change this"
    assert "01A manages this group" in await page.inner_text("main")
    await check_page(page, "group-refused")
    await context.close()


async def test_place_officer_changes_then_cancels_an_opportunity_and_those_who_said_yes_are_emailed(
    browser: Any, console: Console, membership: Membership
) -> None:
    m = membership
    eve = await m.member("eve@example.org", "P81001", interests=["mental_health"])
    fay = await m.member("fay@example.org", "P81002", interests=["mental_health"])
    starts = date.today() + timedelta(days=25)
    r = await m.client.post(
        "/v1/opportunities",
        headers=m.auth("01A"),
        json={
            "organisation_code": "01A",
            "kind": "workshop",
            "title": "Breathing easier",
            "description": "Help us redesign the respiratory clinic.",
            "location": "Northvale Community Centre",
            "capacity": 1,
            "starts_at": f"{starts.isoformat()}T17:30:00Z",
            "closes_at": f"{(starts - timedelta(days=5)).isoformat()}T00:00:00Z",
            "targeting": {"interests": ["mental_health"]},
        },
    )
    assert r.status_code == 201, r.text
    opportunity = r.json()["id"]
    for email in ("eve@example.org", "fay@example.org"):  # one booked, one waiting
        link = (await m.cards(email))[-1]["message"]["links"]["reply"]
        r = await m.client.post("/v1/invitations/reply", json={"token": token_of(link), "answer": "yes"})
        assert r.status_code == 200, r.text

    context, page = await signed_in(browser, console, "place-officer", f"/opportunities/{opportunity}")
    await page.click("a:has-text('Change')")
    assert await page.inner_text("h1") == "Change Breathing easier"
    assert await page.input_value("#title") == "Breathing easier"  # prefilled with what it is now
    assert await page.input_value("#location") == "Northvale Community Centre"
    # A field the form cannot read and one the API refuses: both in the error summary.
    await page.fill("#title", "")
    await page.fill("#closes_at", (starts + timedelta(days=1)).isoformat())
    await page.click("button:has-text('Check the change')")
    summary = await page.inner_text(".nhsuk-error-summary")
    assert "Title: Enter a title" in summary and "Replies close: replies must close before it starts" in summary
    assert await m.events("opportunity.changed.v1") == []

    await page.fill("#title", "Breathing easier: the respiratory clinic")
    await page.fill("#closes_at", (starts - timedelta(days=3)).isoformat())
    await page.fill("#starts_at_time", "19:00")
    await page.click("button:has-text('Check the change')")
    assert await page.inner_text("h1") == "Check the change"
    assert await page.inner_text("#emailed-count") == "2 people"
    assert await m.events("opportunity.changed.v1") == []  # nothing saved or sent yet
    await check_page(page, "opportunity-change-check")
    await page.click("button:has-text('Save the change and email them')")
    assert "Changed. 2 people emailed the new details." in await page.inner_text(".nhsuk-notification-banner")
    assert await page.inner_text("h1") == "Breathing easier: the respiratory clinic"
    changed = (await m.events("opportunity.changed.v1"))[0]["data"]
    assert changed["changed"] == ["title", "starts_at", "closes_at"]
    for email in ("eve@example.org", "fay@example.org"):
        message = (await m.cards(email))[-1]["message"]
        assert message["kind"] == "opportunity_changed" and "reply" in message["links"]

    await page.click("a:has-text('Cancel')")
    await page.click("button:has-text('Continue')")
    assert "Enter why it is cancelled" in await page.inner_text(".nhsuk-error-summary")
    reason = "The clinic has moved; we will invite you again in the spring."
    await page.fill("#reason", reason)
    await page.click("button:has-text('Continue')")
    assert await page.inner_text("h1") == "Check before cancelling"
    assert await page.inner_text("#emailed-count") == "2 people"
    assert "1 booked and 1 on the waiting list" in await page.inner_text("main")
    await check_page(page, "opportunity-cancel-check")
    await page.click("button:has-text('Cancel it and email them')")
    assert "Cancelled. 2 people emailed the reason." in await page.inner_text(".nhsuk-notification-banner")
    main = await page.inner_text("main")
    assert reason in main and "Cancelled on" in main
    assert await page.locator("a:has-text('Change')").count() == 0  # nothing more to change
    cancelled = (await m.events("opportunity.cancelled.v1"))[0]["data"]
    assert (cancelled["opportunity_id"], cancelled["reason"]) == (opportunity, reason)
    for member, email in ((eve, "eve@example.org"), (fay, "fay@example.org")):
        message = (await m.cards(email))[-1]["message"]
        assert message["kind"] == "opportunity_cancelled" and member
    await context.close()
