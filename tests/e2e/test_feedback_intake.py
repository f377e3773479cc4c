"""feedback-intake's ways in and out, over the real broker and PostgreSQL: the Kafka
ingress and its rejected topic, erasure from membership, responses and FFT returns
reaching Kafka, and de-identified text on the wire."""

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from hub_shared import kafka_admin
from hub_shared.auth import DevKeys
from hub_shared.events import FeedbackSubmittedV1, InvalidEvent, MemberErasedV1, decode, encode, new_envelope
from hub_shared.testing import eventually
from hub_shared.topics import (
    FEEDBACK_EVENTS,
    FEEDBACK_REJECTED,
    FEEDBACK_RESPONSES,
    FEEDBACK_SUBMISSIONS,
    MEMBERSHIP_EVENTS,
)

from .conftest import Hub


async def send(hub: Hub, topic: str, key: str, value: bytes, headers: dict[str, bytes] | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=hub.kafka.bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key.encode(), headers=list((headers or {}).items()))
    finally:
        await producer.stop()


async def events_on(hub: Hub, topic: str, event_type: str | None = None) -> list:  # type: ignore[type-arg]
    out = []
    for record in await kafka_admin.read_all(hub.kafka.bootstrap_servers, topic):
        try:
            envelope = decode(record.value)
        except InvalidEvent:  # other tests' poison on the shared broker
            continue
        if event_type is None or envelope.type == event_type:
            out.append(envelope)
    return out


def submitted(tenant: str, **data: object) -> bytes:
    envelope = new_envelope(
        FeedbackSubmittedV1(**data),
        source=f"{tenant}-system",
        subject=str(data.get("client_reference")),
        tenant=tenant,
        correlation_id=f"ingress-{uuid.uuid4()}",
    )
    return encode(envelope).value


def signed(hub: Hub, org: str, scopes: list[str] | None = None) -> dict[str, bytes]:
    """The record header that binds an ingress record to its sender: the HTTP bearer token."""
    return {"authorization": hub.token(org, scopes or ["feedback:write"])["Authorization"].encode()}


async def rejections(hub: Hub, org: str) -> dict[str, dict]:  # type: ignore[type-arg]
    """What GET /v1/ingress/rejections shows an organisation, by client reference."""
    response = await hub.intake.get("/v1/ingress/rejections", headers=hub.token(org))
    assert response.status_code == 200, response.text
    return {r["client_reference"]: r for r in response.json()}


async def operators_see(hub: Hub, references: set[str]) -> dict[str, Any]:
    """The rejections on feedback.rejected (the operators' topic), once these are there."""
    found: dict[str, Any] = {}

    async def there() -> bool:
        found.update({e.data.client_reference: e for e in await events_on(hub, FEEDBACK_REJECTED.name)})
        return references <= set(found)

    await eventually(there, what=f"{references} on feedback.rejected")
    return found


def item(reference: str, organisation_code: str, **overrides: object) -> dict[str, object]:
    return {
        "client_reference": reference,
        "organisation_code": organisation_code,
        "service_area": "other",
        "channel": "fft_sms",
        "fft_answer": "good",
        "occurred_at": "2026-11-01T20:00:00Z",
        **overrides,
    }


