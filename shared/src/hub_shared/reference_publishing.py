"""How an operator's import of published reference data (organisations, registered
population) reaches Kafka: every event of one import in one Kafka transaction, with an
idempotent producer and ``acks=all``, so readers (``read_committed``) see all of it or none.

An import has no database of its own (the topic, log-compacted, is its store), so there is no
state change for an outbox to make atomic with the events: an import Kafka did not
acknowledge is reported as failed, has changed nothing, and is simply run again. The event id
is a digest of what the event says (not when), so the same files imported twice publish the
same events, which the readers' inboxes recognise."""

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime

import orjson
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from hub_shared.events import Envelope, encode

SOURCE = "hub-reference-import"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def content_envelope(data: BaseModel, *, subject: str, tenant: str, time: datetime, correlation_id: str) -> Envelope:
    """An event whose id is a digest of its content (``published_at`` left out)."""
    content = orjson.dumps(data.model_dump(mode="json", exclude={"published_at"}), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(data.event_type.encode() + content).hexdigest()  # type: ignore[attr-defined]
    return Envelope(
        id=str(uuid.UUID(digest[:32])),
        source=SOURCE,
        type=data.event_type,  # type: ignore[attr-defined]
        subject=subject,
        time=time,
        tenant=tenant,
        correlation_id=correlation_id,
        data=data,
    )


async def publish_together(bootstrap_servers: str, topic: str, envelopes: Sequence[Envelope]) -> None:
    """Publish the events in one transaction; returns once Kafka committed them."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=SOURCE,
        enable_idempotence=True,
        acks="all",
        transactional_id=f"{SOURCE}-{topic}",
        max_request_size=MAX_MESSAGE_BYTES,
    )
    try:
        await producer.start()
        async with producer.transaction():
            for envelope in envelopes:
                message = encode(envelope)
                await producer.send_and_wait(
                    topic, message.value, key=message.key.encode(), headers=list(message.headers.items())
                )
    finally:
        await producer.stop()
