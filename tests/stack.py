"""A private hub for fault-injection runs and benchmarks: its own Apache Kafka broker and
PostgreSQL cluster (the project's scripts, on free ports, state under .state/<name>) and
every process of the four services as separate OS processes, each of which can be
signalled and restarted.

The service processes are forked from one process that has imported the four services
once (``fork_server``), as a pre-loading server forks its workers: importing them costs
about 3 CPU seconds a process, and a run starts dozens. Each is still its own OS process,
with its own connections and state, started by its service's command (``feedback-intake
api``...) with its own environment, and killed by a real signal."""

import asyncio
import gc
import importlib.metadata
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hub_shared import kafka_admin
from hub_shared.auth import DevKeys
from hub_shared.testing import free_port

REPO = Path(__file__).resolve().parents[1]
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


def fork_server() -> None:
    """Run by ``Forks``: import every service's command (and the operator's ``hub``) once, then
    for each request read on stdin (a JSON line: ``{"start": [service, *arguments], "env":
    {...}, "log": path}``, or
    ``{"wait": pid}``) fork a child that runs the command, or wait for one to end; answer
    with a JSON line (``{"pid": n}``, ``{"code": n}``): one request at a time. Ends when
    stdin closes."""
    commands = {
        service: importlib.metadata.entry_points(group="console_scripts", name=service)[service].load()
        for service in (*SERVICES, "hub")
    }
    gc.freeze()  # what was imported stays shared with the children (no copy on write from the collector)
    ended: dict[int, int] = {}

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            ended[pid] = os.waitstatus_to_exitcode(status)

    def answer(reply: dict[str, int]) -> None:
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()

    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0.5)
        reap()
        if not readable:
            continue
        line = sys.stdin.readline()
        if not line:
            return
        request = json.loads(line)
        if "wait" in request:
            pid = request["wait"]
            if pid not in ended:
                ended[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            answer({"code": ended.pop(pid)})
            continue
        service, *arguments = request["start"]
        pid = os.fork()
        if pid == 0:  # the child: its service's command, as its console script runs it
            code = 1
            try:
                log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                os.environ.clear()
                os.environ.update(request["env"])
                sys.argv = [service, *arguments]
                commands[service](args=arguments, prog_name=service)
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        answer({"pid": pid})


SERVICES = ("feedback-intake", "reporting", "membership", "notification")


class Forks:
    """The hub's fork server (``fork_server``), started with the environment every service
    process gets (a module may read it as it is imported)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "-c", "from tests.stack import fork_server; fork_server()"],
            env=env,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, int]:
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write(json.dumps(request) + "\n")
        self.server.stdin.flush()
        reply = self.server.stdout.readline()
        if not reply:
            raise RuntimeError(f"the fork server ended (exit code {self.server.wait()})")
        return json.loads(reply)  # type: ignore[no-any-return]

    def start(self, service: str, command: str, env: dict[str, str], log: Path, *arguments: str) -> int:
        """Fork ``service command *arguments``, its output appended to ``log``; its pid."""
        return self._ask({"start": [service, command, *arguments], "env": env, "log": str(log)})["pid"]

    def wait(self, pid: int) -> int:
        """The exit code of a process it forked (which has ended, or will)."""
        return self._ask({"wait": pid})["code"]

    def stop(self) -> None:
        assert self.server.stdin is not None
        self.server.stdin.close()
        self.server.wait(timeout=30)


@dataclass
class Process:
    name: str
    service: str
    command: str
    env: dict[str, str]
    logs: Path
    forks: Forks
    pid: int | None = None  # the latest started
    pidfd: int | None = None  # of that one: readable once it has ended

    def start(self) -> None:
        self.close()
        self.pid = self.forks.start(self.service, self.command, self.env, self.logs / f"{self.name}.log")
        self.pidfd = os.pidfd_open(self.pid)

    @property
    def running(self) -> bool:
        return self.pidfd is not None and not select.select([self.pidfd], [], [], 0)[0]

    def send(self, sig: int) -> None:
        if self.running:
            assert self.pidfd is not None
            signal.pidfd_send_signal(self.pidfd, sig)

    def wait(self, timeout: float) -> bool:
        """True once it has ended, False if it still runs after ``timeout`` seconds."""
        return self.pidfd is None or bool(select.select([self.pidfd], [], [], timeout)[0])

    def signal(self, sig: int) -> None:
        if self.running:
            self.send(sig)
            if not self.wait(40):
                self.send(signal.SIGKILL)
                self.wait(40)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


@dataclass
class Hub:
    state: Path
    kafka_port: int
    pg_port: int
    api_port: int
    keys: DevKeys
    membership_port: int = 0
    script_env: dict[str, str] = field(default_factory=dict)  # for deploy/kafka.sh and postgres.sh
    forks: Forks | None = None
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
            **self.script_env,
        }
        subprocess.run([str(REPO / "deploy" / script), action], env=env, check=True, stdout=subprocess.DEVNULL)

    def note(self, fault: str) -> None:
        line = f"{time.monotonic() - self.started:7.1f}s  {fault}"
        self.faults.append(line)
        print(f"{self.state.name}: {line}", flush=True)


def start_hub(
    name: str, extra_env: dict[str, str] | None = None, smtp_port: int = 0, script_env: dict[str, str] | None = None
) -> Hub:
    """Start everything, fresh, with state under .state/<name>; returns once intake's and
    membership's APIs are ready. Notification sends to the SMTP server on ``smtp_port``
    (give one: a sink the caller runs). ``extra_env`` overrides settings of every process;
    ``script_env`` those of the broker's and PostgreSQL's scripts."""
    state = REPO / ".state" / name
    state.mkdir(parents=True, exist_ok=True)
    for folder in ("kafka", "postgres", "logs"):
        subprocess.run(["rm", "-rf", str(state / folder)], check=True)
    (state / "logs").mkdir()
    hub = Hub(
        state,
        free_port_pair(),
        free_port(),
        free_port(),
        DevKeys(state / "keys").ensure(),
        free_port(),
        script_env=script_env or {},
    )
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
        # Notification opens contact cards with keys asked of this hub's membership.
        "NOTIFICATION_MEMBERSHIP_URL": f"http://127.0.0.1:{hub.membership_port}",
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
    hub.forks = Forks(env)
    migrations = {
        service: hub.forks.start(service, "migrate", env, state / "logs" / f"{service}-migrate.log")
        for service in SERVICES
    }
    for service, pid in migrations.items():
        if hub.forks.wait(pid) != 0:
            stop_hub(hub)
            raise RuntimeError(f"{service} migrate failed: {(state / 'logs' / f'{service}-migrate.log').read_text()}")
    for process_name, service, command in PROCESSES:
        process = Process(process_name, service, command, env, state / "logs", hub.forks)
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
    running = [p for p in hub.processes.values() if p.running]
    for process in running:
        process.send(signal.SIGTERM)
    for process in running:
        if not process.wait(40):
            process.send(signal.SIGKILL)
            process.wait(40)
    for process in hub.processes.values():
        process.close()
    if hub.forks is not None:
        hub.forks.stop()
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda script: hub.script(script, "stop"), ("kafka.sh", "postgres.sh")))
