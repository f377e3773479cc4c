"""A private hub for fault-injection runs and benchmarks: its own Apache Kafka broker and
PostgreSQL cluster (the project's scripts, on free ports, state under .state/<name>) and
every process of the four services as separate OS processes, each of which can be
signalled and restarted."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hub_shared import kafka_admin
from hub_shared.auth import DevKeys

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROCESSES = [
    ("intake-api", "feedback-intake", "api"),
    ("intake-relay", "feedback-intake", "relay"),
    # Two consumer processes of each group share the partitions: each event applies once.
    ("intake-consumer", "feedback-intake", "consume"),
    ("intake-consumer-2", "feedback-intake", "consume"),
    ("reporting-consumer", "reporting", "consume"),
    ("reporting-consumer-2", "reporting", "consume"),
    ("reporting-relay", "reporting", "relay"),
    ("reporting-api", "reporting", "api"),
    ("membership-api", "membership", "api"),
    ("membership-relay", "membership", "relay"),
    ("membership-consumer", "membership", "consume"),
    ("notification-consumer", "notification", "consume"),
    ("notification-worker", "notification", "worker"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_pair() -> int:
    """A port p with p+1 free too (the broker's controller listens on p+1)."""
    while True:
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    logs: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.logs / f"{self.name}.log", "ab")  # noqa: SIM115 (the child keeps it)
        self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log, cwd=REPO)

    def signal(self, sig: int) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Hub:
    state: Path
    kafka_port: int
    pg_port: int
    api_port: int
    keys: DevKeys
    membership_port: int = 0
    processes: dict[str, Process] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)  # what the HTTP client was answered
    started: float = field(default_factory=time.monotonic)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def db_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{name}"

    def script(self, script: str, action: str) -> None:
        env = {
            **os.environ,
            "KAFKA_PORT": str(self.kafka_port),
            "KAFKA_STATE_DIR": str(self.state / "kafka"),
            "PG_PORT": str(self.pg_port),
            "PG_STATE_DIR": str(self.state / "postgres"),
        }
        subprocess.run([str(REPO / "deploy" / script), action], env=env, check=True, stdout=subprocess.DEVNULL)

    def note(self, fault: str) -> None:
        line = f"{time.monotonic() - self.started:7.1f}s  {fault}"
        self.faults.append(line)
        print(f"{self.state.name}: {line}", flush=True)


def start_hub(name: str, extra_env: dict[str, str] | None = None, smtp_port: int = 0) -> Hub:
    """Start everything, fresh, with state under .state/<name>; returns once intake's and
    membership's APIs are ready. Notification sends to the SMTP server on ``smtp_port``
    (give one: a sink the caller runs). ``extra_env`` overrides settings of every process."""
    state = REPO / ".state" / name
    state.mkdir(parents=True, exist_ok=True)
    for folder in ("kafka", "postgres", "logs"):
        subprocess.run(["rm", "-rf", str(state / folder)], check=True)
    (state / "logs").mkdir()
    hub = Hub(state, free_port_pair(), free_port(), free_port(), DevKeys(state / "keys").ensure(), free_port())
    with ThreadPoolExecutor() as pool:  # the broker and PostgreSQL start side by side
        list(pool.map(lambda script: hub.script(script, "start"), ("kafka.sh", "postgres.sh")))
    asyncio.run(kafka_admin.create_topics(hub.bootstrap))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": hub.bootstrap,
        "HUB_JWKS_PATH": str(hub.keys.jwks_path),
        "INTAKE_DATABASE_URL": hub.db_url("feedback_intake"),
        "REPORTING_DATABASE_URL": hub.db_url("reporting"),
        "MEMBERSHIP_DATABASE_URL": hub.db_url("membership"),
        "NOTIFICATION_DATABASE_URL": hub.db_url("notification"),
        "INTAKE_HTTP_PORT": str(hub.api_port),
        "INTAKE_RATE_LIMIT": "100000/minute",
        "REPORTING_HTTP_PORT": str(free_port()),
        "MEMBERSHIP_HTTP_PORT": str(hub.membership_port),
        "MEMBERSHIP_PUBLIC_RATE_LIMIT": "100000/minute",
        "MEMBERSHIP_PUBLIC_RESPONSE_FLOOR_MS": "0",
        "NOTIFICATION_HTTP_PORT": str(free_port()),
        "NOTIFICATION_SMTP_PORT": str(smtp_port or free_port()),
        # Retries on a temporary refusal come quickly here, so a run settles in minutes.
        "NOTIFICATION_RETRY_BASE_SECONDS": "1",
        "NOTIFICATION_RETRY_MAX_SECONDS": "5",
        "NOTIFICATION_MAX_ATTEMPTS": "30",
        "NOTIFICATION_RELAY_DOWN_MAX_BACKOFF_SECONDS": "5",
        "NOTIFICATION_WORKER_IDLE_SECONDS": "0.2",
        "NOTIFICATION_ORG_RATE_LIMIT": "100000/minute",
        "NOTIFICATION_RELAY_RATE_LIMIT": "100000/minute",
        "HUB_LOG_LEVEL": "INFO",
        # Link secrets: this machine's development ones (.state/secrets), as under make run.
        "HUB_DEVELOPMENT_MODE": "1",
        **(extra_env or {}),
    }
    migrations = [
        subprocess.Popen([str(BIN / service), "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for service in ("feedback-intake", "reporting", "membership", "notification")
    ]
    for migration in migrations:
        output, _ = migration.communicate()
        if migration.returncode != 0:
            raise subprocess.CalledProcessError(migration.returncode, migration.args, output)
    for process_name, service, command in PROCESSES:
        process = Process(process_name, [str(BIN / service), command], env, state / "logs")
        process.start()
        hub.processes[process_name] = process
    deadline = time.monotonic() + 120
    for port in (hub.api_port, hub.membership_port):
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                stop_hub(hub)  # nothing left running behind the failure
                raise SystemExit(f"an API did not become ready (see {state / 'logs'})")
            time.sleep(0.3)
    return hub


def stop_hub(hub: Hub) -> None:
    """Every process asked to stop at once, then each waited for (at most 40 s)."""
    running = [p.popen for p in hub.processes.values() if p.popen and p.popen.poll() is None]
    for popen in running:
        popen.send_signal(signal.SIGTERM)
    for popen in running:
        try:
            popen.wait(timeout=40)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda script: hub.script(script, "stop"), ("kafka.sh", "postgres.sh")))
