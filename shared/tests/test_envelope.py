import json
import uuid
from datetime import UTC, datetime

import pytest

from hub_shared.events import FeedbackReceivedV1, InvalidEvent, decode, encode, new_envelope
from hub_shared.events.received import received_from


def envelope():  # type: ignore[no-untyped-def]
    data = FeedbackReceivedV1(
        submission_id=uuid.uuid4(),
        organisation_code="P81001",
        service_area="dermatology",
        channel="fft_paper",
        fft_answer="very_poor",
        text="Long wait.",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        received_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    return new_envelope(
        data, source="feedback-intake", subject=str(data.submission_id), tenant="P81001", correlation_id="c-1"
    )


def test_structured_cloudevent_round_trip_keeps_every_attribute() -> None:
    original = envelope()
    message = encode(original)
    assert message.headers["content-type"] == b"application/cloudevents+json"
    assert message.key == original.subject
    body = json.loads(message.value)
    assert body["specversion"] == "1.0"
    assert body["type"] == "feedback.received.v1"
    assert body["tenant"] == "P81001" and body["correlationid"] == "c-1"

    decoded = decode(message.value, message.key.encode(), message.headers)  # type: ignore[union-attr]
    assert decoded.id == original.id
    # Read into feedback.received.v1's struct (hub_shared.events.received): the same values.
    assert decoded.data == received_from(original.data.model_dump(mode="json"))
    assert decoded.correlation_id == "c-1"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b"not json at all", "not a CloudEvents"),
        (lambda b: b"", "empty"),
        (lambda b: json.dumps({**json.loads(b), "type": "feedback.exploded.v9"}).encode(), "unknown event type"),
        (lambda b: json.dumps({k: v for k, v in json.loads(b).items() if k != "tenant"}).encode(), "tenant"),
        (
            lambda b: json.dumps({**json.loads(b), "data": {**json.loads(b)["data"], "channel": "pigeon"}}).encode(),
            "data is invalid",
        ),
    ],
)
def test_invalid_messages_are_refused_with_the_reason(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    value = mutate(encode(envelope()).value)
    with pytest.raises(InvalidEvent, match=reason):
        decode(value)


def test_keys_land_on_the_partitions_kafkas_default_partitioner_chooses() -> None:
    """The relay's fast partitioner agrees with aiokafka's (Java-compatible) murmur2 one."""
    from aiokafka.partitioner import DefaultPartitioner

    from hub_shared.partitioner import partition_for

    for count in (1, 3, 6, 7):
        partitions = list(range(count))
        for key in [str(uuid.uuid4()).encode() for _ in range(500)] + [b"", b"P81001", "é".encode()]:
            assert partition_for(key, partitions, partitions) == DefaultPartitioner()(key, partitions, partitions)


def test_an_unwanted_type_is_not_validated_but_a_wanted_or_unknown_one_is() -> None:
    """A consumer skips the data of events it has no handler for; nothing else changes."""
    from hub_shared.events import Unwanted, decode_wanted

    body = json.loads(encode(envelope()).value)
    bad_data = json.dumps({**body, "data": {**body["data"], "channel": "pigeon"}}).encode()
    assert decode_wanted(bad_data, lambda t: t != "feedback.received.v1") == Unwanted("feedback.received.v1")
    with pytest.raises(InvalidEvent, match="data is invalid"):
        decode_wanted(bad_data, lambda t: t == "feedback.received.v1")
    unknown = json.dumps({**body, "type": "feedback.exploded.v9"}).encode()
    with pytest.raises(InvalidEvent, match="unknown event type"):
        decode_wanted(unknown, lambda t: False)
    good = encode(envelope()).value
    assert decode_wanted(good, lambda t: True).data == decode(good).data  # type: ignore[union-attr]
