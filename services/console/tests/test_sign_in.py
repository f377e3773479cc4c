"""Staff sign in through the real OpenID Connect provider (deploy/oidc.sh) in Chromium: each
demo user gets their organisation and roles; sign-out ends the session here and at the
provider; a timed-out session sends the person to sign in again; a forged form is refused;
the person's access token works at a real API for their organisation and not for another's.
Pages are checked with axe-core at 1280 and 390 px (hub_shared.console_testing.check_page)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from console.models import StaffSession
from hub_shared.console_testing import check_page

from .conftest import (
    DEMO_USERS,
    Console,
    Provider,
    Reporting,
    free_port,
    needs_chromium,
    running_console,
    sign_in,
)

pytestmark = [needs_chromium, pytest.mark.long(seconds=28)]


@pytest.mark.parametrize("username", list(DEMO_USERS))
async def test_each_demo_user_signs_in_for_their_organisation(browser: Any, console: Console, username: str) -> None:
    name, code, organisation = DEMO_USERS[username]
    context = await browser.new_context(bypass_csp=True)  # axe is injected into the page
    page = await context.new_page()
    await sign_in(page, console, username, start="/reports")
    assert page.url == console.url + "/reports"  # back where they were going
    await page.click("a.nhsuk-header__service-name, a.nhsuk-header__service-logo")
    assert await page.inner_text("h1") == f"Hello, {name}"
    main = await page.inner_text("main")
    assert f"{organisation} ({code})" in main
    # The figure on the home page came from reporting's API, which accepted the person's token.
    assert "pieces of feedback received" in main, main
    header = await page.inner_text("header")
    for area in ("Opportunities", "Groups", "Feedback", "Emails", "Reports"):
        assert area in header
    cookies = {c["name"]: c for c in await context.cookies()}
    cookie = cookies["__Host-console_session"]
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Lax")
    stored, data = await console.session_of(context), await console.data_of(context)
    assert stored is not None and data is not None
    assert stored.subject == username and data["user"]["organisation"] == code
    assert cookie["value"] not in str(stored.id_hash)  # the store keeps a hash, not the id
    if username == "place-officer":
        await check_page(page, "home")
        await page.goto(console.url + "/sign-in")  # signed in: straight on
        assert page.url == console.url + "/"
    await context.close()


async def test_sign_in_page_and_an_area_page_are_accessible(browser: Any, console: Console) -> None:
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await page.goto(console.url + "/feedback")
    await check_page(page, "sign-in")
    await sign_in(page, console, "practice-manager", start="/feedback")
    await check_page(page, "feedback-index")
    await context.close()


async def test_sign_out_ends_the_session_here_and_at_the_provider(browser: Any, console: Console) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    await sign_in(page, console, "icb-analyst")
    signed_in = await console.session_of(context)
    assert signed_in is not None
    kept = signed_in.id_hash
    await page.click("button.nhsuk-header__account-button")
    await page.wait_for_url(console.url + "/signed-out**")
    assert "You have signed out" in await page.inner_text("h1")
    issuer = console.settings.identity_provider.issuer or ""
    ended = [url for url in visited if url.startswith(f"{issuer}/endsession")]
    assert ended and "id_token_hint=" in ended[0], visited
    assert await console.session_of(context) is None  # the cookie was cleared
    assert not [s for s in await console.stored_sessions() if s.subject == "icb-analyst" and s.id_hash == kept]
    await page.goto(console.url + "/")
    assert "/sign-in" in page.url
    await context.close()


async def test_a_timed_out_session_sends_the_person_to_sign_in_again(browser: Any, console: Console) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, console, "place-officer")
    stored = await console.session_of(context)
    assert stored is not None
    idle = timedelta(minutes=console.settings.session_idle_minutes, seconds=1)
    async with console.sessions() as db, db.begin():
        await db.execute(
            update(StaffSession)
            .where(StaffSession.id_hash == stored.id_hash)
            .values(last_seen_at=datetime.now(UTC) - idle)
        )
    await page.goto(console.url + "/groups")
    assert "/sign-in" in page.url
    assert "You were signed out" in await page.inner_text("main")
    assert stored.id_hash not in {s.id_hash for s in await console.stored_sessions()}
    cookies = [c["name"] for c in await context.cookies()]
    assert "__Host-console_session" not in cookies
    await sign_in(page, console, "place-officer", start="/groups")
    assert page.url == console.url + "/groups"
    await context.close()


async def test_a_forged_cross_site_form_is_refused(browser: Any, console: Console) -> None:
    """A page on another origin posts the sign-out form: refused by the Origin check. The page
    is on the same site (127.0.0.1, another port), so SameSite=Lax still sends the cookie: the
    check, not the cookie, protects. A same-origin post without the session's form token is
    refused too. Either way the person stays signed in."""
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, console, "practice-manager")
    attacker = f"http://127.0.0.1:{free_port()}"
    await page.route(
        f"{attacker}/",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form id=f method=post action="{console.url}/sign-out"></form>'
            "<script>document.getElementById('f').submit()</script>",
        ),
    )
    await page.goto(f"{attacker}/")
    await page.wait_for_url(console.url + "/sign-out")
    assert "This form could not be accepted" in await page.inner_text("h1")
    assert f"sent from {attacker}" in await page.inner_text("main")
    # Same origin, no form token (a script that got past the Origin check would lack it).
    await page.goto(console.url + "/")
    status = await page.evaluate(
        "async () => (await fetch('/sign-out', {method: 'POST', body: new URLSearchParams({csrf_token: 'guess'})}))"
        ".status"
    )
    assert status == 403
    assert await console.session_of(context) is not None
    await page.goto(console.url + "/")
    assert await page.inner_text("h1") == "Hello, Carys Evans"
    await context.close()


async def test_the_persons_token_is_accepted_by_a_real_api_for_their_organisation_only(
    browser: Any, console: Console
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, console, "practice-manager")
    stored, data = await console.session_of(context), await console.data_of(context)
    assert stored is not None and data is not None
    token = data["tokens"]["access_token"]
    # The store holds the tokens sealed: neither the token nor its claims' encoding is in it.
    assert token.encode() not in stored.sealed and token.split(".")[1].encode() not in stored.sealed
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == console.settings.identity_provider.issuer
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=console.reporting), base_url="http://r") as api:
        own = await api.get("/v1/reports/feedback-volume/P81001", headers=bearer)
        assert own.status_code == 200, own.text
        other = await api.get("/v1/reports/feedback-volume/P81002", headers=bearer)
        assert other.status_code == 403, other.text
        place = await api.get("/v1/reports/feedback-volume/01A", headers=bearer)
        assert place.status_code == 403, place.text
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        forged = await api.get("/v1/reports/feedback-volume/P81001", headers={"Authorization": f"Bearer {tampered}"})
        assert forged.status_code == 401, forged.text
        # Machine clients keep their tokens.
        machine = console.keys.issue(
            organisation="P81002",
            scopes=["reports:read"],
            issuer=console.reporting.state.settings.jwt_issuer,
            audience=console.reporting.state.settings.jwt_audience,
        )
        assert (
            await api.get("/v1/reports/feedback-volume/P81002", headers={"Authorization": f"Bearer {machine}"})
        ).status_code == 200
    await context.close()


async def test_an_access_token_about_to_expire_is_refreshed(
    browser: Any, provider: Provider, reporting: Reporting, tmp_path: Path
) -> None:
    """With the leeway past the token's lifetime every API call refreshes it first."""
    async with running_console(provider, reporting, tmp_path, token_refresh_leeway_seconds=10**6) as console:
        context = await browser.new_context()
        page = await context.new_page()
        await sign_in(page, console, "icb-analyst")  # the home page called reporting: one refresh
        first = await console.data_of(context)
        await page.reload()
        assert "pieces of feedback received" in await page.inner_text("main")
        second = await console.data_of(context)
        assert first is not None and second is not None
        before, after = first["tokens"]["access_token"], second["tokens"]["access_token"]
        assert before != after
        assert jwt.decode(after, options={"verify_signature": False})["org"] == "QZZ"
        await context.close()
