"""The staff console under test, as a pytest plugin (the root ``conftest.py`` loads it beside
``hub_shared.testing``): the real OpenID Connect provider (``deploy/oidc.sh``, started on a
private port the first time a test asks for it), Debian's Chromium through Playwright, a
console served for real by uvicorn calling whichever services a test serves in-process, and
signing in through the provider's own login page as a person does.

One provider per test run (started by the first of its processes to ask, stopped at the
run's end: ``hub_shared.testing.started_once``) and one Chromium per test process, shared by
the console's own tests and the end-to-end journeys through the whole hub.
``CONSOLE_TEST_OIDC_PORT`` picks the provider's port (default: a free one below the ephemeral
range, chosen once for the run). ``staff_identity_provider`` says what the APIs trust without
starting anything: the provider's keys are fetched when a staff token first arrives."""

import asyncio
import hashlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from hub_shared.identity import IdentityProviderSettings
from hub_shared.testing import RUN_DIR_VARIABLE, free_port, lasting_port, migrated, started_once

REPO = Path(__file__).resolve().parents[3]
OIDC = REPO / "deploy" / "oidc.sh"
# Debian's headless build of Chromium: the same engine without the desktop browser's parts,
# which cost a test process's Chromium about four times the CPU while it waits between pages.
CHROMIUM = shutil.which("chromium-headless-shell") or "/usr/bin/chromium-headless-shell"
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
AXE = REPO / "services" / "console" / "web" / "node_modules" / "axe-core" / "axe.min.js"
WCAG = "{runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}"
WIDTHS = (1280, 390)  # a desktop's window and a phone's (axe-core runs at the last)
# A folder to photograph every checked page into, for a person to look at (encoding full-page
# PNGs is most of a page check's browser time, so a plain run checks without photographing).
SCREENSHOTS_VARIABLE = "HUB_TEST_SCREENSHOTS"
API_AUDIENCE = "ics-engagement-hub"
SESSION_COOKIE = "__Host-console_session"
# deploy/oidc/demo-users.json: username -> (name, organisation code, organisation name).
DEMO_USERS = {
    "icb-analyst": ("Asha Patel", "QZZ", "Demo Integrated Care Board"),
    "place-officer": ("Ben Okafor", "01A", "Northvale Place"),
    "practice-manager": ("Carys Evans", "P81001", "Church Street Surgery"),
}

# Never skipped: a browser test that did not run proves nothing (deploy/prerequisites.sh test
# installs Debian's Chromium; without it the test fails at launch, naming the missing path).
needs_chromium = pytest.mark.chromium


@dataclass
class Provider:
    issuer: str
    port: int


def idp(provider: Provider | str) -> IdentityProviderSettings:
    """The hub's identity-provider settings (``HUB_IDP_*``) for this provider (or issuer)."""
    issuer = provider.issuer if isinstance(provider, Provider) else provider
    return IdentityProviderSettings(issuer=issuer, audience=API_AUDIENCE)


PORT_VARIABLE = "CONSOLE_TEST_OIDC_PORT"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and not os.environ.get(PORT_VARIABLE):
        # Chosen by the process that starts the run, so that its test processes (which
        # inherit it) all trust, and sign in through, the one provider. The provider starts
        # minutes later: from the ephemeral range, the port could be another test's by then.
        os.environ[PORT_VARIABLE] = str(lasting_port())


@pytest.fixture(scope="session")
def provider_port() -> int:
    return int(os.environ[PORT_VARIABLE])


@pytest.fixture(scope="session")
def staff_identity_provider(provider_port: int) -> IdentityProviderSettings:
    """What an API under test trusts for staff tokens: the test provider's issuer. Nothing is
    started; a test signing someone in asks for ``provider``."""
    return idp(f"http://127.0.0.1:{provider_port}/ics-hub")


@pytest.fixture(scope="session")
def provider(provider_port: int) -> Provider:
    """The real provider, as `make run` starts it, on a private port and state directory:
    the run's one, stopped at its end."""

    def start() -> dict[str, Any]:
        env = {"OIDC_PORT": str(provider_port), "OIDC_STATE_DIR": str(Path(os.environ[RUN_DIR_VARIABLE]) / "oidc")}
        started = subprocess.run(
            [str(OIDC), "start"], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
        )
        assert started.returncode == 0, f"deploy/oidc.sh start failed:\n{started.stdout}\n{started.stderr}"
        return {"stop": [str(OIDC), "stop"], "env": env}

    started_once("oidc", start)
    return Provider(issuer=f"http://127.0.0.1:{provider_port}/ics-hub", port=provider_port)


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


