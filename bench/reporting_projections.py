"""Reporting benchmark: projection throughput (events/s) of the live consumer and of a
replay, and report query latency with a large number of feedback events loaded
(default 1,000,000).

    .venv/bin/python bench/reporting_projections.py [--events 1000000] [--live-events 20000]

Starts its own Kafka broker (port 29092, fresh state) and uses the project's PostgreSQL
(port 5433) with fresh databases. Events are realistic feedback.received.v1 envelopes
(30 practices, 24 months, all service areas, a third with free text). The live consumer
runs as the real `reporting consume` process; the replay is `reporting replay`'s code.
Prints figures; it never fails on a time."""

import argparse
import asyncio
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

import psycopg
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from hub_shared import kafka_admin
from hub_shared.db import create_engine, session_factory
from hub_shared.events import Channel, FeedbackReceivedV1, FftAnswer, ServiceArea, encode, new_envelope
from hub_shared.migrations import upgrade
from hub_shared.organisations import reference
from hub_shared.topics import FEEDBACK_EVENTS
from reporting import queries
from reporting.consumers import consumers
from reporting.main import MIGRATIONS
from reporting.replay import replay
from reporting.settings import ReportingSettings

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STATE = REPO / ".state" / "bench-reporting"
KAFKA_PORT, PG_PORT = 29092, 5433
BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
TEXTS = [
    "Waited two hours for my appointment",
    "Kind nurse who explained everything clearly",
    "Receptionist was rude on the phone",
    "Repeat prescription was ready at the pharmacy",
    "Online booking was easy",
    "The waiting room was dirty",
]


def fresh_database(name: str) -> str:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/{name}"
    upgrade(MIGRATIONS, url)
    return url


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
            data = FeedbackReceivedV1(
                submission_id=uuid.uuid4(),
                organisation_code=practice,
                counts_for=reference().counts_for(practice),
                service_area=rng.choice(areas),
                channel=rng.choice(channels),
                fft_answer=rng.choice(answers),
                text=rng.choice(TEXTS) if rng.random() < 0.33 else None,
                occurred_at=occurred,
                received_at=occurred,
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


async def applied(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one())
    finally:
        await engine.dispose()


async def query_latencies(url: str, runs: int) -> dict[str, dict[str, float]]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    orgs = reference()
    cases = {
        "fft ICS, all months": lambda s: queries.fft_report(s, orgs, "QZZ", queries.FftFilter()),
        "fft place, one month": lambda s: queries.fft_report(s, orgs, "01A", queries.FftFilter(month="2025-06")),
        "fft practice, one month+area": lambda s: queries.fft_report(
            s, orgs, "P81001", queries.FftFilter(month="2025-06", service_area="dermatology")
        ),
        "trend ICS": lambda s: queries.fft_trend(s, orgs, "QZZ"),
        "themes place": lambda s: queries.theme_report(s, orgs, "02B", None),
        "scorecard place": lambda s: queries.scorecard(s, orgs, "03C"),
    }
    out = {}
    try:
        for name, run in cases.items():
            timings = []
            for _ in range(runs):
                async with sessions() as session:
                    started = time.perf_counter()
                    await run(session)
                    timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            out[name] = {
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
            }
    finally:
        await engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events loaded for the replay and queries")
    parser.add_argument("--live-events", type=int, default=20_000, help="events for the live consumer run")
    parser.add_argument("--runs", type=int, default=30, help="runs per query")
    args = parser.parse_args()

    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    kafka_env = {**os.environ, "KAFKA_PORT": str(KAFKA_PORT), "KAFKA_STATE_DIR": str(STATE / "kafka")}
    subprocess.run([str(REPO / "deploy" / "kafka.sh"), "start"], env=kafka_env, check=True)
    subprocess.run(
        [str(REPO / "deploy" / "postgres.sh"), "start"], env={**os.environ, "PG_PORT": str(PG_PORT)}, check=True
    )
    try:
        asyncio.run(kafka_admin.create_topics(BOOTSTRAP))
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
        started = time.perf_counter()
        consumer = subprocess.Popen([str(BIN / "reporting"), "consume"], env=env, stdout=log, stderr=log)
        try:
            while asyncio.run(applied(live_url)) < args.live_events:
                time.sleep(0.5)
            live_rate = args.live_events / (time.perf_counter() - started)
        finally:
            consumer.terminate()
            consumer.wait(timeout=60)
        # 2. Load the rest, then replay everything into empty tables, in batches.
        produce_seconds = asyncio.run(produce(args.events - args.live_events, seed=2))
        replay_url = fresh_database("bench_reporting_replay")
        engine = create_engine(replay_url)
        progress_at = [time.perf_counter()]

        def progress(n: int) -> None:
            if time.perf_counter() - progress_at[0] > 5:
                progress_at[0] = time.perf_counter()
                print(f"\r  replayed {n:,} events", end="", file=sys.stderr)

        started = time.perf_counter()
        counts = asyncio.run(
            replay(
                consumers(ReportingSettings(database_url=replay_url), session_factory(engine))[0],
                BOOTSTRAP,
                batch_size=1000,
                on_progress=progress,
            )
        )
        replay_seconds = time.perf_counter() - started
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
        "producer_events_per_s": round((args.events - args.live_events) / produce_seconds, 1),
        "replay_events_per_s": round(counts["applied"] / replay_seconds, 1),
        "replay_to_live_ratio": round((counts["applied"] / replay_seconds) / live_rate, 2),
        "query_latency": latencies,
    }
    print("\nProjection throughput")
    print(f"  live consumer (one transaction per event)  {live_rate:9.1f} events/s  ({args.live_events:,} events)")
    print(
        f"  replay (1,000 events per transaction)      {results['replay_events_per_s']:9.1f} events/s  "
        f"({counts['applied']:,} events)   ratio replay/live {results['replay_to_live_ratio']}"
    )
    print(f"\nReport queries with {counts['applied']:,} feedback events loaded ({args.runs} runs each)")
    for name, figures in latencies.items():
        print(f"  {name:32s} p50 {figures['p50_ms']:8.1f} ms   p95 {figures['p95_ms']:8.1f} ms")
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "reporting.json").write_text(json.dumps(results, indent=2))
    print(f"\n(written to {out / 'reporting.json'})")


if __name__ == "__main__":
    main()
