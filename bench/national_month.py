"""National month: a month of individual FFT responses (default 2,000,000, a third with a
comment) published on the Kafka ingress topic by an outside producer, timed until
reporting's store holds every one, beside the raw limit measured in the same run (the
same records produced to Kafka, plus a PostgreSQL COPY of the same number of rows).
Also prints the peak resident memory of every process of the hub.

    .venv/bin/python -m bench.national_month [--responses 2000000]

Runs a private hub (tests/stack.py: its own broker and PostgreSQL, every intake and
reporting process, two consumer processes per group). Prints figures; never fails on time."""

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from aiokafka import AIOKafkaProducer

from hub_shared import kafka_admin
from hub_shared.auth import DevKeys
from hub_shared.events import AUTHORIZATION_HEADER, FeedbackSubmittedV1
from hub_shared.events.envelope import STRUCTURED_HEADERS
from hub_shared.organisations import reference
from hub_shared.partitioner import partition_for
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_SUBMISSIONS, Topic
from tests.stack import Hub, start_hub, stop_hub

REPO = Path(__file__).resolve().parents[1]
IDLE_SECONDS = 10
CHANNELS = ["fft_sms", "fft_online", "fft_paper"]
ANSWERS = ["very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know"]
WEIGHTS = [55, 30, 5, 3, 3, 4]
OPENINGS = ["The nurse", "My GP", "Reception", "The pharmacist", "The physio", "The online booking", "The doctor"]
MIDDLES = [
    "was kind and explained everything clearly",
    "kept me waiting over an hour",
    "was rude on the phone",
    "sorted my repeat prescription quickly",
    "listened and took my worries seriously",
    "could not find a same-day appointment",
]
ENDINGS = ["", " Thank you.", " Please improve this.", " The waiting room was clean.", " I waited two weeks."]


