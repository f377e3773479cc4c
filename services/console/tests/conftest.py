"""The console against the real OpenID Connect provider (``deploy/oidc.sh``, started here on
a private port), served for real by uvicorn, driven by Debian's Chromium through Playwright;
reporting's real API in-process (SQLite) answers the console's calls with the person's token.

Self-contained: no broker or PostgreSQL is needed. ``CONSOLE_TEST_OIDC_PORT`` picks the
provider's port (default: a free one)."""

import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import select

import reporting.main as reporting_main
from console.main import MIGRATIONS, create_app
from console.models import StaffSession
from console.settings import ConsoleSettings
from hub_shared import migrations
from hub_shared.auth import DevKeys
from hub_shared.db import create_engine, session_factory
from hub_shared.identity import IdentityProviderSettings
from reporting.settings import ReportingSettings

REPO = Path(__file__).resolve().parents[3]
OIDC = REPO / "deploy" / "oidc.sh"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = REPO / "services" / "console" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO / ".state" / "console-pages"
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
API_AUDIENCE = "ics-engagement-hub"
DEMO_USERS = {
    "icb-analyst": ("Asha Patel", "QZZ", "Demo Integrated Care Board"),
    "place-officer": ("Ben Okafor", "01A", "Northvale Place"),
    "practice-manager": ("Carys Evans", "P81001", "Church Street Surgery"),
}

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Provider:
    issuer: str
    port: int


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The real provider, as `make run` starts it, on a private port and state directory."""
    port = int(os.environ.get("CONSOLE_TEST_OIDC_PORT") or free_port())
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_STATE_DIR": str(tmp_path_factory.mktemp("oidc"))}
    started = subprocess.run([str(OIDC), "start"], env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, f"deploy/oidc.sh start failed:\n{started.stdout}\n{started.stderr}"
    try:
        yield Provider(issuer=f"http://127.0.0.1:{port}/ics-hub", port=port)
    finally:
        subprocess.run([str(OIDC), "stop"], env=env, capture_output=True, timeout=60)


@dataclass
class Console:
    url: str
    app: Any
    settings: ConsoleSettings
    sessions: Any
    reporting: Any
    keys: DevKeys

    async def stored_sessions(self) -> list[StaffSession]:
        async with self.sessions() as db:
            return list((await db.scalars(select(StaffSession))).all())

    async def session_of(self, context: Any) -> StaffSession | None:
        """The stored session of a browser context (by the hash of its cookie's id)."""
        cookies = {c["name"]: c["value"] for c in await context.cookies(self.url)}
        session_id = cookies.get("__Host-console_session")
        if session_id is None:
            return None
        async with self.sessions() as db:
            return await db.get(StaffSession, hashlib.sha256(session_id.encode()).hexdigest())


def idp(provider: Provider) -> IdentityProviderSettings:
    return IdentityProviderSettings(issuer=provider.issuer, audience=API_AUDIENCE)


async def serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


@dataclass
class Reporting:
    app: Any
    keys: DevKeys


@pytest.fixture(scope="session")
def reporting(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Reporting:
    """reporting's real API (its own SQLite store) trusting the same provider and the
    machine clients' development keys."""
    tmp = tmp_path_factory.mktemp("reporting")
    keys = DevKeys(tmp / "keys").ensure()
    database = f"sqlite+aiosqlite:///{tmp / 'reporting.db'}"
    migrations.upgrade(reporting_main.MIGRATIONS, database)
    app = reporting_main.create_app(
        ReportingSettings(database_url=database, jwks_path=keys.jwks_path, identity_provider=idp(provider))
    )
    return Reporting(app=app, keys=keys)


@asynccontextmanager
async def running_console(
    provider: Provider,
    reporting: Reporting,
    tmp: Path,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    **overrides: Any,
) -> AsyncIterator[Console]:
    """A console (its own SQLite session store) served on a free port, calling reporting
    (and the services in ``transports``, e.g. notification's app through ``httpx.ASGITransport``)."""
    database = f"sqlite+aiosqlite:///{tmp / 'console.db'}"
    migrations.upgrade(MIGRATIONS, database)
    port = free_port()
    settings = ConsoleSettings(
        database_url=database,
        public_url=f"http://127.0.0.1:{port}",
        client_secret="test-only-console-client-secret",
        identity_provider=idp(provider),
        **overrides,
    )
    app = create_app(settings, transports={"reporting": httpx.ASGITransport(app=reporting.app), **(transports or {})})
    server, task = await serve(app, port)
    engine = create_engine(database)
    try:
        yield Console(
            url=settings.public_url,
            app=app,
            settings=settings,
            sessions=session_factory(engine),
            reporting=reporting.app,
            keys=reporting.keys,
        )
    finally:
        server.should_exit = True
        await task
        await engine.dispose()


@pytest_asyncio.fixture(scope="module")
async def console(
    provider: Provider, reporting: Reporting, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    """One console for a module's tests; each test uses its own browser context (its own session)."""
    async with running_console(provider, reporting, tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


async def sign_in(page: Any, console: Console, username: str, start: str = "/") -> None:
    """Through the console's sign-in page and the provider's login page, as a person does."""
    await page.goto(console.url + start)
    assert "/sign-in" in page.url
    await page.click("button:has-text('Sign in with your organisation')")
    assert page.url.startswith(console.settings.identity_provider.issuer or "-"), page.url
    await page.check(f"input[name=username][value={username}]")
    await page.click("button[type=submit]")
    await page.wait_for_url(console.url + "/**")
