"""Staff journeys through the console against the whole hub: the four services in-process on
the real broker and PostgreSQL, notification's worker sending to a real SMTP server, and the
console signed in through the real OpenID Connect provider in Chromium, calling the APIs with
each person's own token.

* The place officer checks and sends an opportunity to a co-production group's confirmed
  members; the invitation arrives by email, a member opens its reply link and books; the
  officer records their attendance.
* The practice manager imports their PPG's list and reads the per-row report; another
  practice's pages are refused.
* The place officer decides on flagged feedback, then writes "you said, we did" to feedback
  whose contributor asked to hear back; the update arrives in the contributor's inbox.
* A forged cross-site form (another origin; no form token) is refused and changes nothing;
  signing out ends the session (back and reload land on sign-in); a session left idle past
  its timeout sends the person to sign in again.

Sign-ins are shared within the module (one per person), so the tests run in file order."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import pytest_asyncio

from hub_shared.console_testing import (
    Console,
    Provider,
    free_port,
    needs_chromium,
    running_console,
    sign_in,
)

from .conftest import Hub
from .test_membership import card
from .test_notification import link, mail, parts, token_of

pytestmark = [needs_chromium, pytest.mark.long(seconds=26)]

STAMP = int(time.time() * 1000)
IDLE_MINUTES = 0.25  # the idle console's timeout: 15 seconds


def transports(hub: Hub) -> dict[str, httpx.AsyncBaseTransport]:
    return {name: httpx.ASGITransport(app=app) for name, app in hub.apps.items()}


@pytest_asyncio.fixture(scope="module")
async def console(hub: Hub, provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    """The console calling the hub's four APIs."""
    async with running_console(provider, tmp_path_factory.mktemp("console"), transports(hub)) as running:
        yield running


@dataclass
class Signed:
    context: Any
    page: Any
    at: float  # when the sign-in completed (time.time())


@pytest_asyncio.fixture(scope="module")
async def idle(
    hub: Hub, provider: Provider, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Console, Signed]]:
    """A second console whose sessions time out after 15 s idle, and the analyst signed in to
    it early in the module (the other journeys pass the time)."""
    async with running_console(
        provider, tmp_path_factory.mktemp("idle-console"), transports(hub), session_idle_minutes=IDLE_MINUTES
    ) as running:
        context = await browser.new_context()
        page = await context.new_page()
        await sign_in(page, running, "icb-analyst", start="/feedback")
        yield running, Signed(context, page, time.time())
        await context.close()


async def signed_in(browser: Any, console: Console, username: str, start: str = "/") -> AsyncIterator[Signed]:
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, console, username, start=start)
    yield Signed(context, page, time.time())
    await context.close()


@pytest_asyncio.fixture(scope="module")
async def officer(browser: Any, console: Console) -> AsyncIterator[Signed]:
    async for signed in signed_in(browser, console, "place-officer"):
        yield signed


@pytest_asyncio.fixture(scope="module")
async def manager(browser: Any, console: Console) -> AsyncIterator[Signed]:
    async for signed in signed_in(browser, console, "practice-manager"):
        yield signed


# ---- people and groups, set up as the services' own users would ----


async def confirmed_member(hub: Hub, email: str, practice: str, **extra: Any) -> str:
    """Joins, and confirms by the link in the email that arrives; the member's id."""
    body = {
        "name": f"Partner {email.split('@')[0]}",
        "email": email,
        "postcode": "LS1 4AP",
        "practice_code": practice,
        "consent_to_contact": True,
        **extra,
    }
    assert (await hub.membership.post("/v1/join", json=body)).status_code == 202
    confirm = await mail(hub, email, "Confirm your email address")
    r = await hub.membership.post("/v1/confirm", json={"token": token_of(link(parts(confirm)[0], "/confirm"))})
    assert r.status_code == 200, r.text
    return str(r.json()["member_id"])


async def hear_back_contact(hub: Hub, email: str) -> str:
    """Someone who gave feedback without joining, asking to hear back: their contact token."""
    r = await hub.membership.post("/v1/hear-back", json={"email": email})
    assert r.status_code == 202, r.text
    contact_token = str(r.json()["contact_token"])
    confirm = await mail(hub, email, "Confirm you want to hear back")
    r = await hub.membership.post(
        "/v1/hear-back/confirm", json={"token": token_of(link(parts(confirm)[0], "/hear-back/confirm"))}
    )
    assert r.status_code == 200, r.text
    return contact_token


