"""The per-organisation rate limit holds across API workers when they share a store
(PostgreSQL): the real ``feedback-intake api`` with two uvicorn workers."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from feedback_intake.main import MIGRATIONS
from hub_shared.auth import DevKeys
from hub_shared.testing import migrated

from .conftest import auth

ITEM = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "fft_sms",
    "fft_answer": "good",
    "occurred_at": "2026-11-01T10:00:00Z",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
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

    async def post() -> int:
        # A connection per request, so the kernel hands requests to both workers.
        async with httpx.AsyncClient(base_url=two_workers, headers=headers) as client:
            return (await client.post("/v1/feedback", json=ITEM)).status_code

    statuses = await asyncio.gather(*(post() for _ in range(40)))
    assert sorted(statuses) == [201] * 20 + [429] * 20
    async with httpx.AsyncClient(base_url=two_workers) as client:
        other = await client.post(
            "/v1/feedback", json={**ITEM, "organisation_code": "P82001"}, headers=auth(keys, "02B")
        )
    assert other.status_code == 201  # per organisation
