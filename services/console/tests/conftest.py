"""The console against the real OpenID Connect provider (``deploy/oidc.sh``, started on a
private port), served for real by uvicorn, driven by Debian's Chromium through Playwright;
reporting's real API in-process (SQLite) answers the console's calls with the person's token.

The provider, Chromium, serving a console and signing in are ``hub_shared.console_testing``'s
(shared with the journeys through the whole hub, tests/e2e). Self-contained: no broker or
PostgreSQL is needed. ``CONSOLE_TEST_OIDC_PORT`` picks the provider's port (default: a free one)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

import reporting.main as reporting_main
from hub_shared.auth import DevKeys
from hub_shared.console_testing import (
    DEMO_USERS,
    Console,
    Provider,
    free_port,
    idp,
    needs_chromium,
    sign_in,
)
from hub_shared.console_testing import running_console as serve_console
from hub_shared.testing import migrated
from reporting.settings import ReportingSettings

__all__ = ["DEMO_USERS", "Console", "Provider", "free_port", "idp", "needs_chromium", "running_console", "sign_in"]


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
    migrated(reporting_main.MIGRATIONS, database)
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
    """A console calling reporting, and any other service a test serves in-process
    (``transports``: name -> transport)."""
    served = {"reporting": httpx.ASGITransport(app=reporting.app), **(transports or {})}
    async with serve_console(provider, tmp, served, **overrides) as console:
        console.reporting, console.keys = reporting.app, reporting.keys
        yield console


@pytest_asyncio.fixture(scope="module")
async def console(
    provider: Provider, reporting: Reporting, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    """One console for a module's tests; each test uses its own browser context (its own session)."""
    async with running_console(provider, reporting, tmp_path_factory.mktemp("console")) as running:
        yield running
