"""Reporting takes no free text: every parameter it reads has a shape (an ODS code, a
month), so a NUL or a line break in one is a field error, never a 500 nor a query run."""

from pathlib import Path

import httpx
import pytest

from hub_shared.auth import SCOPES, DevKeys
from hub_shared.testing import migrated
from reporting.main import MIGRATIONS, create_app
from reporting.settings import ReportingSettings


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/reports/themes/01A", {"month": "2026-10\x00"}, "query.month"),
        ("/v1/reports/comments/01A", {"month": "2026-10\n"}, "query.month"),
        ("/v1/reports/scorecard/01A%00", {}, "organisation_code"),  # not an organisation of this ICS
    ],
)
async def test_a_parameter_with_a_control_character_is_refused(tmp_path: Path, path, params, field) -> None:  # type: ignore[no-untyped-def]
    keys = DevKeys(tmp_path / "keys").ensure()
    url = f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    migrated(MIGRATIONS, url)
    settings = ReportingSettings(database_url=url, HUB_JWKS_PATH=str(keys.jwks_path))
    app = create_app(settings)
    token = keys.issue(
        organisation="QZZ", scopes=list(SCOPES), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        response = await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    await app.state.engine.dispose()
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
