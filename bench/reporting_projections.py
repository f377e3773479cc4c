"""Pipeline benchmark, each figure beside a baseline measured in the same run:

* the live consumer (the real `reporting consume` process, batched) and a replay, in
  events/s, against the raw limit: PostgreSQL COPY of the same fact rows, no Kafka;
* the outbox relay (the real `feedback-intake relay` process: rows/s from a staged
  backlog to acknowledged Kafka records, each row deleted once acknowledged) against a
  bare aiokafka batch producer sending the same records from memory with the relay's
  producer settings (acks=all, idempotence, partitioner, batch size), medians of
  --relay-rounds runs of each;
* report query latency (every report endpoint's query, p95 against a 50 ms target) with a
  large number of feedback events (default 1,000,000) and FFT monthly returns (default
  100,000, a tenth of them corrections of earlier ones) loaded by the replay: cold (every
  published table forgotten before each run, as after a new event) beside warm (the same
  figures published before).

    .venv/bin/python bench/reporting_projections.py [--events 1000000] [--live-events 50000]
        [--fft-returns 100000]
    .venv/bin/python bench/reporting_projections.py --only relay [--relay-rows 50000]
    .venv/bin/python bench/reporting_projections.py --only queries   # on the last run's database

Starts its own Kafka broker (port 19492 or $BENCH_KAFKA_PORT, fresh state) and uses the
project's PostgreSQL (port 5433 or $BENCH_PG_PORT) with fresh databases. Events are
realistic feedback.received.v1 envelopes
(30 practices, 24 months, all service areas, a third with free text). The live consumer
runs as the real `reporting consume` process; the replay is `reporting replay`'s code.
Prints figures; it never fails on a time."""

import argparse
import asyncio
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from feedback_intake.main import MIGRATIONS as INTAKE_MIGRATIONS
from feedback_intake.models import OutboxMessage
from feedback_intake.rules import sentiment, themes
from hub_shared import kafka_admin
from hub_shared.db import bulk_insert, create_engine, session_factory
from hub_shared.events import (
    Channel,
    FeedbackReceivedV1,
    FftAnswer,
    FftMonthlyReturnV1,
    ServiceArea,
    encode,
    new_envelope,
)
from hub_shared.migrations import upgrade
from hub_shared.organisations import reference
from hub_shared.outbox import kafka_producer, outbox_row
from hub_shared.partitioner import partition_for
from hub_shared.topics import FEEDBACK_EVENTS, Topic
from reporting.consumers import consumers
from reporting.main import MIGRATIONS
from reporting.queries.comments import comments
from reporting.queries.feedback_volume import feedback_received
from reporting.queries.fft import FftFilter, fft_report, fft_trend
from reporting.queries.membership import membership_scorecard
from reporting.queries.notifications import notification_measures
from reporting.queries.scorecard import scorecard
from reporting.queries.themes import theme_report
from reporting.rules import published
from reporting.settings import ReportingSettings
from reporting.workers.replay import replay

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STATE = REPO / ".state" / "bench-reporting"
# Ports can be moved (BENCH_KAFKA_PORT, BENCH_PG_PORT) to run beside another hub.
KAFKA_PORT = int(os.environ.get("BENCH_KAFKA_PORT", "19492"))
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5433"))
BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
QUERY_TARGET_MS = 50  # every report endpoint's p95 (issue 11)
TEXTS = [
    "Waited two hours for my appointment",
    "Kind nurse who explained everything clearly",
    "Receptionist was rude on the phone",
    "Repeat prescription was ready at the pharmacy",
    "Online booking was easy",
    "The waiting room was dirty",
]


@functools.cache
def text_analysis(text: str) -> tuple[float, list[str]]:
    return sentiment.sentiment(text), themes.themes(text)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fresh_database(name: str, migrations: Path = MIGRATIONS) -> str:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/{name}"
    upgrade(migrations, url)
    return url


