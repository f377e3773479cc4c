"""Joining with a known address does less work than with a new one; the answer must not
take measurably less time, or its timing would say the address is registered."""

import statistics
import time
from typing import Any

import pytest

from .conftest import JOIN


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"public_response_floor_ms": 150}


async def test_known_and_new_addresses_take_the_same_time(client) -> None:
    async def timed(body: dict[str, Any]) -> float:
        started = time.perf_counter()
        response = await client.post("/v1/join", json=body)
        assert response.status_code == 202
        return time.perf_counter() - started

    new = [await timed({**JOIN, "email": f"new{i}@example.org"}) for i in range(4)]
    known = [await timed({**JOIN, "email": f"new{i}@example.org"}) for i in range(4)]
    assert min(new + known) >= 0.15
    assert abs(statistics.median(new) - statistics.median(known)) < 0.05
