"""Dependency checks behind /readyz and the workers' ``check`` command."""

import asyncio

from aiokafka import AIOKafkaClient
from sqlalchemy.ext.asyncio import AsyncEngine

from hub_shared.db import ping


async def kafka_ping(bootstrap_servers: str, timeout: float = 3.0) -> None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
    finally:
        await client.close()


async def check_dependencies(engine: AsyncEngine, bootstrap_servers: str) -> dict[str, str]:
    """'ok' or the reason, per dependency."""
    checks: dict[str, str] = {}
    for name, probe in (("database", ping(engine)), ("broker", kafka_ping(bootstrap_servers))):
        try:
            await asyncio.wait_for(probe, 5)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unavailable: {exc!r}"[:300]
    return checks