def raw_copy_rate(n: int) -> float:
    """The raw limit for a projection: COPY n fact rows (the same columns) into an empty
    feedback_fact table, no Kafka, no Python per event beyond building the row."""
    url = fresh_database("bench_reporting_raw")
    rng = random.Random(3)
    practices = [o.code for o in reference() if o.kind.value == "practice"]
    rows = []
    for _ in range(n):
        text_ = rng.choice(TEXTS) if rng.random() < 0.33 else None
        occurred = datetime(2025, rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC)
        rows.append(
            (
                uuid.uuid4(),
                rng.choice(practices),
                occurred.strftime("%Y-%m"),
                "general_practice",
                "fft_sms",
                "good",
                text_,
                0.5 if text_ else None,
                json.dumps([]),
                False,
                occurred,
                occurred,
            )
        )
    columns = (
        "submission_id, organisation_code, month, service_area, channel, fft_answer, text, sentiment, themes,"
        " review_required, occurred_at, received_at"
    )
    started = time.perf_counter()
    with (
        psycopg.connect(url.replace("+psycopg", "")) as conn,
        conn.cursor() as cursor,
        cursor.copy(f"COPY feedback_fact ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    return n / (time.perf_counter() - started)


async def stage_backlog(url: str, topic: str, n: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """Stage n feedback.received.v1 events in intake's outbox, as intake writes them;
    return the same records (key, value, headers) for the bare producer."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows = []
    for i in range(n):
        data = FeedbackReceivedV1(
            submission_id=uuid.uuid4(),
            organisation_code="P81001",
            service_area=ServiceArea.COMMUNITY,
            channel=Channel.FFT_SMS,
            fft_answer=FftAnswer.GOOD,
            occurred_at=datetime.now(UTC),
            received_at=datetime.now(UTC),
        )
        envelope = new_envelope(
            data, source="bench", subject=str(data.submission_id), tenant="P81001", correlation_id=str(i)
        )
        rows.append(outbox_row(envelope, topic))
    for start in range(0, n, 5000):
        async with sessions() as session, session.begin():
            await bulk_insert(session, OutboxMessage, rows[start : start + 5000])
    await engine.dispose()
    return [
        (r["key"].encode(), r["payload"].encode(), [(k, v.encode()) for k, v in r["headers"].items()]) for r in rows
    ]


def time_relay(url: str, n: int) -> float:
    """Rows/s of the real `feedback-intake relay` process draining a staged backlog of n
    rows into acknowledged Kafka records (a row is deleted only once Kafka acknowledged it),
    timed from its first row gone: start-up is not throughput."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "INTAKE_DATABASE_URL": url,
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_DEVELOPMENT_MODE": "1",  # this machine's secrets (.state/secrets): the feedback pages' one
        "HUB_JWKS_PATH": str(REPO / ".state" / "dev-keys" / "jwks.json"),
    }
    log = (STATE / "relay.log").open("w")
    relay = subprocess.Popen([str(BIN / "feedback-intake"), "relay"], env=env, stdout=log, stderr=log)
    # Rows still in the outbox, on one connection (the relay deletes a row once Kafka
    # acknowledged it).
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:

        def left() -> int:
            return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])  # type: ignore[index]

        try:
            while (first := n - left()) == 0:
                time.sleep(0.01)
            started = time.perf_counter()
            while left() > 0:
                time.sleep(0.05)
            return (n - first) / (time.perf_counter() - started)
        finally:
            relay.terminate()
            relay.wait(timeout=60)