@dataclass
class Console:
    url: str
    app: Any
    settings: Any  # console.settings.ConsoleSettings
    sessions: Any  # the console's session store (an async_sessionmaker)
    reporting: Any = None  # the reporting app the console calls, where a test wants it
    keys: Any = None  # that app's development keys (machine clients' tokens)

    async def stored_sessions(self) -> list[Any]:
        from sqlalchemy import select

        from console.models import StaffSession

        async with self.sessions() as db:
            return list((await db.scalars(select(StaffSession))).all())

    async def session_of(self, context: Any) -> Any:
        """The stored session of a browser context (by the hash of its cookie's id), or None."""
        from console.models import StaffSession

        session_id = await self.cookie_of(context)
        if session_id is None:
            return None
        async with self.sessions() as db:
            return await db.get(StaffSession, hashlib.sha256(session_id.encode()).hexdigest())

    async def data_of(self, context: Any) -> dict[str, Any] | None:
        """What a browser context's stored session holds, unsealed with its cookie's id."""
        from console.sessions import unseal

        stored = await self.session_of(context)
        session_id = await self.cookie_of(context)
        return unseal(session_id, stored.sealed) if stored is not None and session_id else None

    async def cookie_of(self, context: Any) -> str | None:
        cookies = {c["name"]: c["value"] for c in await context.cookies(self.url)}
        return cookies.get(SESSION_COOKIE)

    async def client_of(self, context: Any) -> httpx.AsyncClient:
        """An HTTP client carrying a signed-in browser context's session, sending forms as the
        console's own pages do (its Origin and the session's form token, ``csrf``): quicker
        than clicking through a page, the same checks. The caller closes it."""
        data = await self.data_of(context)
        assert data is not None, "the browser context is not signed in"
        return httpx.AsyncClient(
            base_url=self.url,
            headers={
                "Cookie": f"{SESSION_COOKIE}={await self.cookie_of(context)}",
                "Origin": self.url,
                "X-CSRF-Token": data["csrf"],
            },
            follow_redirects=False,
            timeout=60,
        )


async def serve(app: Any, port: int) -> tuple[Any, "asyncio.Task[None]"]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


@asynccontextmanager
async def running_console(
    provider: Provider,
    tmp: Path,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    **overrides: Any,
) -> AsyncIterator[Console]:
    """A console (its own SQLite session store) served on a free port, calling the services a
    test serves in-process (``transports``: "intake", "membership", "notification",
    "reporting" -> transport); ``overrides`` are ``ConsoleSettings`` fields."""
    from console.main import MIGRATIONS, create_app
    from console.settings import ConsoleSettings
    from hub_shared.db import create_engine, session_factory

    database = f"sqlite+aiosqlite:///{tmp / 'console.db'}"
    migrated(MIGRATIONS, database)
    port = free_port()
    settings = ConsoleSettings(
        database_url=database,
        public_url=f"http://127.0.0.1:{port}",
        client_secret="test-only-console-client-secret",
        identity_provider=idp(provider),
        **overrides,
    )
    app = create_app(settings, transports=transports)
    server, task = await serve(app, port)
    engine = create_engine(database)
    try:
        yield Console(url=settings.public_url, app=app, settings=settings, sessions=session_factory(engine))
    finally:
        server.should_exit = True
        await task
        await engine.dispose()


async def photograph(target: Any, name: str, **options: Any) -> None:
    """Save a screenshot of a page or element as ``<name>.png`` in $HUB_TEST_SCREENSHOTS, if set."""
    folder = os.environ.get(SCREENSHOTS_VARIABLE)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a test helper; once per check)
        await target.screenshot(path=str(Path(folder) / f"{name}.png"), **options)


async def axe_violations(page: Any, options: str = WCAG) -> list[tuple[Any, ...]]:
    """axe-core's violations on the page as it is (the page's context must bypass CSP). Only
    the violations are built and sent back: axe-core's passes, with every node, were most of
    what a check moved between Chromium and the test and decoded there."""
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(
        f"""async () => {{
            const results = await axe.run(document, Object.assign({{resultTypes: ['violations']}}, {options}));
            return results.violations.map(v => [v.id, v.help, v.nodes.map(n => n.target)]);
        }}"""
    )
    return [tuple(violation) for violation in found]


async def check_page(page: Any, name: str, *, checker: Any = None) -> None:
    """Nothing wider than the window at 1280 and 390 px, and no axe-core violations at 390 px
    (photographed at both widths when $HUB_TEST_SCREENSHOTS names a folder). axe-core runs
    once, at the phone's width, where the layout is narrowest (WCAG's reflow, target sizes):
    colours, names, roles and structure are the same at both, and a second run was half of
    every page check's cost. ``checker`` is a tab with JavaScript on, for a page browsed
    with it off: the copy of the page there is checked, and the page itself is left as it is."""
    target = page
    if checker is not None:
        html = await page.content()
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        await checker.goto(origin + "/healthz")  # the copy's links and styles resolve as the page's
        await checker.set_content(html)
        target = checker
    for width in WIDTHS:
        await target.set_viewport_size({"width": width, "height": 900})
        # The page as it settles: NHS.UK's header moves what does not fit into its menu on
        # the next animation frame after a resize.
        await target.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        await photograph(target, f"{name}-{width}", full_page=True)
        overflow = await target.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{name} scrolls sideways at {width}px"
    violations = await axe_violations(target)
    assert violations == [], f"{name} at {WIDTHS[-1]}px: {violations}"


async def sign_in(page: Any, console: Console, username: str, start: str = "/") -> None:
    """Through the console's sign-in page and the provider's login page, as a person does."""
    await page.goto(console.url + start)
    assert "/sign-in" in page.url
    await page.click("button:has-text('Sign in with your organisation')")
    assert page.url.startswith(console.settings.identity_provider.issuer or "-"), page.url
    await page.check(f"input[name=username][value={username}]")
    await page.click("button[type=submit]")
    await page.wait_for_url(console.url + "/**")
