"""The hub's own fault-injection run (`make chaos`; a short run is part of `make test`).

It starts a private Apache Kafka broker, PostgreSQL cluster and SMTP relay (tests/stack.py)
and every process of the four services as separate OS processes (two consumer processes
in each of intake's and reporting's groups), then sends a load: feedback half over HTTP (a
client that retries with an Idempotency-Key, as the API asks), half on the Kafka ingress
topic, and every tenth item a person joining membership (each owed one confirmation
email). During the load it SIGKILLs and restarts every process, SIGTERMs some (graceful
stop), kills the broker, crashes PostgreSQL (`pg_ctl stop -m immediate`) and has the SMTP
relay refuse every message (451), each for a while. Afterwards it counts what was
accepted, what intake stored, what reporting shows, what was dead-lettered and which
emails arrived, and fails on any item lost or doubled, any email sent twice or not at all
(a send cut off mid-way is 'unknown' and counted apart), or any dead letter (every event
sent is good).

    python -m tests.reliability.chaos [--items 3000] [--rate 25]
"""

import argparse
import asyncio
import json
import logging
import signal
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
from aiokafka import AIOKafkaProducer

from hub_shared import kafka_admin
from hub_shared.auth import SCOPES
from hub_shared.events import AUTHORIZATION_HEADER, FeedbackSubmittedV1, encode, new_envelope
from hub_shared.settings import ServiceSettings
from hub_shared.testing import TEST_BROKER_JVM, SmtpSink
from hub_shared.topics import FEEDBACK_REJECTED, FEEDBACK_SUBMISSIONS, SOURCE_TOPICS, dead_letter

from ..stack import Hub, start_hub, stop_hub

ORG = "P81001"  # the practice every item is for; it posts for itself
ANSWERS = ["very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know"]


def item(run: str, n: int) -> dict[str, object]:
    body: dict[str, object] = {
        "organisation_code": ORG,
        "service_area": "general_practice",
        "channel": "fft_online",
        "fft_answer": ANSWERS[n % len(ANSWERS)],
        "occurred_at": datetime.now(UTC).isoformat(),
        "client_reference": f"{run}-{n}",
    }
    if n % 3 == 0:
        body["text"] = "The receptionist was kind and the wait was short."
    return body


async def post_until_accepted(client: httpx.AsyncClient, hub: Hub, body: dict[str, object], token: str) -> bool:
    """A well-behaved client: retry on 503/5xx/429 and on a dropped connection, with the
    same Idempotency-Key, until the hub says it has the item (201, or 200 replayed)."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(body["client_reference"])}
    deadline = time.monotonic() + 300
    statuses = hub.statuses
    while time.monotonic() < deadline:
        try:
            response = await client.post(f"http://127.0.0.1:{hub.api_port}/v1/feedback", json=body, headers=headers)
            code = str(response.status_code)
            statuses[code] = statuses.get(code, 0) + 1
            if response.status_code in (200, 201):
                return True
            if response.status_code < 500 and response.status_code != 429:
                raise SystemExit(f"chaos: the hub refused a good item: {response.status_code} {response.text}")
        except httpx.TransportError:
            statuses["connection"] = statuses.get("connection", 0) + 1
        await asyncio.sleep(0.5)
    return False


async def produce_until_acknowledged(hub: Hub, body: dict[str, object], token: str) -> bool:
    """Put one item on the Kafka ingress, signed with the sender's bearer token (the record's
    ``authorization`` header), as a place's system would."""
    envelope = new_envelope(
        FeedbackSubmittedV1.model_validate(body),
        source=f"practice-system/{ORG}",
        subject=str(body["client_reference"]),
        tenant=ORG,
        correlation_id=str(uuid.uuid4()),
    )
    message = encode(envelope)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        producer = AIOKafkaProducer(
            bootstrap_servers=hub.bootstrap, enable_idempotence=True, acks="all", request_timeout_ms=5000
        )
        try:
            await producer.start()
            await producer.send_and_wait(
                FEEDBACK_SUBMISSIONS.name,
                message.value,
                key=envelope.subject.encode(),
                headers=[*message.headers.items(), (AUTHORIZATION_HEADER, f"Bearer {token}".encode())],
            )
            return True
        except Exception:
            await asyncio.sleep(1)
        finally:
            await producer.stop()
    return False