async def test_kafka_ingress_accepts_valid_submissions_and_rejects_the_rest_with_reasons(hub: Hub) -> None:
    reference = f"ext-{uuid.uuid4()}"
    good = submitted(
        "02B",
        client_reference=reference,
        organisation_code="P82003",
        service_area="urgent_care",
        channel="fft_sms",
        fft_answer="very_poor",
        text="Waited 6 hours. My NHS number is 943 476 5919.",
        occurred_at="2026-11-01T20:00:00Z",
    )
    bad_reference = f"ext-{uuid.uuid4()}"
    bad = submitted("02B", **item(bad_reference, "P82003", service_area="podiatry", fft_answer=None))
    foreign_reference = f"ext-{uuid.uuid4()}"
    foreign = submitted("02B", **item(foreign_reference, "P81001"))
    junk_reference = f"junk-{uuid.uuid4()}"
    await send(hub, FEEDBACK_SUBMISSIONS.name, reference, good, signed(hub, "02B"))
    await send(hub, FEEDBACK_SUBMISSIONS.name, reference, good, signed(hub, "02B"))  # a repeat is stored once
    await send(hub, FEEDBACK_SUBMISSIONS.name, bad_reference, bad, signed(hub, "02B"))
    await send(hub, FEEDBACK_SUBMISSIONS.name, foreign_reference, foreign, signed(hub, "02B"))
    await send(hub, FEEDBACK_SUBMISSIONS.name, junk_reference, b"\x00 not an event", signed(hub, "02B"))

    async def three_rejections() -> bool:
        return {bad_reference, foreign_reference, junk_reference} <= set(await rejections(hub, "02B"))

    await eventually(three_rejections, what="02B's rejections at GET /v1/ingress/rejections")
    shown = await rejections(hub, "02B")
    assert shown[bad_reference]["errors"][0]["field"] == "service_area"
    assert shown[foreign_reference]["errors"][0]["type"] == "forbidden"
    assert shown[junk_reference]["errors"][0]["type"] == "invalid_envelope"
    assert all(r["sender"] == "02B" for r in shown.values())
    operators = await operators_see(hub, {bad_reference})
    assert operators[bad_reference].tenant == "02B"  # keyed by the signer on the operators' topic

    async def stored_once() -> bool:
        page = (
            await hub.intake.get("/v1/feedback", params={"organisation_code": "P82003"}, headers=hub.token("02B"))
        ).json()
        return [i["client_reference"] for i in page["items"]].count(reference) == 1

    await eventually(stored_once, what="the valid ingress submission stored once")
    page = (
        await hub.intake.get("/v1/feedback", params={"organisation_code": "P82003"}, headers=hub.token("02B"))
    ).json()
    stored_id = next(i["id"] for i in page["items"] if i["client_reference"] == reference)
    received = [
        e
        for e in await events_on(hub, FEEDBACK_EVENTS.name, "feedback.received.v1")
        if str(e.data.submission_id) == stored_id and e.data.submitted_by == "02B"
    ]
    assert len(received) == 1
    assert "[NHS number]" in received[0].data.text and "943" not in received[0].data.text
    assert received[0].data.redactions == {"nhs_number": 1}

    # In a later poll, the stored reference is found in the database: a repeat is still a
    # duplicate, and new content under it is refused, not stored.
    changed = submitted("02B", **{**json.loads(good)["data"], "fft_answer": "very_good"})
    await send(hub, FEEDBACK_SUBMISSIONS.name, reference, good, signed(hub, "02B"))
    await send(hub, FEEDBACK_SUBMISSIONS.name, reference, changed, signed(hub, "02B"))

    async def refused() -> bool:
        return reference in await rejections(hub, "02B")

    await eventually(refused, what="new content under a stored reference refused")
    assert (await rejections(hub, "02B"))[reference]["errors"][0]["field"] == "client_reference"
    assert await stored_once()


async def test_an_ingress_record_cannot_claim_another_organisation(hub: Hub) -> None:
    """A practice's system signs with its own token and claims the ICB's tenant (QZZ), then
    another place's practice; another record carries no token, another a forged one. None
    is stored; the signer alone can read why, the claimed organisations cannot."""
    spoof = f"spoof-{uuid.uuid4()}"
    sideways = f"sideways-{uuid.uuid4()}"
    unsigned = f"unsigned-{uuid.uuid4()}"
    forged = f"forged-{uuid.uuid4()}"
    read_only = f"readonly-{uuid.uuid4()}"
    honest = f"honest-{uuid.uuid4()}"
    await send(hub, FEEDBACK_SUBMISSIONS.name, spoof, submitted("QZZ", **item(spoof, "P81001")), signed(hub, "P81001"))
    await send(
        hub, FEEDBACK_SUBMISSIONS.name, sideways, submitted("P82003", **item(sideways, "P82003")), signed(hub, "P81001")
    )
    await send(hub, FEEDBACK_SUBMISSIONS.name, unsigned, submitted("P81001", **item(unsigned, "P81001")))
    other_keys = DevKeys(Path(tempfile.mkdtemp()) / "keys").ensure()
    forged_token = other_keys.issue(
        organisation="P81001",
        scopes=["feedback:write"],
        issuer=hub.settings.jwt_issuer,
        audience=hub.settings.jwt_audience,
    )
    await send(
        hub,
        FEEDBACK_SUBMISSIONS.name,
        forged,
        submitted("P81001", **item(forged, "P81001")),
        {"authorization": f"Bearer {forged_token}".encode()},
    )
    await send(
        hub,
        FEEDBACK_SUBMISSIONS.name,
        read_only,
        submitted("P81001", **item(read_only, "P81001")),
        signed(hub, "P81001", ["feedback:read"]),
    )
    await send(
        hub, FEEDBACK_SUBMISSIONS.name, honest, submitted("P81001", **item(honest, "P81001")), signed(hub, "P81001")
    )

    async def signer_sees_both() -> bool:
        return {spoof, sideways, read_only} <= set(await rejections(hub, "P81001"))

    await eventually(signer_sees_both, what="P81001's rejections")
    mine = await rejections(hub, "P81001")
    assert mine[spoof]["tenant"] == "QZZ" and mine[spoof]["errors"][0]["type"] == "forbidden"
    assert "may not act for QZZ" in mine[spoof]["errors"][0]["message"]
    assert mine[sideways]["errors"][0]["type"] == "forbidden"
    assert "feedback:write" in mine[read_only]["errors"][0]["message"]
    # Unsigned and forged records are attributed to no one: not even to the practice they name.
    assert unsigned not in mine and forged not in mine
    for other in ("QZZ", "01A", "02B", "P82003"):
        assert not {spoof, sideways, unsigned, forged, read_only} & set(await rejections(hub, other)), other

    async def honest_stored() -> bool:
        page = (await hub.intake.get("/v1/feedback", params={"limit": 500}, headers=hub.token("QZZ"))).json()
        return honest in {i["client_reference"] for i in page["items"]}

    await eventually(honest_stored, what="the honest record, sent last, to be stored")
    page = (await hub.intake.get("/v1/feedback", params={"limit": 500}, headers=hub.token("QZZ"))).json()
    stored = {i["client_reference"] for i in page["items"]}
    assert not {spoof, sideways, unsigned, forged, read_only} & stored
    operators = await operators_see(hub, {unsigned, forged})
    assert operators[unsigned].tenant == "unauthenticated" and operators[unsigned].data.submitted_by is None
    assert operators[forged].data.errors[0]["type"] == "invalid_token"


