"""Every service of the hub, served for real (uvicorn on a free loopback port, in a thread
with its own event loop) against fresh databases, for tests that speak HTTP from outside
as an integrator would: the OpenAPI contract tests (schemathesis)."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

import feedback_intake.main
import membership.main
import notification.main
import reporting.main
from hub_shared.auth import SCOPES, DevKeys
from hub_shared.logging import configure_logging
from hub_shared.runtime import ServiceDefinition
from hub_shared.testing import free_port, migrated

# Every service the hub ships: a new service is covered by adding it here.
SERVICES: dict[str, ServiceDefinition] = {
    "feedback-intake": feedback_intake.main.SERVICE,
    "membership": membership.main.SERVICE,
    "notification": notification.main.SERVICE,
    "reporting": reporting.main.SERVICE,
}

# Roles the generated requests are sent as: the ICB, a place, a practice, and a
# read-only client (each service's write routes then answer 403, which must be documented).
ALL = list(SCOPES)
READ_SCOPES = [s for s in SCOPES if s.endswith(":read")]
ROLES: list[tuple[str, list[str]]] = [
    ("QZZ", list(SCOPES)),
    ("01A", list(SCOPES)),
    ("P81001", list(SCOPES)),
    ("02B", READ_SCOPES),
]


@dataclass
class LiveService:
    name: str
    base_url: str
    settings: Any


@contextmanager
def serve(app: Any, port: int) -> Iterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the service on port {port} did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def live_service(
    name: str, database_url: str, bootstrap_servers: str, keys: DevKeys, **overrides: Any
) -> Iterator[LiveService]:
    """Migrate a fresh store, create the service's app as `<service> api` would, serve it."""
    service = SERVICES[name]
    settings_class: Callable[..., Any] = service.settings
    fields = getattr(settings_class, "model_fields", {})
    # Generated traffic is fast: rate limits would turn most of it into (documented) 429s.
    limits = {f: "1000000/minute" for f in ("rate_limit", "public_rate_limit") if f in fields}
    settings = settings_class(
        database_url=database_url,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
        HUB_JWKS_PATH=keys.jwks_path,
        **{**limits, **overrides},
    )
    migrated(service.migrations_dir, settings.database_url)
    configure_logging(name)  # as `<service> api` does (JSON unless on a terminal)
    port = free_port()
    with serve(service.create_app(settings), port):
        yield LiveService(name, f"http://127.0.0.1:{port}", settings)


def token_for(keys: DevKeys, settings: Any, organisation: str, scopes: list[str]) -> str:
    return keys.issue(
        organisation=organisation, scopes=scopes, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )


def keys_in(directory: Path) -> DevKeys:
    return DevKeys(directory).ensure()