def joiner(run: str, n: int) -> dict[str, object]:
    return {
        "name": f"Partner {n}",
        "email": f"{run}-{n}@example.org",
        "postcode": "LS1 4AP",
        "practice_code": ORG,
        "interests": ["general_practice"],
        "consent_to_contact": True,
    }


async def join_until_accepted(
    client: httpx.AsyncClient, hub: Hub, body: dict[str, object], may_have_joined: dict[str, int]
) -> bool:
    """A person joins (membership answers 202 and asks notification for the confirmation
    email); retried like any careful client on 5xx or a dropped connection. A join whose
    connection dropped may have been taken, and joining again while pending rightly sends
    a fresh confirmation email: ``may_have_joined`` counts such requests per address."""
    email = str(body["email"]).lower()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            response = await client.post(f"http://127.0.0.1:{hub.membership_port}/v1/join", json=body)
            code = f"join {response.status_code}"
            hub.statuses[code] = hub.statuses.get(code, 0) + 1
            if response.status_code == 202:
                may_have_joined[email] = may_have_joined.get(email, 0) + 1
                return True
            if response.status_code < 500 and response.status_code != 429:
                raise SystemExit(f"chaos: membership refused a good join: {response.status_code} {response.text}")
        except httpx.TransportError:
            hub.statuses["join connection"] = hub.statuses.get("join connection", 0) + 1
            may_have_joined[email] = may_have_joined.get(email, 0) + 1
        await asyncio.sleep(0.5)
    return False


async def load(
    hub: Hub, run: str, items: int, rate: float, faults_done: asyncio.Event, may_have_joined: dict[str, int]
) -> tuple[int, int, list[str]]:
    """Send at ``rate`` until at least ``items`` are sent and every fault has happened;
    every tenth item someone also joins. Returns (sent, accepted, addresses that joined)."""
    settings = ServiceSettings()
    token = hub.keys.issue(
        organisation=ORG, scopes=list(SCOPES), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    accepted = 0
    joined: list[str] = []
    async with httpx.AsyncClient(timeout=10) as client:

        async def one(n: int) -> None:
            nonlocal accepted
            body = item(run, n)
            ok = await (
                post_until_accepted(client, hub, body, token) if n % 2 else produce_until_acknowledged(hub, body, token)
            )
            accepted += ok
            if n % 10 == 0:
                person = joiner(run, n)
                if await join_until_accepted(client, hub, person, may_have_joined):
                    joined.append(str(person["email"]))

        tasks: list[asyncio.Task[None]] = []
        while len(tasks) < items or not faults_done.is_set():
            tasks.append(asyncio.create_task(one(len(tasks))))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)
    return len(tasks), accepted, joined


