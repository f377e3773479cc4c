"""The per-organisation rate limit holds across API workers when they share a store
(PostgreSQL): the real ``feedback-intake api`` with two uvicorn workers."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from feedback_intake.main import MIGRATIONS
from hub_shared.auth import DevKeys
from hub_shared.console_testing import free_port
from hub_shared.testing import migrated

from .conftest import auth

ITEM = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "fft_sms",
    "fft_answer": "good",
    "occurred_at": "2026-11-01T10:00:00Z",
}


@pytest.fixture
def two_workers(new_postgres_database, keys: DevKeys, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = new_postgres_database("intake_limit")
    migrated(MIGRATIONS, url)
    port = free_port()
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": url,
        "INTAKE_HTTP_PORT": str(port),
        "INTAKE_HTTP_WORKERS": "2",
        "INTAKE_RATE_LIMIT": "20/hour",
        "INTAKE_RATE_LIMIT_STORAGE": url,  # the service's own database holds the counters
        "HUB_JWKS_PATH": str(keys.jwks_path),
        "HUB_LOG_LEVEL": "WARNING",
    }
    api = Path(sys.executable).parent / "feedback-intake"
    log = (tmp_path / "api.log").open("w")
    process = subprocess.Popen([str(api), "api"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    # Stopped however the test ends, a start that timed out included: uvicorn's supervisor
    # left running would keep replacing workers that miss its health check for the whole run.
    try:
        with httpx.Client() as client:  # one client: each new one builds its TLS context again
            while True:
                try:
                    if client.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "api.log").read_text()
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_two_workers_share_one_organisations_limit(two_workers, keys) -> None:  # type: ignore[no-untyped-def]
    headers = auth(keys, "01A")

    # A connection per request (none kept alive), so the kernel hands requests to both workers.
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=two_workers, headers=headers, limits=no_reuse) as client:
        responses = await asyncio.gather(*(client.post("/v1/feedback", json=ITEM) for _ in range(40)))
    assert sorted(r.status_code for r in responses) == [201] * 20 + [429] * 20
    async with httpx.AsyncClient(base_url=two_workers) as client:
        other = await client.post(
            "/v1/feedback", json={**ITEM, "organisation_code": "P82001"}, headers=auth(keys, "02B")
        )
    assert other.status_code == 201  # per organisation
