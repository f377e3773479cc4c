"""Intake benchmark, in one run:
* single-POST throughput of feedback-intake (token, de-identification, triage, PostgreSQL
  write and outbox in one transaction) against a bare FastAPI endpoint with the same
  validation, as a ratio (wrk);
* batch throughput (items/s, 500-item batches with fresh client references) against the
  bare batch endpoint, as a ratio;
* FFT CSV rows/s from upload to their feedback.fft_return events on Kafka;
* the same single-POST throughput with the rate limit in PostgreSQL (shared by workers),
  against the in-memory limit;
* end-to-end latency from POST to the count visible in reporting's API (relay -> Kafka ->
  reporting consumer -> PostgreSQL), p50/p99, one sample at a time on an idle hub (the
  baseline) and while an open loop posts at a fixed rate (--rate, default 500 req/s),
  with the rate it achieved.

    make bench            (or: .venv/bin/python bench/intake.py --seconds 30)

Starts its own Kafka broker (port 19592 or $BENCH_KAFKA_PORT, fresh state) and uses the project's PostgreSQL
(deploy/postgres.sh, port 5433 or $BENCH_PG_PORT) with fresh databases; every service runs as its real
process under uvicorn, as `make run` runs it. Prints figures and ratios; it never fails
on a time."""

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from hub_shared.auth import DevKeys
from hub_shared.kafka_admin import partitions_of
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_EVENTS

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STATE = REPO / ".state" / "bench"
# Ports can be moved (BENCH_KAFKA_PORT, BENCH_PG_PORT, BENCH_HTTP_PORT: the first of the
# HTTP ports, the others follow it) to run beside another hub.
KAFKA_PORT = int(os.environ.get("BENCH_KAFKA_PORT", "19592"))
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5433"))
HTTP_PORT = int(os.environ.get("BENCH_HTTP_PORT", "18001"))
PORTS = {"intake": HTTP_PORT, "intake_shared_limit": HTTP_PORT + 1, "reporting": HTTP_PORT + 3, "bare": HTTP_PORT + 8}
BODY = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "fft_sms",
    "fft_answer": "very_good",
    "text": "Seen quickly and treated kindly.",
    "occurred_at": "2026-11-20T09:30:00Z",
}


def sh(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)


def fresh_database(name: str) -> str:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/{name}"


def wait_drained(database_url: str, timeout: float = 300) -> None:
    """Until the relay has published every outbox row and a little after (the reporting
    consumer), so one run's backlog does not weigh on the next run's figure."""
    deadline = time.monotonic() + timeout
    with psycopg.connect("postgresql://" + database_url.split("://", 1)[1], autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone() != (0,):
            if time.monotonic() > deadline:
                raise SystemExit("the outbox did not drain")
            time.sleep(0.5)
    time.sleep(3)


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"not ready: {url}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process and its children (uvicorn's workers) have used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        used += sum(cpu_seconds(int(child)) for child in (task / "children").read_text().split())
    return used


def throughput(url: str, headers: dict[str, str], seconds: int, connections: int, pid: int) -> tuple[float, float]:
    """Requests/s from wrk (a C load generator: a Python client would be the bottleneck), and
    the serving process's CPU ms per request (steadier than req/s on a shared machine)."""
    script = STATE / "post.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(BODY))}"]
    lines += [
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}"
        for k, v in {**headers, "Content-Type": "application/json"}.items()
    ]
    script.write_text("\n".join(lines) + "\n")
    cpu = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url} refused requests during the run:\n{out}")
    cpu = cpu_seconds(pid) - cpu
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 1000 * cpu / requests  # type: ignore[union-attr]