async def inject(hub: Hub, duration: float, outage: float, done: asyncio.Event, smtp: SmtpSink) -> None:
    """The faults, spread over the load."""
    loop = asyncio.get_running_loop()

    async def restart(name: str, sig: int, label: str) -> None:
        process = hub.processes[name]
        await loop.run_in_executor(None, process.signal, sig)
        hub.note(f"{label} {name}")
        await asyncio.sleep(1)
        process.start()
        hub.note(f"restarted {name}")

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, fraction * duration - (time.monotonic() - begun)))

    begun = time.monotonic()
    order = [
        "intake-relay",
        "intake-consumer",
        "reporting-consumer",
        "intake-api",
        "reporting-relay",
        "reporting-api",
        "membership-api",
        "membership-relay",
        "membership-consumer",
        "notification-consumer",
        "notification-worker",
    ]
    for i, name in enumerate(order):
        await at(0.02 + 0.03 * i)
        await restart(name, signal.SIGKILL, "SIGKILL")
    await at(0.4)
    await loop.run_in_executor(None, hub.script, "kafka.sh", "crash")
    hub.note(f"Kafka broker killed for {outage:.0f}s")
    await asyncio.sleep(outage)
    await loop.run_in_executor(None, hub.script, "kafka.sh", "start")
    hub.note("Kafka broker restarted")
    await at(0.65)
    await loop.run_in_executor(None, hub.script, "postgres.sh", "crash")
    hub.note(f"PostgreSQL stopped -m immediate for {outage:.0f}s")
    await asyncio.sleep(outage)
    await loop.run_in_executor(None, hub.script, "postgres.sh", "start")
    hub.note("PostgreSQL restarted")
    await at(0.75)
    smtp.refuse = {"@": "451 4.3.0 Mailbox busy, try again later"}
    hub.note(f"SMTP relay refusing every message (451) for {outage:.0f}s")
    await asyncio.sleep(outage)
    smtp.refuse = {}
    hub.note("SMTP relay accepting again")
    await at(0.85)
    for name in ("reporting-consumer", "intake-relay", "intake-consumer", "intake-api", "notification-worker"):
        await restart(name, signal.SIGTERM, "SIGTERM (graceful stop)")
    done.set()


def counts(hub: Hub, run: str) -> dict[str, int]:
    with psycopg.connect(hub.db_url("feedback_intake")) as conn:
        stored, doubled = conn.execute(
            "select count(distinct client_reference), count(*) - count(distinct client_reference)"
            " from feedback_submission where client_reference like %s",
            (f"{run}-%",),
        ).fetchone()  # type: ignore[misc]
    with psycopg.connect(hub.db_url("reporting")) as conn:
        reported = conn.execute("select count(*) from feedback_fact where organisation_code = %s", (ORG,)).fetchone()[0]  # type: ignore[index]
        fft = conn.execute(
            "select coalesce(sum(very_good + good + neither_good_nor_poor + poor + very_poor + dont_know), 0)"
            " from feedback_count where organisation_code = %s",
            (ORG,),
        ).fetchone()[0]  # type: ignore[index]
    return {"stored": stored, "doubled": doubled, "reported": reported, "fft_counted": int(fft)}


def email_counts(hub: Hub, smtp: SmtpSink, joined: list[str], may_have_joined: dict[str, int]) -> dict[str, int]:
    """Each join taken should bring one confirmation email. Doubled: one notification
    (its Message-ID) delivered twice, or a person sent more emails than the join requests
    of theirs membership may have taken (a retry after a dropped connection may rightly
    bring a second). A send cut off by SIGKILL between the relay's answer and its record is
    'unknown' (never resent blindly): such a person may have 0 or 1, and is counted apart."""
    received: dict[str, int] = {}
    deliveries: dict[str, int] = {}
    for message in smtp.messages:
        message_id = str(message.get("Message-ID", ""))
        deliveries[message_id] = deliveries.get(message_id, 0) + 1
        for address in str(message.get("To", "")).split(","):
            key = address.strip().strip("<>").split("<")[-1].strip(">").lower()
            received[key] = received.get(key, 0) + 1
    with psycopg.connect(hub.db_url("notification")) as conn:
        unknown = conn.execute("select count(*) from notification where status = 'unknown'").fetchone()[0]  # type: ignore[index]
    counts = [received.get(address.lower(), 0) for address in joined]
    return {
        "joined": len(joined),
        "emails": sum(counts),
        "emails_doubled": sum(1 for n in deliveries.values() if n > 1)
        + sum(1 for a in joined if received.get(a.lower(), 0) > max(1, may_have_joined.get(a.lower(), 0))),
        "emails_missing": sum(1 for c in counts if c == 0),
        "emails_unknown": int(unknown),
    }