async def time_bare_producer(topic: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> float:
    """Rows/s of a bare aiokafka batch producer sending the same records (keys, values,
    headers) from memory: the relay's producer (`kafka_producer`: acks=all, idempotence,
    the same partitioner and batch size), each partition's records appended to whole
    batches (`create_batch`, `send_batch`), every acknowledgement awaited. No database:
    what the relay costs beyond the broker and the client."""
    producer = kafka_producer(BOOTSTRAP, "bench-bare")
    await producer.start()
    try:
        await (await producer.send(topic, b"warm-up", key=b"warm-up"))  # connection and metadata
        partitions = sorted(await producer.partitions_for(topic))
        started = time.perf_counter()
        builders: dict[int, Any] = {}
        futures = []
        for key, value, headers in records:
            partition = partition_for(key, partitions, partitions)
            builder = builders.get(partition)
            if builder is None or builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
                if builder is not None:  # full: send it, start the next one
                    builder.close()
                    futures.append(await producer.send_batch(builder, topic, partition=partition))
                builder = builders[partition] = producer.create_batch()
                builder.append(timestamp=None, key=key, value=value, headers=headers)
        for partition, builder in builders.items():
            builder.close()
            futures.append(await producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*futures)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def relay_rates(n: int, rounds: int) -> tuple[float, float]:
    """The relay and the bare producer over the same n records, one after the other, for
    a few rounds (the machine's load changes from second to second): the median of each."""
    topics = (Topic("bench.relay", 6, "bench"), Topic("bench.relay.bare", 6, "bench"))
    asyncio.run(kafka_admin.create_topics(BOOTSTRAP, topics))
    relay, bare = [], []
    for _ in range(rounds):
        url = fresh_database("bench_relay", INTAKE_MIGRATIONS)
        records = asyncio.run(stage_backlog(url, topics[0].name, n))
        relay.append(time_relay(url, n))
        bare.append(asyncio.run(time_bare_producer(topics[1].name, records)))
        print(f"  relay {relay[-1]:,.0f} rows/s, bare producer {bare[-1]:,.0f}", file=sys.stderr)
    return statistics.median(relay), statistics.median(bare)


async def produce(n: int, seed: int) -> float:
    rng = random.Random(seed)
    practices = [o.code for o in reference() if o.kind.value == "practice"]
    answers, areas, channels = list(FftAnswer), list(ServiceArea), list(Channel)
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        enable_idempotence=True,
        acks="all",
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for i in range(n):
            practice = rng.choice(practices)
            month = rng.randrange(24)
            occurred = datetime(2024 + month // 12, month % 12 + 1, rng.randint(1, 28), tzinfo=UTC)
            text = rng.choice(TEXTS) if rng.random() < 0.33 else None
            data = FeedbackReceivedV1(
                submission_id=uuid.uuid4(),
                organisation_code=practice,
                counts_for=reference().counts_for(practice),
                service_area=rng.choice(areas),
                channel=rng.choice(channels),
                fft_answer=rng.choice(answers),
                text=text,
                occurred_at=occurred,
                received_at=occurred,
                # As intake sends them: text work done once, at acceptance.
                sentiment=text_analysis(text)[0] if text else None,
                themes=text_analysis(text)[1] if text else [],
                themes_version=themes.TAXONOMY_VERSION if text else None,
            )
            message = encode(
                new_envelope(
                    data, source="bench", subject=str(data.submission_id), tenant=practice, correlation_id="bench"
                )
            )
            pending.append(
                await producer.send(FEEDBACK_EVENTS.name, message.value, key=str(data.submission_id).encode())
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
                print(f"\r  produced {i + 1:,} events", end="", file=sys.stderr)
        await asyncio.gather(*pending)
        print(file=sys.stderr)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def produce_returns(n: int, seed: int) -> None:
    """n FFT monthly returns on the feedback topic, as intake publishes them; a tenth correct
    an earlier return (same return id and key, new counts)."""
    rng = random.Random(seed)
    practices = [o.code for o in reference() if o.kind.value == "practice"]
    other_modes = ("online", "paper", "telephone", "other")
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all", linger_ms=20)
    await producer.start()
    sent: list[tuple[uuid.UUID, str, str]] = []
    try:
        pending = []
        for _ in range(n):
            if sent and rng.random() < 0.1:
                return_id, practice, period = rng.choice(sent)
            else:
                practice, month = rng.choice(practices), rng.randrange(24)
                return_id, period = uuid.uuid4(), f"{2024 + month // 12}-{month % 12 + 1:02d}"
                sent.append((return_id, practice, period))
            answers = {a: rng.randint(0, 40) for a in FftAnswer}
            split = rng.randint(0, sum(answers.values()))  # the rest by SMS
            data = FftMonthlyReturnV1(
                return_id=return_id,
                organisation_code=practice,
                counts_for=reference().counts_for(practice),
                period=period,
                answers=answers,
                modes={"sms": sum(answers.values()) - split, rng.choice(other_modes): split},
                received_at=datetime.now(UTC),
            )
            message = encode(
                new_envelope(data, source="bench", subject=str(return_id), tenant=practice, correlation_id="bench")
            )
            pending.append(await producer.send(FEEDBACK_EVENTS.name, message.value, key=str(return_id).encode()))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def applied(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            # Facts, not inbox rows: feedback.received is deduplicated by its fact's own key.
            return int((await conn.execute(text("SELECT count(*) FROM feedback_fact"))).scalar_one())
    finally:
        await engine.dispose()


def _percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return round(statistics.median(timings), 1), round(timings[int(0.95 * (len(timings) - 1))], 1)


# A report whose cold runs take longer than this in all stops after the runs made (at least
# one), so one slow report cannot hold the benchmark for an hour; its run count is printed.
CASE_SECONDS = 120


async def query_latencies(url: str, runs: int) -> dict[str, dict[str, float]]:
    """Each report's p50 and p95 cold (every published table forgotten before each run: the
    first request after new figures arrive) and warm (the same figures asked again), and the
    CPU this process spent on the cold runs (PostgreSQL's own apart)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    orgs = reference()
    # One case per report endpoint (and its widest and narrowest scope): the query each runs.
    cases = {
        "fft ICS, all months": lambda s: fft_report(s, orgs, "QZZ", FftFilter()),
        "fft place, one month": lambda s: fft_report(s, orgs, "01A", FftFilter(month="2025-06")),
        "fft practice, one month+area": lambda s: fft_report(
            s, orgs, "P81001", FftFilter(month="2025-06", service_area="dermatology")
        ),
        "trend ICS": lambda s: fft_trend(s, orgs, "QZZ"),
        "themes ICS, all months": lambda s: theme_report(s, orgs, "QZZ", None),
        "themes place": lambda s: theme_report(s, orgs, "02B", None),
        "themes practice, one month": lambda s: theme_report(s, orgs, "P81001", "2025-06"),
        "comments ICS": lambda s: comments(s, orgs, "QZZ", None, 50),
        "comments practice, one month": lambda s: comments(s, orgs, "P81001", "2025-06", 50),
        "scorecard ICS": lambda s: scorecard(s, orgs, "QZZ"),
        "scorecard place": lambda s: scorecard(s, orgs, "03C"),
        "feedback volume ICS": lambda s: feedback_received(s, orgs.descendants("QZZ")),
        "membership ICS": lambda s: membership_scorecard(s, orgs, "QZZ"),
        "membership practice": lambda s: membership_scorecard(s, orgs, "P81001"),
        "notifications ICS": lambda s: notification_measures(s, "QZZ"),
    }
    out = {}
    try:
        for name, run in cases.items():
            timings: dict[bool, list[float]] = {True: [], False: []}
            cpu: list[float] = []  # this process's CPU, cold: steadier than wall time on a shared machine
            for cold in (True, False):
                for _ in range(runs):
                    if cold and sum(timings[True]) > CASE_SECONDS * 1000:
                        break
                    if cold:
                        published.forget()
                    async with sessions() as session:
                        started, cpu_started = time.perf_counter(), time.process_time()
                        await run(session)
                        timings[cold].append((time.perf_counter() - started) * 1000)
                        if cold:
                            cpu.append((time.process_time() - cpu_started) * 1000)
            (p50, p95), (warm_p50, warm_p95) = _percentiles(timings[True]), _percentiles(timings[False])
            out[name] = {"p50_ms": p50, "p95_ms": p95, "warm_p50_ms": warm_p50, "warm_p95_ms": warm_p95}
            out[name]["cpu_p50_ms"], out[name]["cpu_p95_ms"] = _percentiles(cpu)
            out[name]["cold_runs"] = len(timings[True])
    finally:
        await engine.dispose()
    return out


def print_latencies(loaded: str, runs: int, latencies: dict[str, dict[str, float]]) -> None:
    print(f"\nReport queries with {loaded} loaded ({runs} runs each, cold then warm)")
    for name, figures in latencies.items():
        met = "met" if figures["p95_ms"] < QUERY_TARGET_MS else "MISSED"
        print(
            f"  {name:30s} cold p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms"
            f" (cpu p95 {figures['cpu_p95_ms']:6.1f} ms)"
            f"   warm p50 {figures['warm_p50_ms']:6.1f} ms  p95 {figures['warm_p95_ms']:6.1f} ms"
            f"   target cold p95 < {QUERY_TARGET_MS} ms: {met}"
            + (f" ({figures['cold_runs']:.0f} cold runs: over {CASE_SECONDS} s)" if figures["cold_runs"] < runs else "")
        )


def queries_again(runs: int) -> None:
    """The report queries alone, on the database the last full run loaded (PostgreSQL only, no
    broker): to compare code on the same figures."""
    subprocess.run(
        [str(REPO / "deploy" / "postgres.sh"), "start"], env={**os.environ, "PG_PORT": str(PG_PORT)}, check=True
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/bench_reporting_replay"
    print_latencies(f"{asyncio.run(applied(url)):,} feedback events", runs, asyncio.run(query_latencies(url, runs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events loaded for the replay and queries")
    parser.add_argument("--live-events", type=int, default=50_000, help="events for the live consumer run")
    parser.add_argument("--fft-returns", type=int, default=100_000, help="FFT monthly returns loaded for the queries")
    parser.add_argument("--runs", type=int, default=30, help="runs per query")
    parser.add_argument("--relay-rows", type=int, default=50_000, help="outbox backlog for the relay run")
    parser.add_argument("--relay-rounds", type=int, default=3, help="relay and bare producer runs (medians)")
    parser.add_argument("--only", choices=["relay", "queries"], help="run only this part (quick iterations)")
    args = parser.parse_args()
    # The demo ICS's organisations (``reference()``), as the tests and ``make run`` hold them.
    os.environ["HUB_DEVELOPMENT_MODE"] = "1"
    if args.only == "queries":
        queries_again(args.runs)
        return

    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    kafka_env = {**os.environ, "KAFKA_PORT": str(KAFKA_PORT), "KAFKA_STATE_DIR": str(STATE / "kafka")}
    subprocess.run([str(REPO / "deploy" / "kafka.sh"), "start"], env=kafka_env, check=True)
    subprocess.run(
        [str(REPO / "deploy" / "postgres.sh"), "start"], env={**os.environ, "PG_PORT": str(PG_PORT)}, check=True
    )
    try:
        asyncio.run(kafka_admin.create_topics(BOOTSTRAP))
        relay_rate, bare_producer_rate = relay_rates(args.relay_rows, args.relay_rounds)
        if args.only == "relay":
            print(f"\noutbox relay, rows/s: {relay_rate:,.0f} vs bare producer {bare_producer_rate:,.0f}", end="")
            print(f" ({relay_rate / bare_producer_rate:.2f}x; target >= 20,000 rows/s)")
            return
        raw_rate = raw_copy_rate(args.live_events)
        # 1. Live consumer: the real process, one transaction per event.
        live_url = fresh_database("bench_reporting_live")
        asyncio.run(produce(args.live_events, seed=1))
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
            "REPORTING_DATABASE_URL": live_url,
            "HUB_LOG_LEVEL": "WARNING",
            "HUB_JWKS_PATH": str(REPO / ".state" / "dev-keys" / "jwks.json"),
        }
        log = (STATE / "consumer.log").open("w")
        consumer = subprocess.Popen([str(BIN / "reporting"), "consume"], env=env, stdout=log, stderr=log)
        try:
            # Timed from the first event applied: process start-up and joining the group
            # are not throughput.
            while (first := asyncio.run(applied(live_url))) == 0:
                time.sleep(0.05)
            started, cpu_started = time.perf_counter(), process_cpu_seconds(consumer.pid)
            while (done := asyncio.run(applied(live_url))) < args.live_events:
                time.sleep(0.2)
            live_rate = (done - first) / (time.perf_counter() - started)
            # The consumer's own CPU per event (steadier than events/s on a shared machine).
            live_cpu_us = 1e6 * (process_cpu_seconds(consumer.pid) - cpu_started) / max(done - first, 1)
        finally:
            consumer.terminate()
            consumer.wait(timeout=60)
        # 2. Load the rest, then replay everything into empty tables, in batches.
        produce_seconds = asyncio.run(produce(args.events - args.live_events, seed=2))
        asyncio.run(produce_returns(args.fft_returns, seed=4))
        replay_url = fresh_database("bench_reporting_replay")
        engine = create_engine(replay_url)
        progress_at = [time.perf_counter()]

        def progress(n: int) -> None:
            if time.perf_counter() - progress_at[0] > 5:
                progress_at[0] = time.perf_counter()
                print(f"\r  replayed {n:,} events", end="", file=sys.stderr)

        started, cpu_started = time.perf_counter(), time.process_time()
        counts = asyncio.run(
            replay(
                consumers(ReportingSettings(database_url=replay_url), session_factory(engine))[0],
                BOOTSTRAP,
                batch_size=1000,
                on_progress=progress,
            )
        )
        replay_seconds = time.perf_counter() - started
        replay_cpu_us = 1e6 * (time.process_time() - cpu_started) / max(counts["applied"], 1)
        print(file=sys.stderr)
        asyncio.run(engine.dispose())
        # 3. Report queries on the loaded projections.
        latencies = asyncio.run(query_latencies(replay_url, args.runs))
    finally:
        subprocess.run([str(REPO / "deploy" / "kafka.sh"), "stop"], env=kafka_env, check=False)

    results = {
        "live_consumer_events": args.live_events,
        "live_consumer_events_per_s": round(live_rate, 1),
        "events_loaded": counts["applied"],
        "fft_returns_loaded": args.fft_returns,
        "producer_events_per_s": round((args.events - args.live_events) / produce_seconds, 1),
        "replay_events_per_s": round(counts["applied"] / replay_seconds, 1),
        "replay_to_live_ratio": round((counts["applied"] / replay_seconds) / live_rate, 2),
        "live_consumer_cpu_us_per_event": round(live_cpu_us, 1),
        "replay_cpu_us_per_event": round(replay_cpu_us, 1),
        "query_latency": latencies,
    }
    replay_rate = counts["applied"] / replay_seconds
    print("\nThroughput, each beside its baseline from this run")
    print(f"  {'path':44s} {'figure':>12s} {'baseline':>12s} {'ratio':>7s}  target")
    rows = [
        ("live consumer, events/s (vs COPY)", live_rate, raw_rate, ">= 10,000 and >= 0.25x"),
        ("replay, events/s (vs COPY)", replay_rate, raw_rate, ">= 10,000 and >= 0.25x"),
        ("outbox relay, rows/s (vs bare producer)", relay_rate, bare_producer_rate, ">= 20,000"),
    ]
    for name, figure, baseline, target in rows:
        print(f"  {name:44s} {figure:12,.0f} {baseline:12,.0f} {figure / baseline:6.2f}x  {target}")
    print(
        f"  CPU per event (the consuming process alone): live consumer {live_cpu_us:,.0f} us,"
        f" replay {replay_cpu_us:,.0f} us"
    )
    results.update(
        raw_copy_rows_per_s=round(raw_rate, 1),
        relay_rows_per_s=round(relay_rate, 1),
        bare_producer_rows_per_s=round(bare_producer_rate, 1),
    )
    print_latencies(f"{args.events:,} feedback events and {args.fft_returns:,} FFT returns", args.runs, latencies)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "reporting.json").write_text(json.dumps(results, indent=2))
    print(f"\n(written to {out / 'reporting.json'})")


if __name__ == "__main__":
    main()