async def group(hub: Hub, org: str, kind: str, name: str, **extra: Any) -> str:
    r = await hub.membership.post(
        "/v1/groups", json={"organisation_code": org, "kind": kind, "name": name, **extra}, headers=hub.token(org)
    )
    if r.status_code == 409 and kind == "ppg":  # one PPG a practice: an earlier test made it
        groups = (await hub.membership.get("/v1/groups", headers=hub.token(org))).json()
        return next(str(g["id"]) for g in groups if g["kind"] == "ppg" and g["organisation_code"] == org)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def feedback(hub: Hub, org: str, text: str, **extra: Any) -> str:
    r = await hub.post_feedback(org, channel="online_comment", text=text, fft_answer="poor", **extra)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def review_status(hub: Hub, submission_id: str) -> str:
    r = await hub.intake.get(f"/v1/feedback/{submission_id}", headers=hub.token("QZZ"))
    assert r.status_code == 200, r.text
    return str(r.json()["review_status"])


@dataclass
class People:
    ada: str
    ada_email: str
    bo: str
    group_id: str
    hearing_email: str
    hearing_token: str


@pytest_asyncio.fixture(scope="module")
async def people(hub: Hub) -> People:
    """Two confirmed patient partners (one under each of two Northvale practices) in a new
    Northvale co-production group, and a contributor who asked to hear back."""
    ada_email, bo_email = f"ada.{STAMP}@example.org", f"bo.{STAMP}@example.org"
    hearing_email = f"hattie.{STAMP}@example.org"
    ada, bo, hearing_token, group_id = await asyncio.gather(
        confirmed_member(
            hub,
            ada_email,
            "P81001",
            demographics={"age_band": "25_34", "sex": "female", "ethnic_group": "white_british"},
        ),
        confirmed_member(
            hub,
            bo_email,
            "P81002",
            demographics={"age_band": "65_74", "sex": "male", "ethnic_group": "asian_indian"},
        ),
        hear_back_contact(hub, hearing_email),
        group(hub, "01A", "coproduction", f"Northvale MSK redesign {STAMP}", service_area="musculoskeletal"),
    )
    for member in (ada, bo):
        r = await hub.membership.post(
            f"/v1/groups/{group_id}/members", json={"member_id": member, "role": "member"}, headers=hub.token("01A")
        )
        assert r.status_code == 201, r.text
    return People(ada, ada_email, bo, group_id, hearing_email, hearing_token)


# ---- the journeys ----


async def test_place_officer_sends_an_opportunity_the_invitation_arrives_and_attendance_is_recorded(
    hub: Hub, console: Console, officer: Signed, people: People, browser: Any, idle: Any
) -> None:
    page = officer.page
    title = f"Redesigning MSK physiotherapy {STAMP}"
    await page.goto(console.url + "/opportunities/new")
    starts = date.today() + timedelta(days=30)
    await page.select_option("#kind", "workshop")
    await page.fill("#title", title)
    await page.fill("#description", "Help us shape the new service.")
    await page.fill("#starts_at", starts.isoformat())
    await page.fill("#starts_at_time", "18:30")
    await page.fill("#closes_at", (starts - timedelta(days=7)).isoformat())
    await page.fill("#location", "Northvale Community Centre")
    await page.fill("#capacity", "5")
    await page.check(f"input[name=group_ids][value='{people.group_id}']")
    await page.click("button:has-text('Check who would be invited')")
    assert await page.inner_text("h1") == "Check before sending"
    assert await page.inner_text("#invited-count") == "2 people"
    main = await page.inner_text("main")
    assert "25 to 34" in main and "65 to 74" in main and people.ada_email not in main

    await page.click("button:has-text('Send invitations')")
    assert f"Sent: 2 invited to '{title}'." in await page.inner_text(".nhsuk-notification-banner")
    opportunity_url = page.url

    # The invitation reaches Ada's inbox through the broker, notification and SMTP.
    invitation = await mail(hub, people.ada_email, "You are invited")
    assert invitation["Subject"] == f"You are invited: {title}"
    text, _html = parts(invitation)
    assert "Workshop" in text and "Northvale Place would like your help" in text
    reply = link(text, "/reply")

    # Ada opens the link in her own browser (membership's page) and books a place.
    patient = await browser.new_context(java_script_enabled=False)
    origin = "{0.scheme}://{0.netloc}".format(urlparse(reply))
    await patient.route(f"{origin}/**", lambda route: forward(route, hub.membership))
    ada_page = await patient.new_page()
    await ada_page.goto(reply)
    assert title in await ada_page.inner_text("main")
    await ada_page.check("input[name=answer][value=yes]")
    await ada_page.click("button[type=submit]")
    assert "You have a place" in await ada_page.inner_text("h1")
    await patient.close()

    # The officer follows the replies and records that Ada came.
    await page.goto(opportunity_url)
    main = await page.inner_text("main")
    assert "Booked\t1 of 5" in main and "Invited\t2" in main, main
    await page.check(f"#attended-{people.ada}")
    await page.click("button:has-text('Record attendance')")
    assert "Attendance recorded for 1 more." in await page.inner_text(".nhsuk-notification-banner")
    opportunity_id = urlparse(opportunity_url).path.rsplit("/", 1)[-1]
    r = await hub.membership.get(f"/v1/opportunities/{opportunity_id}/invitations", headers=hub.token("01A"))
    attended = {i["member_id"]: i["attended"] for i in r.json()}
    assert attended == {people.ada: True, people.bo: False}