async def dead_letters(hub: Hub) -> int:
    total = 0
    for topic in SOURCE_TOPICS:
        total += len(await kafka_admin.read_all(hub.bootstrap, dead_letter(topic.name)))
    return total


def run(items: int, rate: float, outage: float, settle: float = 240) -> dict[str, object]:
    smtp = SmtpSink().start()
    hub = start_hub("chaos", smtp_port=smtp.port, script_env=TEST_BROKER_JVM)
    run_id = f"chaos-{uuid.uuid4().hex[:8]}"
    may_have_joined: dict[str, int] = {}
    try:
        duration = items / rate

        async def drive() -> tuple[int, int, list[str]]:
            faults_done = asyncio.Event()
            loaded, _ = await asyncio.gather(
                load(hub, run_id, items, rate, faults_done, may_have_joined),
                inject(hub, duration, outage, faults_done, smtp),
            )
            return loaded

        sent, accepted, joined = asyncio.run(drive())
        deadline = time.monotonic() + settle
        while True:
            seen = counts(hub, run_id)
            mail = email_counts(hub, smtp, joined, may_have_joined)
            settled = seen["reported"] >= accepted and seen["stored"] >= accepted
            mailed = mail["emails_missing"] <= mail["emails_unknown"]
            if (settled and mailed) or time.monotonic() > deadline:
                break
            time.sleep(1)
        time.sleep(3)  # anything doubled arrives by now
        seen = counts(hub, run_id)
        mail = email_counts(hub, smtp, joined, may_have_joined)
        letters = asyncio.run(dead_letters(hub))
        rejected = len(asyncio.run(kafka_admin.read_all(hub.bootstrap, FEEDBACK_REJECTED.name)))
    finally:
        stop_hub(hub)
        smtp.stop()
    result: dict[str, object] = {
        "sent": sent,
        "accepted": accepted,
        **seen,
        **mail,
        "lost": accepted - int(seen["stored"]),
        "not_reported": int(seen["stored"]) - int(seen["reported"]),
        "rejected": rejected,
        "dead_letters": letters,
        "http_statuses": hub.statuses,
        "faults": hub.faults,
        "ok": accepted == sent
        and seen["stored"] == accepted
        and seen["reported"] == accepted
        and seen["fft_counted"] == accepted
        and seen["doubled"] == 0
        and mail["joined"] > 0
        and mail["emails_doubled"] == 0
        and mail["emails_missing"] <= mail["emails_unknown"]
        and letters == 0
        and rejected == 0
        and not any(code.split()[-1] == "500" for code in hub.statuses),
    }
    return result


def summary(result: dict[str, object]) -> str:
    keys = (
        "sent",
        "accepted",
        "stored",
        "reported",
        "lost",
        "doubled",
        "not_reported",
        "dead_letters",
        "rejected",
        "joined",
        "emails",
        "emails_doubled",
        "emails_missing",
        "emails_unknown",
    )
    verdict = "PASS" if result["ok"] else "FAIL"
    http = ",".join(f"{code}:{n}" for code, n in sorted(result["http_statuses"].items()))  # type: ignore[attr-defined]
    figures = " ".join(f"{k}={result[k]}" for k in keys)
    return f"chaos {verdict}: {figures} faults={len(result['faults'])} http={http}"  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=3000, help="at least this many (more while faults last)")
    parser.add_argument("--rate", type=float, default=25.0, help="items per second")
    parser.add_argument("--outage", type=float, default=12.0, help="seconds each of Kafka and PostgreSQL is down")
    args = parser.parse_args()
    # The load's own producers retry through the broker outage; their client's complaints
    # meanwhile are expected, and the fault log says what happened.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    result = run(args.items, args.rate, args.outage)
    print("chaos: fault log")
    for line in result["faults"]:  # type: ignore[attr-defined]
        print(f"  {line}")
    print(f"chaos: HTTP answers {json.dumps(result['http_statuses'])}")
    print(summary(result))
    raise SystemExit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
