"""A person's journey through membership's own pages in headless Chromium: join (with a
mistake first), confirm, choose, reply to an invitation, hear back, a tampered link, leave
and be forgotten. axe-core checks every page at 1280 and 390 px (photographed with
HUB_TEST_SCREENSHOTS=<folder>). Each step's event is checked on the real broker."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest

from hub_shared.console_testing import check_page, free_port, serve
from hub_shared.references import grouped
from membership.links import Purpose, links_from
from membership.main import create_app

from .conftest import Hub
from .test_membership import card, on_broker

pytestmark = pytest.mark.long(seconds=28)

EMAIL = "florence.page@example.org"


def local(url: str, base: str) -> str:
    """The emailed link, on the server under test."""
    parsed = urlparse(url)
    return f"{base}{parsed.path}?{parsed.query}"


async def test_a_person_joins_chooses_replies_hears_back_and_leaves_in_the_browser(hub: Hub, browser: Any) -> None:
    port = free_port()
    server, serving = await serve(create_app(hub.membership_settings), port)
    base = f"http://127.0.0.1:{port}"
    checked: list[str] = []
    context = await browser.new_context(java_script_enabled=False)  # the pages need none
    checker = await browser.new_page(bypass_csp=True)  # axe runs on a copy of each page here

    async def check(page: Any, name: str) -> None:
        await check_page(page, name, checker=checker)
        checked.append(name)

    try:
        page = await context.new_page()
        await page.goto(f"{base}/join")
        await check(page, "join")
        await page.fill("#name", "Florence Page")
        await page.fill("#email", "florence.page@")
        await page.click("button[type=submit]")
        assert "There is a problem" in await page.inner_text(".nhsuk-error-summary")
        summary = await page.inner_text(".nhsuk-error-summary")
        assert "email address in the correct format" in summary and "postcode" in summary.lower()
        assert "Tick the box to agree to be contacted" in summary
        await check(page, "join-errors")
        await page.fill("#email", EMAIL)
        await page.fill("#postcode", "LS2 9JT")
        await page.select_option("#practice_code", "P81002")
        await page.check("input[name=interests][value=ophthalmology]")
        await page.select_option("#age_band", "75_84")
        await page.select_option("#sex", "female")
        await page.check("input[name=consent_to_contact]")
        await page.click("button[type=submit]")
        assert "Check your email" in await page.inner_text("h1")
        await check(page, "check-your-email")

        confirm = await card(hub, EMAIL, "confirm_join")
        await page.goto(local(confirm["message"]["links"]["confirm"], base))
        await check(page, "confirm")
        await page.click("button[type=submit]")
        assert "You are a patient partner" in await page.inner_text("h1")
        await check(page, "confirmed")
        member_id = confirm["member_id"]
        await on_broker(hub, "member.confirmed.v1", member_id)

        await page.click("a.nhsuk-action-link, .nhsuk-action-link a")
        assert "Your preferences" in await page.inner_text("h1")
        await check(page, "preferences")
        await page.check("input[name=frequency][value=weekly]")
        await page.check("input[name=interests][value=dermatology]")
        await page.click("button[type=submit]")
        assert "saved" in (await page.inner_text("main")).lower()
        changed = await on_broker(hub, "member.preferences_changed.v1", member_id)
        assert changed[-1]["data"]["frequency"] == "weekly"
        preferences_url = page.url

        now = datetime.now(UTC)
        r = await hub.membership.post(
            "/v1/opportunities",
            headers=hub.token("P81002"),
            json={
                "organisation_code": "P81002",
                "kind": "seminar",
                "title": "Eye health evening",
                "description": "Hear from our eye clinic team and tell us what would help.",
                "starts_at": (now + timedelta(days=20)).isoformat(),
                "closes_at": (now + timedelta(days=10)).isoformat(),
                "location": "High Street Health Centre",
                "capacity": 30,
                "targeting": {"interests": ["ophthalmology"]},
            },
        )
        assert r.status_code == 201, r.text
        await on_broker(hub, "invitation.issued.v1", member_id)
        invitation = await card(hub, EMAIL, "invitation")
        await page.goto(local(invitation["message"]["links"]["reply"], base))
        await check(page, "reply")
        await page.check("input[name=answer][value=yes]")
        await page.click("button[type=submit]")
        assert "You have a place" in await page.inner_text("h1")
        await check(page, "replied")
        answered = await on_broker(hub, "invitation.answered.v1", member_id)
        assert answered[-1]["data"]["place"] == "booked"
        r = await hub.membership.post(
            f"/v1/opportunities/{r.json()['id']}/attendance",
            headers=hub.token("P81002"),
            json={"member_ids": [member_id]},
        )
        assert r.json() == {"recorded": 1}
        await on_broker(hub, "attendance.recorded.v1", member_id)

        # Hearing back without joining.
        await page.goto(f"{base}/hear-back")
        await check(page, "hear-back")
        await page.fill("#email", "visitor@example.org")
        await page.click("button[type=submit]")
        hear_back = await card(hub, "visitor@example.org", "confirm_hear_back")
        await page.goto(local(hear_back["message"]["links"]["confirm"], base))
        await page.click("button[type=submit]")
        assert grouped(hear_back["contact_token"]) == (await page.inner_text("#reference")).strip()
        assert hear_back["message"]["links"]["reference"] == grouped(hear_back["contact_token"])  # emailed too
        await check(page, "hear-back-confirmed")
        stop = links_from(hub.membership_settings).url(Purpose.HEAR_BACK_STOP, t=hear_back["contact_token"])
        await page.goto(local(stop, base))
        await check(page, "hear-back-stop")
        await page.click("button[type=submit]")
        assert "You will not hear back" in await page.inner_text("h1")
        await check(page, "hear-back-stopped")

        # A tampered link gets a clear page offering a fresh one.
        await page.goto(preferences_url.split("token=")[0] + "token=" + "x" * 40)
        assert "does not work" in await page.inner_text("h1")
        await check(page, "link-not-valid")
        await page.fill("#email", EMAIL)
        await page.click("button[type=submit]")
        fresh = await card(hub, EMAIL, "fresh_link")
        assert fresh["message"]["links"]["preferences"]

        # Leave, then be forgotten.
        await page.goto(preferences_url.replace("&saved=1", "").replace("/preferences?", "/preferences/leave?"))
        await check(page, "leave")
        await page.click("button[type=submit]")
        assert "You have left" in await page.inner_text("h1")
        await on_broker(hub, "member.left.v1", member_id)
        await page.goto(preferences_url.replace("&saved=1", "").replace("/preferences?", "/preferences/erase?"))
        await check(page, "erase")
        await page.click("button[type=submit]")
        assert "deleted" in await page.inner_text("h1")
        await check(page, "erased")
        erased = await on_broker(hub, "member.erased.v1", member_id)
        assert json.dumps(erased).count(member_id) >= 1
    finally:
        await context.close()
        await checker.close()
        server.should_exit = True
        await serving
    assert len(checked) == 16
