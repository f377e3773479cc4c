"""Intake's API on a real SQLite store (no broker needed: events wait in the outbox)."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from feedback_intake.main import MIGRATIONS, create_app
from feedback_intake.settings import IntakeSettings
from hub_shared.auth import SCOPES, DevKeys
from hub_shared.testing import migrated


@pytest.fixture
def settings_overrides() -> dict:
    return {}


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    """One key pair for the test process: generating an RSA key costs a tenth of a second."""
    return DevKeys(tmp_path_factory.mktemp("keys")).ensure()


@pytest_asyncio.fixture
async def app(tmp_path: Path, keys: DevKeys, settings_overrides: dict):  # type: ignore[no-untyped-def]
    settings = IntakeSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}", HUB_JWKS_PATH=keys.jwks_path, **settings_overrides
    )
    migrated(MIGRATIONS, settings.database_url)
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest_asyncio.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as c:
        yield c


def auth(keys: DevKeys, org: str, scopes: tuple[str, ...] = tuple(SCOPES)) -> dict[str, str]:
    settings = IntakeSettings()
    token = keys.issue(
        organisation=org, scopes=list(scopes), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    return {"Authorization": f"Bearer {token}"}
