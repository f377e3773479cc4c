"""The public forms' limit counts the client's own address: served as `membership api`
serves it (uvicorn with hub_shared.web.server_options), an X-Forwarded-For header is believed
only from a proxy named in HUB_TRUSTED_PROXIES, and none is named by default."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from hub_shared.ratelimit import RateLimit
from hub_shared.testing import free_port
from hub_shared.web import server_options


@asynccontextmanager
async def served(app, trusted_proxies: str) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    settings = app.state.settings.model_copy(update={"http_port": free_port(), "trusted_proxies": trusted_proxies})
    server = uvicorn.Server(uvicorn.Config(app, **server_options(settings), lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{settings.http_port}"
    finally:
        server.should_exit = True
        await serving


async def codes_with_rotating_forwarded_for(base_url: str) -> list[int]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        return [
            (
                await client.post(
                    "/v1/links", json={"email": f"p{i}@example.org"}, headers={"X-Forwarded-For": f"203.0.113.{i}"}
                )
            ).status_code
            for i in range(4)
        ]


async def test_a_client_cannot_choose_its_address_by_header(app) -> None:
    app.state.public_rate_limit = RateLimit("3/minute")
    async with served(app, trusted_proxies="") as base_url:
        assert await codes_with_rotating_forwarded_for(base_url) == [202, 202, 202, 429]


async def test_a_trusted_proxys_forwarded_address_is_the_client(app) -> None:
    app.state.public_rate_limit = RateLimit("3/minute")
    async with served(app, trusted_proxies="127.0.0.1") as base_url:
        assert await codes_with_rotating_forwarded_for(base_url) == [202, 202, 202, 202]
