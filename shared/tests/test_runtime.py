"""A consumer process whose broker goes away just as it starts waits for the broker again
instead of exiting (a restart racing a crash left consumers dead, and emails unsent)."""

from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from hub_shared import runtime
from hub_shared.settings import ServiceSettings


async def test_a_broker_lost_as_consumers_start_is_waited_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[str] = []
    starts: list[str] = []

    async def wait_for_broker(bootstrap_servers: str) -> None:
        waits.append(bootstrap_servers)

    async def consume(name: str, settings: Any, consumers: Any) -> None:
        starts.append(name)
        if len(starts) < 3:
            raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092)]")

    monkeypatch.setattr(runtime, "wait_for_broker", wait_for_broker)
    monkeypatch.setattr(runtime, "_consume", consume)
    await runtime._run_consumers("svc", ServiceSettings(), lambda settings, sessions: [])
    assert starts == ["svc"] * 3 and len(waits) == 3


async def test_anything_else_still_stops_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    async def wait_for_broker(bootstrap_servers: str) -> None:
        return None

    async def consume(name: str, settings: Any, consumers: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(runtime, "wait_for_broker", wait_for_broker)
    monkeypatch.setattr(runtime, "_consume", consume)
    with pytest.raises(RuntimeError):
        await runtime._run_consumers("svc", ServiceSettings(), lambda settings, sessions: [])
