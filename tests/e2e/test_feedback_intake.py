"""feedback-intake's ways in and out, over the real broker and PostgreSQL: the Kafka
ingress and its rejected topic, erasure from membership, responses and FFT returns
reaching Kafka, and de-identified text on the wire."""

import uuid

from aiokafka import AIOKafkaProducer

from hub_shared import kafka_admin
from hub_shared.events import FeedbackSubmittedV1, MemberErasedV1, decode, encode, new_envelope
from hub_shared.topics import FEEDBACK_EVENTS, FEEDBACK_REJECTED, FEEDBACK_SUBMISSIONS, MEMBERSHIP_EVENTS

from .conftest import Hub, eventually


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
        envelope = decode(record.value)
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
    bad = submitted(
        "02B",
        client_reference=bad_reference,
        organisation_code="P82003",
        service_area="podiatry",
        channel="fft_sms",
        occurred_at="2026-11-01T20:00:00Z",
    )
    foreign_reference = f"ext-{uuid.uuid4()}"
    foreign = submitted(
        "02B",
        client_reference=foreign_reference,
        organisation_code="P81001",
        service_area="other",
        channel="fft_sms",
        fft_answer="good",
        occurred_at="2026-11-01T20:00:00Z",
    )
    await send(hub, FEEDBACK_SUBMISSIONS.name, reference, good)
    await send(hub, FEEDBACK_SUBMISSIONS.name, reference, good)  # a repeat is stored once
    await send(hub, FEEDBACK_SUBMISSIONS.name, bad_reference, bad)
    await send(hub, FEEDBACK_SUBMISSIONS.name, foreign_reference, foreign)
    await send(hub, FEEDBACK_SUBMISSIONS.name, "junk", b"\x00 not an event", {"ce_tenant": b"02B"})

    async def rejected() -> list:  # type: ignore[type-arg]
        return await events_on(hub, FEEDBACK_REJECTED.name)

    async def three_rejections() -> bool:
        refs = {e.data.client_reference for e in await rejected()}
        return {bad_reference, foreign_reference, "junk"} <= refs

    await eventually(three_rejections, what="rejections on feedback.rejected")
    by_reference = {e.data.client_reference: e.data for e in await rejected()}
    assert by_reference[bad_reference].errors[0]["field"] == "service_area"
    assert by_reference[foreign_reference].errors[0]["type"] == "forbidden"
    assert by_reference["junk"].errors[0]["type"] == "invalid_envelope"

    async def stored_once() -> bool:
        page = (
            await hub.intake.get("/v1/feedback", params={"organisation_code": "P82003"}, headers=hub.token("02B"))
        ).json()
        return [i["client_reference"] for i in page["items"]].count(reference) == 1

    await eventually(stored_once, what="the valid ingress submission stored once")
    received = [
        e
        for e in await events_on(hub, FEEDBACK_EVENTS.name, "feedback.received.v1")
        if e.data.organisation_code == "P82003" and e.data.submitted_by == "02B"
    ]
    assert len(received) == 1
    assert "[NHS number]" in received[0].data.text and "943" not in received[0].data.text
    assert received[0].data.redactions == {"nhs_number": 1}


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
            for e in await events_on(hub, FEEDBACK_EVENTS.name, "feedback.responded.v1")
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
