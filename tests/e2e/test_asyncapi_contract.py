"""Every service's AsyncAPI document is a true contract, checked against the real broker:

* every event a service has published (whatever is on the topics it declares it sends to,
  after each service has done its work) validates against the schema the document gives
  for that event type, and is keyed by its subject;
* every example in a document is accepted by the consumer it is written for: published on
  the channel (with a fresh id; an elided token replaced by a real one for the example's
  tenant), the consumer applies it (its inbox records it), and nothing is rejected or
  dead-lettered."""

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from feedback_intake.models import InboxMessage as IntakeInbox
from feedback_intake.models import IngressRejection
from hub_shared import kafka_admin
from hub_shared.events import decode
from hub_shared.testing import consumer_group, eventually
from hub_shared.topics import dead_letter
from membership.models import InboxMessage as MembershipInbox
from reporting.models import InboxMessage as ReportingInbox
from tests.contracts.services import SERVICES

from .conftest import Hub
from .test_feedback_intake import send

FORMATS = FormatChecker()


async def documents(hub: Hub, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Each service's AsyncAPI document, as its API serves it."""
    served = {"feedback-intake": hub.intake, "membership": hub.membership, "reporting": hub.reporting}
    out: dict[str, dict[str, Any]] = {}
    for name, service in SERVICES.items():
        if name in served:
            response = await served[name].get("/asyncapi.json")
        else:  # not wired into the hub yet: its document needs no store
            settings = service.settings(  # type: ignore[call-arg]
                database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db",
                KAFKA_BOOTSTRAP_SERVERS=hub.kafka.bootstrap_servers,
                HUB_JWKS_PATH=hub.keys.jwks_path,
            )
            app = service.create_app(settings)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
                response = await client.get("/asyncapi.json")
            await app.state.engine.dispose()
        assert response.status_code == 200, f"{name}: /asyncapi.json {response.status_code}"
        out[name] = response.json()
    return out


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def messages_of(document: dict[str, Any], action: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(channel name, address, message) for every message of the operations with this action."""
    out = []
    for operation in document.get("operations", {}).values():
        if operation["action"] != action:
            continue
        channel_name = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        channel = document["channels"][channel_name]
        for ref in operation.get("messages", []):
            message = resolve(document, ref["$ref"])
            if "$ref" in message:
                message = resolve(document, message["$ref"])
            out.append((channel_name, channel["address"], message))
    return out


def validator(document: dict[str, Any], payload: dict[str, Any]) -> Draft202012Validator:
    # The payload's $refs point into the document: validate from a root that carries them.
    return Draft202012Validator({**payload, "components": document["components"]}, format_checker=FORMATS)


def event_type_of(document: dict[str, Any], payload: dict[str, Any]) -> str | None:
    schema = resolve(document, payload["$ref"]) if "$ref" in payload else payload
    const = schema.get("properties", {}).get("type", {}).get("const")
    return const if isinstance(const, str) else None


async def make_every_service_publish(hub: Hub) -> None:
    """Intake: received (plain and flagged), reviewed, responded, an FFT return, a rejection;
    reporting: a month's snapshot; membership: a feedback page's submission. Membership's other
    events come as its own tests make it work."""
    flagged = await hub.post_feedback("P81003", text="I want to make a formal complaint about the wait.")
    assert flagged.status_code == 201, flagged.text
    reviewed = await hub.intake.post(
        f"/v1/reviews/{flagged.json()['id']}", json={"decision": "cleared"}, headers=hub.token("01A")
    )
    assert reviewed.status_code == 200, reviewed.text
    responded = await hub.intake.post(
        "/v1/responses",
        headers=hub.token("01A"),
        json={
            "organisation_code": "01A",
            "submission_ids": [flagged.json()["id"]],
            "you_said": "Waits.",
            "we_did": "More staff.",
            "status": "in_progress",
        },
    )
    assert responded.status_code == 201, responded.text
    csv = (
        "Practice Code,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know\n"
        "P81006,2026-08,3,2,1,0,0,0\n"
    )
    upload = await hub.intake.post(
        "/v1/fft-returns/uploads", content=csv.encode(), headers={**hub.token("01A"), "Content-Type": "text/csv"}
    )
    assert upload.status_code == 202, upload.text
    snapshot = await hub.reporting.post("/v1/reports/snapshots", json={"month": "2026-08"}, headers=hub.token("QZZ"))
    assert snapshot.status_code in (200, 201, 409), snapshot.text
    page = await hub.membership.post(  # a practice's feedback page, onto intake's ingress
        "/f/P81005", data={"form_id": str(uuid.uuid4()), "fft_answer": "good", "text": "Quick to book."}
    )
    assert page.status_code == 200, page.text


def sent_by(service: str, value: bytes | None) -> bool:
    """Whether a record is the service's own: intake's ingress topic is written by practices'
    systems and tests (their records checked by intake's receiving contract) and by membership's
    feedback pages."""
    try:
        return json.loads(value or b"").get("source") == service
    except (ValueError, AttributeError):
        return False


def type_of(value: bytes | None) -> str | None:
    """A record's event type; None for what is no event (another test's poison on this
    process's topics, or a tombstone)."""
    try:
        return str(json.loads(value or b"").get("type"))
    except (ValueError, AttributeError):
        return None


async def test_every_published_event_matches_its_services_asyncapi_document(hub: Hub, tmp_path: Path) -> None:
    await make_every_service_publish(hub)
    docs = await documents(hub, tmp_path)
    wanted = {("feedback-intake", t) for t in ("feedback.received.v1", "feedback.reviewed.v1")} | {
        ("feedback-intake", "feedback.responded.v1"),
        ("feedback-intake", "feedback.fft_return.v1"),
        ("reporting", "report.published.v1"),
        ("membership", "feedback.submitted.v1"),
    }
    checked: dict[tuple[str, str], int] = {}
    problems: list[str] = []
    for name, document in docs.items():
        by_topic: dict[str, dict[str, dict[str, Any]]] = {}
        for _, address, message in messages_of(document, "send"):
            event_type = event_type_of(document, message["payload"])
            assert event_type, f"{name}: a published message on {address} names no event type: {message}"
            by_topic.setdefault(address, {})[event_type] = message["payload"]

        async def published(name: str = name, by_topic: dict[str, dict[str, dict[str, Any]]] = by_topic) -> bool:
            seen = {(name, type_of(r.value)) for t in by_topic for r in await records(hub, t) if sent_by(name, r.value)}
            return {w for w in wanted if w[0] == name} <= seen

        await eventually(published, what=f"{name}'s events on Kafka")
        for topic, payloads in by_topic.items():
            for record in await records(hub, topic):
                if type_of(record.value) is None or not sent_by(name, record.value):
                    continue  # another test's deliberately unreadable record, or another writer's
                body = json.loads(record.value)
                payload = payloads.get(body.get("type"))
                if payload is None:
                    problems.append(f"{name}: {body.get('type')!r} on {topic} is not in its AsyncAPI document")
                    continue
                errors = sorted(validator(document, payload).iter_errors(body), key=lambda e: list(e.path))
                problems += [f"{name}: {body['type']} at {list(e.path)}: {e.message}" for e in errors[:3]]
                if record.key is not None and record.key.decode() != body.get("subject"):
                    problems.append(f"{name}: {body['type']} keyed {record.key!r}, subject {body.get('subject')!r}")
                checked[(name, body["type"])] = checked.get((name, body["type"]), 0) + 1
    assert not problems, "\n".join(sorted(set(problems))[:40])
    assert wanted <= set(checked), f"not seen: {wanted - set(checked)}"


async def records(hub: Hub, topic: str) -> list[kafka_admin.DeadLetter]:
    return [r for r in await kafka_admin.read_all(hub.kafka.bootstrap_servers, topic) if r.value]


INBOXES: dict[str, tuple[str, Any]] = {
    "feedback-intake": ("intake_sessions", IntakeInbox),
    "membership": ("membership_sessions", MembershipInbox),
    "reporting": ("reporting_sessions", ReportingInbox),
}


def examples(docs: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    return [
        (name, group, address, message, example)
        for name, document in docs.items()
        for group, address, message in messages_of(document, "receive")
        for example in message.get("examples", [])
    ]


async def test_every_example_is_accepted_by_the_consumer_it_is_written_for(hub: Hub, tmp_path: Path) -> None:
    docs = await documents(hub, tmp_path)
    found = examples(docs)
    assert {(n, g) for n, g, *_ in found} >= {
        ("feedback-intake", "feedback-intake.ingress"),
        ("feedback-intake", "feedback-intake.erasure"),
    }
    for name, group, address, message, example in found:
        payload = copy.deepcopy(example["payload"])
        payload["id"] = str(uuid.uuid4())
        if isinstance(payload.get("data"), dict) and "client_reference" in payload["data"]:
            payload["data"]["client_reference"] = f"example-{uuid.uuid4()}"
            payload["subject"] = payload["data"]["client_reference"]
        headers = {k: str(v) for k, v in example.get("headers", {}).items()}
        if headers.get("authorization", "").startswith("Bearer <"):
            headers["authorization"] = hub.token(payload["tenant"], ["feedback:write"])["Authorization"]
        value = json.dumps(payload).encode()
        raw_headers = {k: v.encode() for k, v in headers.items()}
        # The document's own schemas accept it (headers too), and the hub's decoder does.
        errors = list(validator(docs[name], message["payload"]).iter_errors(payload))
        assert not errors, f"{name} {example['name']}: {[e.message for e in errors]}"
        if "headers" in message:
            assert not list(validator(docs[name], message["headers"]).iter_errors(headers))
        decode(value, payload.get("subject", "").encode(), raw_headers)
        await send(hub, address, payload.get("subject") or payload["id"], value, raw_headers)
        if name not in INBOXES:
            pytest.fail(f"{name}'s consumers are not wired into the hub fixture; example {example['name']} unchecked")
        sessions_attr, inbox = INBOXES[name]
        sessions = getattr(hub, sessions_attr)

        async def applied(
            sessions: Any = sessions, inbox: Any = inbox, group: str = group, id: str = payload["id"]
        ) -> bool:
            async with sessions() as session:
                row = await session.scalar(
                    select(inbox).where(inbox.consumer == consumer_group(group), inbox.event_id == id)
                )
            return row is not None

        await eventually(applied, what=f"{group} to apply example {example['name']}")
        async with hub.intake_sessions() as session:
            rejected = await session.scalar(
                select(IngressRejection).where(IngressRejection.source_event_id == payload["id"])
            )
        assert rejected is None, f"{example['name']} was rejected: {rejected.errors}"
        letters = [r for r in await records(hub, dead_letter(address)) if payload["id"].encode() in r.value]
        assert not letters, f"{example['name']} was dead-lettered"
        if group == "feedback-intake.ingress":
            page = await hub.intake.get(
                "/v1/feedback",
                params={"organisation_code": payload["data"]["organisation_code"], "limit": 500},
                headers=hub.token(payload["tenant"]),
            )
            assert payload["data"]["client_reference"] in {i["client_reference"] for i in page.json()["items"]}