async def test_a_members_erasure_removes_every_link_from_their_submissions(hub: Hub) -> None:
    member = uuid.uuid4()
    created = await hub.post_feedback("P83002", hear_back={"member_id": str(member)})
    assert created.json()["hears_back"] is True
    erased = new_envelope(
        MemberErasedV1(member_id=member, erased_at="2026-11-22T10:00:00Z"),
        source="membership",
        subject=str(member),
        tenant="QZZ",
        correlation_id="erasure",
    )
    await send(hub, MEMBERSHIP_EVENTS.name, str(member), encode(erased).value)

    async def unlinked() -> bool:
        stored = await hub.intake.get(f"/v1/feedback/{created.json()['id']}", headers=hub.token("P83002"))
        return stored.json()["hears_back"] is False

    await eventually(unlinked, what="the member link to be removed")


async def test_responses_and_fft_returns_reach_kafka(hub: Hub) -> None:
    member = uuid.uuid4()
    said = (
        await hub.post_feedback("P81004", hear_back={"member_id": str(member)}, text="Please open on Saturdays.")
    ).json()
    response = await hub.intake.post(
        "/v1/responses",
        headers=hub.token("01A"),
        json={
            "organisation_code": "01A",
            "submission_ids": [said["id"]],
            "you_said": "Open on Saturdays.",
            "we_did": "Saturday morning clinics from January.",
            "status": "planned",
            "change_due": "2027-01-09",
        },
    )
    assert response.status_code == 201, response.text

    csv = (
        "Practice Code,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know\n"
        "P81005,2026-09,7,2,1,0,0,0\n"
    )
    upload = await hub.intake.post(
        "/v1/fft-returns/uploads", content=csv.encode(), headers={**hub.token("01A"), "Content-Type": "text/csv"}
    )
    assert upload.status_code == 202

    async def both_published() -> bool:
        responded = [
            e
            for e in await events_on(hub, FEEDBACK_RESPONSES.name, "feedback.responded.v1")
            if str(e.data.response_id) == response.json()["id"]
        ]
        returns = [
            e
            for e in await events_on(hub, FEEDBACK_EVENTS.name, "feedback.fft_return.v1")
            if e.data.organisation_code == "P81005"
        ]
        return bool(
            responded
            and returns
            and responded[0].data.notify_member_ids == [member]
            and returns[0].data.answers["very_good"] == 7
        )

    await eventually(both_published, what="feedback.responded and feedback.fft_return on Kafka")


async def test_a_nul_character_is_a_field_error_on_postgresql_not_a_500(hub: Hub) -> None:
    """Found by the contract tests: PostgreSQL text cannot hold NUL, and the driver's error
    escaped as a 500 (after seconds of traceback rendering)."""
    response = await hub.post_feedback("P81002", text="before\u0000after")
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"].endswith("text") and "control character" in error["message"].lower(), error
