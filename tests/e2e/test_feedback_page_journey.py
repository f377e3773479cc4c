"""A person scans a practice's poster on a phone, gives feedback, asks to hear back, confirms
by email and, once the practice answers, receives the update: in headless Chromium at a
390 px phone's width, on the whole hub (the real broker, PostgreSQL, and the emails read
from the SMTP server). The feedback goes from membership's page through intake's ingress
(scrubbed, triaged, counted as online FFT) and the "you said, we did" loop. axe-core checks
every page at 1280 and 390 px, none scrolls sideways (hub_shared.console_testing.check_page)."""

import re
import time
from typing import Any

import pytest
import segno

from hub_shared.console_testing import check_page, free_port, serve
from hub_shared.references import canonical
from hub_shared.testing import eventually
from membership.main import create_app

from .conftest import Hub
from .test_membership_pages import local
from .test_notification import link, mail, parts

pytestmark = pytest.mark.long(seconds=20)

PHONE = {"width": 390, "height": 844}


async def feedback_of(hub: Hub, words: str) -> dict[str, Any]:
    """The practice's own view of the item, once intake has it (GET /v1/feedback)."""
    found: list[dict[str, Any]] = []

    async def stored() -> bool:
        r = await hub.intake.get(
            "/v1/feedback", params={"organisation_code": "P81003", "channel": "fft_online"}, headers=hub.token("P81003")
        )
        found[:] = [i for i in r.json()["items"] if words in (i["text"] or "")]
        return bool(found)

    await eventually(stored, timeout=60, what="the page's feedback in intake")
    return found[0]


async def test_a_person_scans_the_poster_gives_feedback_hears_back_and_gets_the_update(hub: Hub, browser: Any) -> None:
    assert hub.smtp is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = hub.membership_settings.model_copy(update={"public_base_url": base})
    server, serving = await serve(create_app(settings), port)
    address = f"ravi.{int(time.time() * 1000)}@example.org"
    checked: list[str] = []
    phone = await browser.new_context(java_script_enabled=False, viewport=PHONE, is_mobile=True)
    checker = await browser.new_page(bypass_csp=True)  # axe runs on a copy of each page here

    async def check(page: Any, name: str) -> None:
        """axe-core and the width at desktop and phone widths; and nothing sideways on the phone."""
        await check_page(page, name, checker=checker)
        assert not await page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), name
        checked.append(name)

    try:
        before = await hub.applied("P81003")
        page = await phone.new_page()

        # The poster, as printed: its QR code is the page's short address.
        await page.goto(f"{base}/poster/P81003")
        await check(page, "poster")
        short = await page.get_attribute(".poster-address a", "href")
        assert short == f"{base}/f/P81003"
        svg = await page.inner_html(".poster")
        modules = re.search(r' d="([^"]+)"', segno.make(short, error="m").svg_inline(scale=1, omitsize=True))
        assert modules is not None and modules.group(1) in svg  # what a phone's camera reads: that address
        printed = await page.pdf(format="A4", print_background=True)
        assert len(re.findall(rb"/Type\s*/Page\b", printed)) == 1, "the poster prints on one A4 page"

        # Scanned: the page, on the phone. A first try without an answer gets the error summary.
        await page.goto(short)
        assert "Overall, how was your experience of our service?" in await page.inner_text("main")
        await check(page, "feedback")
        await page.check("input[name=hear_back]")
        await page.click("button[type=submit]")
        summary = await page.inner_text(".nhsuk-error-summary")
        assert "Select how your experience of our service was overall" in summary
        assert "Enter your email address to hear what changes" in summary
        await check(page, "feedback-errors")

        await page.check("input[name=fft_answer][value=poor]")
        await page.fill("#text", "Call me on 07700 900456: the wait for a call back was two days.")
        await page.select_option("#age_band", "prefer_not_to_say")
        await page.select_option("#sex", "female")
        await page.fill("#email", address)
        await page.click("button[type=submit]")
        assert "Thank you for your feedback" in await page.inner_text("h1")
        shown = (await page.inner_text("#reference")).strip()
        reference = canonical(shown)
        assert "text message" in await page.inner_text("main")  # where else to give it
        await check(page, "feedback-thanks")

        # The confirmation email, from the SMTP server: the link, and the reference again.
        confirm = await mail(hub, address, "Confirm you want to hear back")
        text, html = parts(confirm)
        assert shown in text and shown in html and "paper feedback form" in text
        await page.goto(local(link(text, "/hear-back/confirm"), base))
        await page.click("button[type=submit]")
        assert "You will hear back" in await page.inner_text("main")
        assert (await page.inner_text("#reference")).strip() == shown
        await check(page, "hear-back-confirmed")

        # Intake has it through its ingress: de-identified, online FFT, hearing back.
        item = await feedback_of(hub, "the wait for a call back was two days")
        assert item["channel"] == "fft_online" and item["fft_answer"] == "poor" and item["hears_back"]
        assert "07700" not in item["text"] and item["redactions"] == {"phone": 1}
        assert item["demographics"] == {
            "age_band": "prefer_not_to_say",
            "sex": "female",
            "ethnic_group": None,
            "postcode_district": None,
        }

        async def counted() -> bool:
            return await hub.applied("P81003") == before + 1

        await eventually(counted, what="reporting to count the page's feedback")

        # The practice answers it; the update reaches the person, and only once.
        r = await hub.intake.post(
            "/v1/responses",
            headers=hub.token("P81003"),
            json={
                "organisation_code": "P81003",
                "submission_ids": [item["id"]],
                "you_said": "Call backs took too long.",
                "we_did": "A second person now answers call-back requests every morning.",
                "status": "planned",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["hearing_back"] == 1
        update = await mail(hub, address, "You said, we did")
        text, _ = parts(update)
        assert "A second person now answers call-back requests every morning." in text
        assert reference and len(hub.smtp.to(address)) == 2  # the confirmation and the update
    finally:
        await phone.close()
        await checker.close()
        server.should_exit = True
        await serving
    assert checked == ["poster", "feedback", "feedback-errors", "feedback-thanks", "hear-back-confirmed"]
