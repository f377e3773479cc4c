"""A practice's feedback page and its poster, on a real PostgreSQL store: what the page sends
is one signed record on intake's ingress topic (read here from the outbox; the end-to-end
journey follows it through intake), the hear-back address stays in membership behind a
reference, and the page's defences each hold: per-client limits that see the real client
behind a trusted proxy, the honeypot, size limits, a repeat collapsed into the first."""

import json
import re
import uuid
from typing import Any

import httpx
import segno

from hub_shared import page_records
from hub_shared.events import AUTHORIZATION_HEADER
from hub_shared.ratelimit import RateLimit
from hub_shared.references import canonical
from hub_shared.topics import FEEDBACK_SUBMISSIONS, MEMBERSHIP_CONTACTS
from membership.models import OutboxMessage

from .conftest import last_card, outbox
from .test_client_address import served


def form(**overrides: Any) -> dict[str, str]:
    return {"form_id": str(uuid.uuid4()), "fft_answer": "good", "text": "Kind reception staff.", **overrides}


async def sent_to_intake(app) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return await outbox(app, FEEDBACK_SUBMISSIONS.name)


async def headers_of(app, event_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    async with app.state.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.event_id == event_id))
    assert row is not None
    return dict(row.headers)


async def test_the_page_asks_the_fft_question_and_sends_online_fft_feedback_to_intakes_ingress(client, app) -> None:
    page = await client.get("/f/P81001")
    assert page.status_code == 200
    assert "Overall, how was your experience of our service?" in page.text
    for answer in ("Very good", "Neither good nor poor", "Very poor", "Don&#39;t know"):
        assert answer in page.text
    assert "Prefer not to say" in page.text and "I&#39;d like to hear what changes" in page.text

    r = await client.post("/f/P81001", data=form(age_band="prefer_not_to_say", sex="female"))
    assert r.status_code == 200 and "Thank you for your feedback" in r.text
    [record] = await sent_to_intake(app)
    assert record["type"] == "feedback.submitted.v1" and record["tenant"] == "P81001"
    data = record["data"]
    assert (
        data["channel"] == "fft_online" and data["fft_answer"] == "good" and data["service_area"] == "general_practice"
    )
    assert data["demographics"] == {"age_band": "prefer_not_to_say", "sex": "female"}
    assert data["hear_back"] is None and data["client_reference"].startswith("feedback-page-")
    # Signed for this practice and this reference only.
    header = (await headers_of(app, record["id"]))[AUTHORIZATION_HEADER]
    page_records.check(app.state.page_links, header, tenant="P81001", client_reference=data["client_reference"])


async def test_a_service_has_its_own_page_and_an_unknown_one_is_not_found(client, app) -> None:
    r = await client.post("/f/01A/musculoskeletal", data=form())
    assert r.status_code == 200
    [record] = await sent_to_intake(app)
    assert record["tenant"] == "01A" and record["data"]["service_area"] == "musculoskeletal"
    for missing in ("/f/NOPE1", "/f/01A", "/f/P81001/not_a_service", "/f/QZZ/musculoskeletal", "/poster/NOPE1"):
        assert (await client.get(missing)).status_code == 404, missing


async def test_hearing_back_keeps_the_address_here_and_sends_intake_only_the_reference(client, app) -> None:
    r = await client.post("/f/P81001", data=form(hear_back="yes", email="Hear.Me@example.org"))
    assert r.status_code == 200
    shown = re.search(r'id="reference">([0-9A-Z-]+)<', r.text)
    assert shown is not None
    reference = canonical(shown.group(1))
    assert "paper feedback form" in r.text and "text message" in r.text  # where to give it
    assert "&lt;" not in r.text
    [record] = await sent_to_intake(app)
    assert record["data"]["hear_back"] == {"contact_token": reference}
    assert "example.org" not in json.dumps(record)
    card = await last_card(app, "hear.me@example.org")
    assert card["contact_token"] == reference and card["message"]["kind"] == "confirm_hear_back"
    assert card["message"]["links"]["reference"] == shown.group(1)  # emailed as well as shown


async def test_a_mistake_gets_field_by_field_errors_and_sends_nothing(client, app) -> None:
    r = await client.post("/f/P81001", data=form(fft_answer="", hear_back="yes", email="not-an-address"))
    assert r.status_code == 422
    assert "There is a problem" in r.text
    assert "Select how your experience of our service was overall" in r.text
    assert "Enter an email address in the correct format" in r.text
    r = await client.post("/f/P81001", data=form(hear_back="yes", email=""))
    assert r.status_code == 422 and "Enter your email address to hear what changes" in r.text
    r = await client.post("/f/P81001", data=form(text="A bell\x07 and a NUL\x00", age_band="150_plus", form_id="x"))
    assert r.status_code == 422
    for said in ("must be ordinary text", "Select your age from the list", "This form has expired"):
        assert said in r.text
    assert await sent_to_intake(app) == []