async def forward(route: Any, client: httpx.AsyncClient) -> None:
    """A browser's request to a service, answered by that service's app in-process."""
    request = route.request
    url = urlparse(request.url)
    sent = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "cookie", "origin", "referer")}
    sent["host"] = url.netloc  # as the browser addressed it: the service checks a form's Origin against it
    answer = await client.request(
        request.method,
        url.path + (f"?{url.query}" if url.query else ""),
        content=request.post_data_buffer,
        headers=sent,
    )
    await route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.content)


PPG_CSV = (
    "name,email,phone,postcode,practice_code,consent_basis,role\n"
    f"Ann Chair,ann.{STAMP}@example.org,,LS1 4AP,P81001,Signed PPG form 2026,chair\n"
    "Bad Email,not-an-email,,LS1 4AP,P81001,Signed PPG form 2026,member\n"
    f"Cal Member,cal.{STAMP}@example.org,,LS1 4AP,P81001,Signed PPG form 2026,\n"
)


async def test_practice_manager_imports_their_ppg_and_is_refused_another_practices_pages(
    hub: Hub, console: Console, manager: Signed, tmp_path: Path
) -> None:
    ppg = await group(hub, "P81001", "ppg", "Church Street PPG")
    other_ppg = await group(hub, "P81002", "ppg", "High Street PPG")
    before = len((await hub.membership.get(f"/v1/groups/{ppg}/members", headers=hub.token("P81001"))).json())

    page = manager.page
    await page.goto(console.url + "/groups")
    assert "High Street PPG" not in await page.inner_text("main")
    await page.click(f"main a[href='/groups/{ppg}']")
    await page.click("text=Import a list of members")
    upload = tmp_path / "ppg.csv"
    upload.write_text(PPG_CSV)
    await page.set_input_files("#file", str(upload))
    await page.click("button:has-text('Import')")
    assert await page.inner_text("#import-result") == "2 imported, 1 rejected"
    rows = await page.locator("table tbody tr").all_inner_texts()
    assert len(rows) == 3 and "Imported" in rows[0] and "Rejected" in rows[1] and "Imported" in rows[2], rows
    members = (await hub.membership.get(f"/v1/groups/{ppg}/members", headers=hub.token("P81001"))).json()
    assert len(members) == before  # nobody joins until they accept the welcome from their email
    for email in (f"ann.{STAMP}@example.org", f"cal.{STAMP}@example.org"):
        welcome = await card(hub, email, "welcome_imported")
        accepted = await hub.membership.post(
            "/v1/welcome", json={"token": token_of(welcome["message"]["links"]["confirm"])}
        )
        assert accepted.status_code == 200, accepted.text
    members = (await hub.membership.get(f"/v1/groups/{ppg}/members", headers=hub.token("P81001"))).json()
    assert len(members) == before + 2

    # Another practice's PPG, and its feedback: not found, as the APIs answer.
    elsewhere = await feedback(hub, "P81002", f"The physio waiting list is too long {STAMP}.")
    for path in (f"/groups/{other_ppg}", f"/groups/{other_ppg}/import", f"/feedback/{elsewhere}"):
        response = await page.goto(console.url + path)
        assert response is not None and response.status == 404, path
        assert await page.inner_text("h1") == "Page not found"
    assert "physio" not in await page.content()
    response = await page.goto(console.url + "/feedback?organisation_code=P81002")
    assert response is not None and response.status == 403
    assert await page.inner_text("h1") == "You cannot see or change this"


async def test_place_officer_decides_on_flagged_feedback(hub: Hub, console: Console, officer: Signed) -> None:
    complaint = await feedback(hub, "P81002", f"I want to make a formal complaint about reception {STAMP}.")
    assert await review_status(hub, complaint) == "pending"
    page = officer.page
    await page.goto(f"{console.url}/feedback/{complaint}")
    await page.click("text=Decide on this feedback")
    assert page.url.endswith(f"/feedback/triage/{complaint}")
    assert "formal complaint" in await page.inner_text("main")
    await page.check("input[name=decision][value=complaint_referral]")
    await page.click("button:has-text('Record decision')")
    assert "Decision recorded: Referred as a complaint" in await page.inner_text("main")
    assert await review_status(hub, complaint) == "complaint_referral"


