"""Every page and API response of every service carries the security headers (one
implementation, ``hub_shared.web.SecurityHeaders``), and a browser's form from another site
is refused before it reaches any route (``SameSiteForms``): the dashboard's sign-in and
sign-out, membership's public forms, every API write."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from hub_shared.auth import DevKeys

from .services import SERVICES

PATHS = ["/healthz", "/openapi.json", "/docs", "/no-such-page"]
FOREIGN_POSTS = {
    "feedback-intake": ["/v1/feedback"],
    "membership": ["/join", "/link", "/v1/join"],
    "notification": ["/v1/branding/01A"],
    "reporting": ["/dashboard/sign-in", "/dashboard/sign-out"],
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    return DevKeys(Path(tmp_path_factory.mktemp("keys"))).ensure()


def app_of(name: str, keys: DevKeys, tmp_path: Path) -> Any:
    service = SERVICES[name]
    settings = service.settings().model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'never-used.db'}", "jwks_path": keys.jwks_path}
    )
    return service.create_app(settings)


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_response_of_every_service_has_the_security_headers(
    name: str, keys: DevKeys, tmp_path: Path
) -> None:
    app = app_of(name, keys, tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        for path in PATHS:
            r = await client.get(path)
            policy = r.headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, (name, path)
            assert r.headers["x-content-type-options"] == "nosniff", (name, path)
            assert r.headers["referrer-policy"] == "same-origin", (name, path)
    await app.state.engine.dispose()


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_a_form_posted_from_another_site_is_refused(name: str, keys: DevKeys, tmp_path: Path) -> None:
    app = app_of(name, keys, tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        for path in FOREIGN_POSTS[name]:
            for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
                r = await client.post(
                    path,
                    content=b"token=x",
                    headers={**headers, "Content-Type": "application/x-www-form-urlencoded", "Cookie": "hub_token=x"},
                )
                assert r.status_code == 403, (name, path, headers, r.status_code)
                assert r.headers["content-type"] == "application/problem+json"
    await app.state.engine.dispose()