async def test_text_over_the_size_limit_is_refused_and_a_huge_body_is_too_large(client, app) -> None:
    r = await client.post("/f/P81001", data=form(text="x" * 5001))
    assert r.status_code == 422 and "must be 5,000 characters or fewer" in r.text
    r = await client.post("/f/P81001", data=form(text="x" * (70 * 1024)))
    assert r.status_code == 413
    assert await sent_to_intake(app) == []


async def test_the_honeypot_thanks_a_machine_and_sends_nothing(client, app) -> None:
    page = await client.get("/f/P81001")
    assert 'name="website"' in page.text and 'aria-hidden="true"' in page.text
    r = await client.post(
        "/f/P81001", data=form(website="http://spam.example", hear_back="yes", email="bot@example.org")
    )
    assert r.status_code == 200 and "Thank you for your feedback" in r.text
    assert await sent_to_intake(app) == []
    assert [c for c in await outbox(app, MEMBERSHIP_CONTACTS.name) if "data" in c] == []


async def test_a_second_press_is_the_same_submission(client, app) -> None:
    once = form(hear_back="yes", email="twice@example.org")
    first = await client.post("/f/P81001", data=once)
    second = await client.post("/f/P81001", data=once)
    assert first.status_code == second.status_code == 200
    reference = re.findall(r'id="reference">([0-9A-Z-]+)<', first.text)
    assert reference and reference == re.findall(r'id="reference">([0-9A-Z-]+)<', second.text)
    assert len(await sent_to_intake(app)) == 1
    assert len([c for c in await outbox(app, MEMBERSHIP_CONTACTS.name) if "data" in c]) == 1  # one confirmation email
    # The same words sent again from a fresh page, within minutes, are the same feedback too.
    again = await client.post(
        "/f/P81001", data={**once, "form_id": str(uuid.uuid4()), "text": " kind RECEPTION staff. "}
    )
    assert re.findall(r'id="reference">([0-9A-Z-]+)<', again.text) == reference
    assert len(await sent_to_intake(app)) == 1
    # Other words, or the same answer with no words (a waiting room shares one address), are new feedback.
    assert (await client.post("/f/P81001", data=form(text="The car park was full."))).status_code == 200
    assert (await client.post("/f/P81001", data=form(text=""))).status_code == 200
    assert (await client.post("/f/P81001", data=form(text=""))).status_code == 200
    assert len(await sent_to_intake(app)) == 4


async def test_the_limit_per_client_sees_the_real_client_behind_a_trusted_proxy(app) -> None:
    async def codes(base_url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base_url) as c:
            return [
                (await c.post("/f/P81001", data=form(), headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
                for i in range(4)
            ]

    app.state.public_rate_limit = RateLimit("3/minute")
    async with served(app, trusted_proxies="") as base_url:
        assert await codes(base_url) == [200, 200, 200, 429]  # the header alone changes nothing
    # One client saying the same words three times: one feedback.
    assert len(await sent_to_intake(app)) == 1
    app.state.public_rate_limit = RateLimit("3/minute")
    async with served(app, trusted_proxies="127.0.0.1") as base_url:
        assert await codes(base_url) == [200, 200, 200, 200]  # four people behind the proxy
    assert len(await sent_to_intake(app)) == 1 + 4  # each their own, though they said the same


async def test_the_poster_carries_the_pages_short_address_in_its_qr_code(client, app) -> None:
    r = await client.get("/poster/P81001")
    assert r.status_code == 200
    url = f"{app.state.settings.public_base_url}/f/P81001"
    assert url in r.text and "size: A4" in r.text
    expected = segno.make(url, error="m").svg_inline(scale=1, omitsize=True)
    path = re.search(r'<path[^>]* d="([^"]+)"', expected)
    assert path is not None and path.group(1) in r.text  # the very modules of the QR code for that address
    service = await client.get("/poster/01A/musculoskeletal")
    assert f"{app.state.settings.public_base_url}/f/01A/musculoskeletal" in service.text


async def test_stopping_hearing_back_unlinks_the_form_that_gave_the_reference(client, app) -> None:
    from membership.links import Purpose
    from membership.models import FeedbackPageSubmission

    sent = form(hear_back="yes", email="stop.page@example.org")
    r = await client.post("/f/P81001", data=sent)
    shown = re.search(r'id="reference">([0-9A-Z-]+)<', r.text)
    assert shown is not None
    stop = app.state.links.token(Purpose.HEAR_BACK_STOP, t=canonical(shown.group(1)))
    assert (await client.post("/v1/hear-back/stop", json={"token": stop})).status_code == 200
    async with app.state.sessions() as session:
        row = await session.get(FeedbackPageSubmission, sent["form_id"])
    assert row is not None and row.contact_token is None