async def test_you_said_we_did_reaches_the_contributor_who_asked_to_hear_back(
    hub: Hub, console: Console, officer: Signed, people: People
) -> None:
    said = await feedback(
        hub,
        "P81001",
        f"The waiting room is cold in the mornings {STAMP}.",
        hear_back={"contact_token": people.hearing_token},
    )
    page = officer.page
    await page.goto(f"{console.url}/feedback/{said}")
    assert "Yes: they will be told" in await page.inner_text("main")
    await page.click('text=Write a "you said, we did" response to this feedback')
    assert await page.is_checked(f"input[name=submission_ids][value='{said}']")
    await page.fill("#theme", "waiting room")
    await page.fill("#you_said", "The waiting room is too cold in the mornings.")
    we_did = f"We have fixed the heating; it is on from 7am ({STAMP})."
    await page.fill("#we_did", we_did)
    await page.check("input[name=status][value=planned]")
    await page.click("button:has-text('Publish response')")
    main = await page.inner_text("main")
    assert "Response published" in main and "1 person who asked to hear back will be told" in main, main

    update = await mail(hub, people.hearing_email, "You said, we did")
    assert update["Subject"] == "You said, we did: Church Street Surgery"
    text, html = parts(update)
    assert we_did in text and "The waiting room is too cold in the mornings." in text
    assert people.hearing_token not in text + html


async def test_a_forged_cross_site_form_is_refused_and_changes_nothing(
    hub: Hub, console: Console, officer: Signed
) -> None:
    """Another origin's page posts a decision to the console in the officer's browser (same
    site, so SameSite=Lax sends the cookie: the Origin check refuses it); then a same-origin
    post without the session's form token. The feedback stays waiting for review."""
    flagged = await feedback(hub, "P81001", f"I want to make a formal complaint about the phones {STAMP}.")
    page = officer.page
    attacker = f"http://127.0.0.1:{free_port()}"
    await page.route(
        f"{attacker}/",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form id=f method=post action="{console.url}/feedback/triage/{flagged}">'
            '<input name=decision value=cleared></form><script>document.getElementById("f").submit()</script>',
        ),
    )
    await page.goto(f"{attacker}/")
    await page.wait_for_url(f"{console.url}/feedback/triage/{flagged}")
    assert "This form could not be accepted" in await page.inner_text("h1")
    assert f"sent from {attacker}" in await page.inner_text("main")

    await page.goto(f"{console.url}/feedback/{flagged}")
    status = await page.evaluate(
        "async (url) => (await fetch(url, {method: 'POST', body: new URLSearchParams("
        "{decision: 'cleared', csrf_token: 'guess'})})).status",
        f"/feedback/triage/{flagged}",
    )
    assert status == 403
    assert await review_status(hub, flagged) == "pending"
    assert await console.session_of(officer.context) is not None  # still signed in


async def test_a_session_left_idle_sends_the_person_to_sign_in(idle: tuple[Console, Signed]) -> None:
    console, signed = idle
    stored = await console.session_of(signed.context)
    assert stored is not None
    timeout = timedelta(minutes=IDLE_MINUTES)
    wait = (stored.last_seen_at.replace(tzinfo=UTC) + timeout - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, wait) + 1)
    await signed.page.goto(console.url + "/feedback")
    assert "/sign-in" in signed.page.url
    main = await signed.page.inner_text("main")
    assert "You were signed out" in main and "not used for 0.25 minutes" in main
    assert stored.id_hash not in {s.id_hash for s in await console.stored_sessions()}
    await sign_in(signed.page, console, "icb-analyst", start="/feedback")
    assert signed.page.url == console.url + "/feedback"


async def test_signing_out_ends_the_session_and_back_or_reload_lands_on_sign_in(
    console: Console, officer: Signed
) -> None:
    page = officer.page
    await page.goto(console.url + "/feedback")
    stored = await console.session_of(officer.context)
    assert stored is not None
    await page.click("button.nhsuk-header__account-button")
    await page.wait_for_url(console.url + "/signed-out**")
    assert "You have signed out" in await page.inner_text("h1")
    assert stored.id_hash not in {s.id_hash for s in await console.stored_sessions()}
    await page.go_back()
    await page.wait_for_load_state()
    assert "/sign-in" in page.url, page.url
    assert "Feedback" not in await page.inner_text("h1")
    await page.reload()
    assert "/sign-in" in page.url