def responses(n: int, month: str, keys: DevKeys) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """The month's records, each signed by its practice's system (the ingress's bearer token)."""
    rng = random.Random(2026)
    practices = [o.code for o in reference() if o.kind.value == "practice"]
    settings = ServiceSettings()
    tokens = {
        code: keys.issue(
            organisation=code, scopes=["feedback:write"], issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        for code in practices
    }
    signed = {code: f"Bearer {token}".encode() for code, token in tokens.items()}
    year, mon = (int(part) for part in month.split("-"))
    sent_at = datetime.now(UTC).isoformat()
    out = []
    # An outside producer writes the CloudEvents JSON itself (as a place's system would);
    # building 2,000,000 records through pydantic would take longer than the hub.
    for i in range(n):
        practice = rng.choice(practices)
        reference_ = f"nm-{i}"
        data: dict[str, object] = {
            "organisation_code": practice,
            "service_area": "general_practice",
            "channel": rng.choice(CHANNELS),
            "fft_answer": rng.choices(ANSWERS, WEIGHTS)[0],
            "occurred_at": datetime(year, mon, rng.randint(1, 28), rng.randint(8, 18), tzinfo=UTC).isoformat(),
            "client_reference": reference_,
        }
        if i % 3 == 0:
            data["text"] = f"{rng.choice(OPENINGS)} {rng.choice(MIDDLES)}.{rng.choice(ENDINGS)}"
        body = {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "source": f"practice-system/{practice}",
            "type": FeedbackSubmittedV1.event_type,
            "subject": reference_,
            "time": sent_at,
            "datacontenttype": "application/json",
            "tenant": practice,
            "correlationid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "data": data,
        }
        headers = [*STRUCTURED_HEADERS.items(), (AUTHORIZATION_HEADER, signed[practice])]
        out.append((reference_.encode(), orjson.dumps(body), headers))
    return out


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> float:
    """Publish as a fast outside producer would: whole batches per partition (aiokafka's
    batch builder), keys on the partitions Kafka's default partitioner picks, acks=all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    started = time.perf_counter()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        batches: dict[int, Any] = {}
        in_flight: list[asyncio.Future[Any]] = []
        for key, value, headers in records:
            partition = partition_for(key, partitions, partitions)
            batch = batches.get(partition) or batches.setdefault(partition, producer.create_batch())
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                batch.close()
                in_flight.append(await producer.send_batch(batch, topic, partition=partition))
                batches[partition] = batch = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None, headers=headers)
            if len(in_flight) >= 64:
                await asyncio.gather(*in_flight)
                in_flight.clear()
        for partition, batch in batches.items():
            batch.close()
            in_flight.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*in_flight)
    finally:
        await producer.stop()
    return time.perf_counter() - started


def copy_seconds(url: str, n: int) -> float:
    """COPY n rows shaped like reporting's facts into a scratch table: the database's limit."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_limit")
        conn.execute(
            "CREATE TABLE raw_limit (id uuid primary key, organisation_code text, month text, answer text,"
            " text text, occurred_at timestamptz)"
        )
        rows = [(uuid.uuid4(), "P81001", "2026-10", "good", "Kind nurse." if i % 3 == 0 else None) for i in range(n)]
        now = datetime.now(UTC)
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy("COPY raw_limit FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, now))
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE raw_limit")
    return elapsed


def reported(hub: Hub) -> int:
    with psycopg.connect(hub.db_url("reporting")) as conn:
        return int(conn.execute("SELECT count(*) FROM feedback_fact").fetchone()[0])  # type: ignore[index]


def peak_rss_mb(hub: Hub) -> dict[str, float]:
    """VmHWM: the most resident memory each process has had since it started."""
    peaks = {}
    for name, process in hub.processes.items():
        if process.pid is None:
            continue
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[name] = int(line.split()[1]) / 1024
    return peaks


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(hub: Hub) -> dict[str, float]:
    """CPU seconds used so far by each hub process, the broker, and PostgreSQL with its
    backends (a backend's time is its own while it lives): where the time goes."""
    used = {name: stat[1] for name, p in hub.processes.items() if p.pid and (stat := _stat(p.pid))}
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            parents[int(entry.name)] = stat[0]
    for name, marker in (("kafka", str(hub.state / "kafka")), ("postgres", str(hub.state / "postgres"))):
        roots = set()
        for pid in parents:
            try:
                if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    roots.add(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
        tree = roots | {pid for pid, parent in parents.items() if parent in roots}
        used[name] = sum(stat[1] for pid in tree if (stat := _stat(pid)))
    return used


def top_statements(hub: Hub, limit: int = 15) -> list[tuple[str, float, int, str]]:
    """(database, total ms, calls, statement) of what PostgreSQL spent most time executing."""
    with psycopg.connect(hub.db_url("postgres"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT d.datname, s.total_exec_time, s.calls, s.query FROM pg_stat_statements s"
            " JOIN pg_database d ON d.oid = s.dbid ORDER BY s.total_exec_time DESC LIMIT %s",
            (limit,),
        ).fetchall()
    return [(db, ms, calls, " ".join(query.split())) for db, ms, calls, query in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=2_000_000)
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds")
    parser.add_argument(
        "--pg-statements", action="store_true", help="also print the statements PostgreSQL spent most time on"
    )
    args = parser.parse_args()
    n = args.responses
    # The demo ICS's practices sign the records (``reference()`` here), as in the hub it starts.
    os.environ.setdefault("HUB_DEVELOPMENT_MODE", "1")
    # Stopped (SIGTERM) like interrupted: the hub's processes, broker and PostgreSQL go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.pg_statements:
        os.environ["PG_OPTIONS"] = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
    hub = start_hub("bench-national", {"HUB_LOG_LEVEL": "WARNING"})
    try:
        print(f"national month: building {n:,} ingress events", file=sys.stderr)
        records = responses(n, "2026-10", hub.keys)
        # What the hub costs doing nothing (polling, heartbeats), to tell apart from the work.
        idle_before, idle_started = cpu_seconds(hub), time.perf_counter()
        time.sleep(IDLE_SECONDS)
        cpu_before = cpu_seconds(hub)
        if args.pg_statements:
            with psycopg.connect(hub.db_url("postgres"), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SELECT pg_stat_statements_reset()")
        idle_s = time.perf_counter() - idle_started
        idle_per_s = {k: (v - idle_before.get(k, 0.0)) / idle_s for k, v in cpu_before.items()}
        started = time.perf_counter()
        produce_s = asyncio.run(produce(hub.bootstrap, FEEDBACK_SUBMISSIONS.name, records))
        print(f"national month: produced in {produce_s:.1f} s; waiting for reporting", file=sys.stderr)
        asyncio.run(kafka_admin.create_topics(hub.bootstrap, (Topic("bench.raw", 6, "raw limit"),)))
        seen, last_print = 0, 0.0
        while seen < n and time.perf_counter() - started < args.timeout:
            time.sleep(2)
            seen = reported(hub)
            if time.perf_counter() - last_print > 15:
                last_print = time.perf_counter()
                rate = seen / (time.perf_counter() - started)
                print(f"  {seen:,} in reporting ({rate:,.0f}/s)", file=sys.stderr)
        hub_s = time.perf_counter() - started
        peaks = peak_rss_mb(hub)
        cpu_after = cpu_seconds(hub)
        statements = top_statements(hub) if args.pg_statements else []
        cpu = {name: used - cpu_before.get(name, 0.0) for name, used in cpu_after.items()}
        raw_produce_s = asyncio.run(produce(hub.bootstrap, "bench.raw", records))
        raw_copy_s = copy_seconds(hub.db_url("reporting"), n)
    finally:
        stop_hub(hub)
    raw_s = raw_produce_s + raw_copy_s
    results = {
        "responses": n,
        "reported": seen,
        "hub_seconds": round(hub_s, 1),
        "hub_responses_per_s": round(seen / hub_s, 1),
        "raw_limit_seconds": round(raw_s, 1),
        "raw_produce_seconds": round(raw_produce_s, 1),
        "raw_copy_seconds": round(raw_copy_s, 1),
        "ratio_raw_to_hub": round(raw_s / hub_s, 3),
        "peak_rss_mb": {k: round(v, 1) for k, v in peaks.items()},
        "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
        "idle_cpu_per_second": {k: round(v, 3) for k, v in idle_per_s.items()},
    }
    print(f"\nNational month: {n:,} FFT responses on the ingress topic -> reporting's totals")
    print(f"  hub        {hub_s:9.1f} s   {seen / hub_s:9,.0f} responses/s   (all reported: {seen == n})")
    print(f"  raw limit  {raw_s:9.1f} s   (Kafka produce {raw_produce_s:.1f} s + COPY {raw_copy_s:.1f} s)")
    print(f"  ratio raw/hub {raw_s / hub_s:.3f}   target: hub <= 240 s for 2,000,000")
    print("  per process: peak RSS (target < 250 MB each); CPU seconds during the run, and per response")
    for name in sorted(cpu, key=lambda k: -cpu[k]):
        rss = f"{peaks[name]:7.1f} MB" if name in peaks else " " * 10
        idle = idle_per_s.get(name, 0.0) * hub_s
        print(
            f"    {name:22s} {rss} {cpu[name]:8.1f} s CPU {1e6 * cpu[name] / n:8.0f} us/response"
            f"   (of which idle {idle:5.1f} s)"
        )
    total = sum(cpu.values())
    print(f"  all: {total:.1f} CPU s = {1e6 * total / n:.0f} us/response on {os.cpu_count()} cores")
    if statements:
        print("  PostgreSQL's most expensive statements (total ms, calls, database):")
        for db, ms, calls, query in statements:
            print(f"    {ms:9.0f} ms {calls:7d}  {db:16s} {query[:110]}")
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "national_month.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