async def end_to_end(headers: dict[str, str], samples: int, warm: bool = True) -> list[float]:
    """POST one item at a time and time until reporting's count for the practice moves."""
    intake = f"http://127.0.0.1:{PORTS['intake']}/v1/feedback"
    volume = f"http://127.0.0.1:{PORTS['reporting']}/v1/reports/feedback-volume/P82001"
    body = {**BODY, "organisation_code": "P82001"}
    latencies = []
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:

        async def count() -> int:
            received = (await client.get(volume)).json()["received"]
            return 0 if received == "*" else int(received)  # 1 to 4 are disclosure-controlled

        for _ in range(5 if warm else 0):  # past the disclosure threshold, so every later count is shown
            assert (await client.post(intake, json=body)).status_code == 201
        while await count() < 5:
            await asyncio.sleep(0.01)
        seen = await count()
        for _ in range(samples):
            started = time.perf_counter()
            assert (await client.post(intake, json=body)).status_code == 201
            while await count() == seen:
                if time.perf_counter() - started > 30:
                    raise SystemExit("an event took over 30 s to reach reporting")
                await asyncio.sleep(0.002)
            latencies.append(time.perf_counter() - started)
            seen += 1
    return latencies


class OpenLoop:
    """POSTs at a fixed rate whatever the answers' latency (an open loop: a slow answer does
    not delay the next request), on raw keep-alive HTTP/1.1 connections so the generator
    stays cheap; a new connection is opened when every open one is busy, up to 64."""

    def __init__(self, port: int, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(payload)}"]
        lines += [f"{k}: {v}" for k, v in {**headers, "Content-Type": "application/json"}.items()]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        self.port = port
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self.sent = self.answered = self.failed = self.late = self.waited = 0
        self.opened = 0
        self.max_connections = 64

    async def _one(self) -> None:
        if self.idle.empty() and self.opened < self.max_connections:
            self.opened += 1
            connection = await asyncio.open_connection("127.0.0.1", self.port)
        else:
            if self.idle.empty():
                self.waited += 1  # every connection busy: this request waits for one
            connection = await self.idle.get()
        reader, writer = connection
        writer.write(self.request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        if head.startswith(b"HTTP/1.1 201"):
            self.answered += 1
        else:
            self.failed += 1
        self.idle.put_nowait(connection)

    async def run(self, rate: float, seconds: float) -> float:
        """Sends rate x seconds requests on schedule; returns the rate achieved (answered/s)."""
        tasks = []
        started = time.perf_counter()
        for n in range(int(rate * seconds)):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                self.late += 1  # the generator itself fell behind
            tasks.append(asyncio.create_task(self._one()))
            self.sent += 1
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        while not self.idle.empty():
            self.idle.get_nowait()[1].close()
        return self.answered / elapsed


async def end_to_end_under_load(
    headers: dict[str, str], rate: float, seconds: float
) -> tuple[list[float], OpenLoop, float]:
    """End-to-end latency samples taken one after another while an open loop posts at ``rate``."""
    load = OpenLoop(PORTS["intake"], "/v1/feedback", headers, BODY)
    loading = asyncio.create_task(load.run(rate, seconds))
    samples: list[float] = []
    await asyncio.sleep(1)  # let the load reach its rate first
    while not loading.done():
        samples += await end_to_end(headers, 5, warm=False)
    return samples, load, await loading


async def batch_throughput(url: str, headers: dict[str, str], batches: int, size: int) -> float:
    """Items/s posting batches two at a time, each item with a fresh client reference."""
    run = uuid.uuid4().hex[:8]
    bodies = [{"items": [{**BODY, "client_reference": f"{run}-{b}-{i}"} for i in range(size)]} for b in range(batches)]
    async with httpx.AsyncClient(headers=headers, timeout=120) as client:

        async def post(body: dict[str, Any]) -> None:
            response = await client.post(url, json=body)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        for pair in range(0, batches, 2):
            await asyncio.gather(*(post(b) for b in bodies[pair : pair + 2]))
        return batches * size / (time.perf_counter() - started)


async def csv_rows_per_second(headers: dict[str, str], rows: int) -> float:
    """Upload a CSV of ``rows`` distinct practice-months; time until every row's event is on Kafka."""
    practices = [f"P8{p}{n:03d}" for p in (1, 2, 3) for n in range(1, 11)]
    lines = ["Practice Code,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know"]
    for n in range(rows):
        year, month = divmod(n // len(practices), 12)
        lines.append(f"{practices[n % len(practices)]},{1900 + year:04d}-{month + 1:02d},5,4,3,2,1,0")
    bootstrap = f"127.0.0.1:{KAFKA_PORT}"
    partitions = [TopicPartition(FEEDBACK_EVENTS.name, p) for p in await partitions_of(bootstrap, FEEDBACK_EVENTS.name)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # pin the positions now: a lazy reset would skip the first events
            await consumer.position(tp)
        async with httpx.AsyncClient(headers={**headers, "Content-Type": "text/csv"}, timeout=120) as client:
            started = time.perf_counter()
            response = await client.post(
                f"http://127.0.0.1:{PORTS['intake']}/v1/fft-returns/uploads", content="\n".join(lines).encode()
            )
            if response.status_code != 202:
                raise SystemExit(f"upload refused: {response.status_code} {response.text[:300]}")
        seen = 0
        while seen < rows:
            batch = await consumer.getmany(timeout_ms=1000)
            seen += sum(1 for records in batch.values() for r in records if b"feedback.fft_return.v1" in r.value)
            if time.perf_counter() - started > 600:
                raise SystemExit(f"only {seen} of {rows} FFT return events arrived in 600 s")
        return rows / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15, help="length of each throughput run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--samples", type=int, default=200, help="end-to-end latency samples")
    parser.add_argument("--batches", type=int, default=20, help="batches per batch-throughput run")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--csv-rows", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500, help="requests/s of the open loop under end-to-end samples")
    parser.add_argument("--load-seconds", type=float, default=20, help="length of that open loop")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of intake and the bare app")
    args = parser.parse_args()

    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    kafka_env = {**os.environ, "KAFKA_PORT": str(KAFKA_PORT), "KAFKA_STATE_DIR": str(STATE / "kafka")}
    sh(str(REPO / "deploy" / "kafka.sh"), "start", env=kafka_env)
    sh(str(REPO / "deploy" / "postgres.sh"), "start", env={**os.environ, "PG_PORT": str(PG_PORT)})
    keys = DevKeys(STATE / "keys").ensure()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{KAFKA_PORT}",
        "HUB_JWKS_PATH": str(keys.jwks_path),
        "HUB_LOG_LEVEL": "WARNING",
        "INTAKE_DATABASE_URL": fresh_database("bench_intake"),
        "HUB_DEVELOPMENT_MODE": "1",  # this machine's secrets (.state/secrets): the feedback pages' one
        "INTAKE_HTTP_PORT": str(PORTS["intake"]),
        "INTAKE_RATE_LIMIT": "100000000/minute",  # measure the work, not the limiter
        "INTAKE_HTTP_WORKERS": str(args.workers),
        "REPORTING_DATABASE_URL": fresh_database("bench_reporting"),
        "REPORTING_HTTP_PORT": str(PORTS["reporting"]),
    }
    sh(str(BIN / "hub"), "topics", "create", env=env)
    sh(str(BIN / "feedback-intake"), "migrate", env=env)
    sh(str(BIN / "reporting"), "migrate", env=env)
    # The same API with its rate limit in PostgreSQL (what several workers share), to
    # measure what the shared store costs a request.
    shared_limit_env = {
        **env,
        "INTAKE_HTTP_PORT": str(PORTS["intake_shared_limit"]),
        "INTAKE_RATE_LIMIT_STORAGE": env["INTAKE_DATABASE_URL"],
    }
    quiet_workers = ["--log-level", "warning", "--no-access-log", "--workers", str(args.workers)]
    commands = [
        [str(BIN / "feedback-intake"), "api"],
        [str(BIN / "feedback-intake"), "relay"],
        [str(BIN / "reporting"), "api"],
        [str(BIN / "reporting"), "consume"],
        [str(BIN / "uvicorn"), "bench.bare_app:app", "--port", str(PORTS["bare"]), *quiet_workers],
    ]
    log = (STATE / "processes.log").open("w")
    processes = [subprocess.Popen(c, env=env, cwd=REPO, stdout=log, stderr=log) for c in commands]
    processes.append(
        subprocess.Popen(commands[0], env=shared_limit_env, cwd=REPO, stdout=log, stderr=log)  # type: ignore[arg-type]
    )
    try:
        for name, port in PORTS.items():
            asyncio.run(wait_ready(f"http://127.0.0.1:{port}/{'docs' if name == 'bare' else 'readyz'}"))
        settings = ServiceSettings()
        token = keys.issue(
            organisation="QZZ",
            scopes=["feedback:write", "reports:read"],  # QZZ: the ICB may post for every practice
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        headers = {"Authorization": f"Bearer {token}"}
        bare_url = f"http://127.0.0.1:{PORTS['bare']}/v1/feedback"
        intake_url = f"http://127.0.0.1:{PORTS['intake']}/v1/feedback"
        intake_pid, bare_pid, shared_pid = processes[0].pid, processes[4].pid, processes[5].pid
        throughput(bare_url, headers, 2, args.connections, bare_pid)  # warm-up
        throughput(intake_url, headers, 2, args.connections, intake_pid)
        wait_drained(env["INTAKE_DATABASE_URL"])
        bare, bare_cpu = throughput(bare_url, headers, args.seconds, args.connections, bare_pid)
        intake, intake_cpu = throughput(intake_url, headers, args.seconds, args.connections, intake_pid)
        shared_url = f"http://127.0.0.1:{PORTS['intake_shared_limit']}/v1/feedback"
        throughput(shared_url, headers, 2, args.connections, shared_pid)
        wait_drained(env["INTAKE_DATABASE_URL"])
        intake_shared, shared_cpu = throughput(shared_url, headers, args.seconds, args.connections, shared_pid)
        wait_drained(env["INTAKE_DATABASE_URL"])
        bare_batch = asyncio.run(batch_throughput(bare_url + "/batch", headers, args.batches, args.batch_size))
        intake_batch = asyncio.run(batch_throughput(intake_url + "/batch", headers, args.batches, args.batch_size))
        wait_drained(env["INTAKE_DATABASE_URL"])
        csv_rate = asyncio.run(csv_rows_per_second(headers, args.csv_rows))
        asyncio.run(end_to_end(headers, 5))  # warm-up; also waits out the throughput run's backlog
        latencies = asyncio.run(end_to_end(headers, args.samples))
        wait_drained(env["INTAKE_DATABASE_URL"])
        loaded, load, achieved = asyncio.run(end_to_end_under_load(headers, args.rate, args.load_seconds))
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            p.wait(timeout=30)
        sh(str(REPO / "deploy" / "kafka.sh"), "stop", env=kafka_env)

    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    loaded_p50, loaded_p99 = percentile(loaded, 50) * 1000, percentile(loaded, 99) * 1000
    results = {
        "load_average_at_end": os.getloadavg()[0],
        "seconds_per_run": args.seconds,
        "uvicorn_workers": args.workers,
        "connections": args.connections,
        "bare_fastapi_posts_per_s": round(bare, 1),
        "intake_posts_per_s": round(intake, 1),
        "intake_to_bare_ratio": round(intake / bare, 3),
        "bare_cpu_ms_per_post": round(bare_cpu, 3),
        "intake_cpu_ms_per_post": round(intake_cpu, 3),
        "intake_shared_rate_limit_cpu_ms_per_post": round(shared_cpu, 3),
        "intake_shared_rate_limit_posts_per_s": round(intake_shared, 1),
        "shared_rate_limit_to_memory_ratio": round(intake_shared / intake, 3),
        "batch_size": args.batch_size,
        "bare_batch_items_per_s": round(bare_batch, 1),
        "intake_batch_items_per_s": round(intake_batch, 1),
        "batch_intake_to_bare_ratio": round(intake_batch / bare_batch, 3),
        "csv_rows": args.csv_rows,
        "csv_rows_per_s_to_kafka": round(csv_rate, 1),
        "end_to_end_samples": len(latencies),
        "end_to_end_p50_ms": round(p50, 1),
        "end_to_end_p99_ms": round(p99, 1),
        "end_to_end_mean_ms": round(statistics.mean(latencies) * 1000, 1),
        "loaded_rate_asked_per_s": args.rate,
        "loaded_rate_achieved_per_s": round(achieved, 1),
        "loaded_requests_failed": load.failed,
        "loaded_requests_sent_late": load.late,
        "loaded_connections_opened": load.opened,
        "loaded_requests_waited_for_connection": load.waited,
        "loaded_end_to_end_samples": len(loaded),
        "loaded_end_to_end_p50_ms": round(loaded_p50, 1),
        "loaded_end_to_end_p99_ms": round(loaded_p99, 1),
    }
    rows = [
        ("single POST req/s (wrk)", f"{intake:,.1f}", f"bare {bare:,.1f}", f"{intake / bare:.3f}x", ">= 0.40x"),
        (
            "single POST CPU ms/request",
            f"{intake_cpu:.3f}",
            f"bare {bare_cpu:.3f}",
            f"{bare_cpu / intake_cpu:.3f}x",
            ">= 0.40x",
        ),
        (
            "  CPU with the limit in PostgreSQL",
            f"{shared_cpu:.3f}",
            f"in memory {intake_cpu:.3f}",
            f"{shared_cpu / intake_cpu:.3f}x",
            "",
        ),
        (
            "  req/s with the limit in PostgreSQL",
            f"{intake_shared:,.1f}",
            f"in memory {intake:,.1f}",
            f"{intake_shared / intake:.3f}x",
            "",
        ),
        (
            f"batch items/s ({args.batch_size}/batch)",
            f"{intake_batch:,.1f}",
            f"bare {bare_batch:,.1f}",
            f"{intake_batch / bare_batch:.3f}x",
            ">= 0.15x",
        ),
        (f"FFT CSV rows/s to Kafka ({args.csv_rows})", f"{csv_rate:,.1f}", "", "", ""),
        (
            f"end to end p50 ms at {achieved:,.0f} req/s",
            f"{loaded_p50:.1f}",
            f"idle {p50:.1f}",
            f"{loaded_p50 / p50:.2f}x",
            "< 50",
        ),
        (
            f"end to end p99 ms at {achieved:,.0f} req/s",
            f"{loaded_p99:.1f}",
            f"idle {p99:.1f}",
            f"{loaded_p99 / p99:.2f}x",
            "< 250",
        ),
    ]
    print(
        f"\nfeedback-intake and the bare app with {args.workers} uvicorn worker(s) each; "
        f"wrk {args.connections} connections x {args.seconds} s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'path':40} {'figure':>12} {'baseline (same run)':>22} {'ratio':>8} {'target':>9}")
    for row in rows:
        print(f"{row[0]:40} {row[1]:>12} {row[2]:>22} {row[3]:>8} {row[4]:>9}")
    print(
        f"open loop: asked {args.rate:,.0f} req/s for {args.load_seconds:.0f} s, achieved {achieved:,.1f} req/s "
        f"({load.failed} not 201, {load.late} sent late, {load.waited} waited for a connection, "
        f"{load.opened} connections); "
        f"{len(loaded)} end-to-end samples under it, {len(latencies)} idle"
    )
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "intake.json").write_text(json.dumps(results, indent=2))
    print(f"\n(written to {out / 'intake.json'})")


if __name__ == "__main__":
    main()
