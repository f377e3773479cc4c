"""Idempotent event consumption over FastStream, with explicit acknowledgement.

For each message: decode and validate the envelope; apply the handler and record the
event id in the inbox in one transaction; retry failures with exponential backoff a
bounded number of times; then dead-letter with the reason and the original
topic/partition/offset in headers, and move on. The offset is committed only after
the effect (or the dead letter) is durable. If even the dead letter cannot be written
(broker gone), the message is not acknowledged and is delivered again."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from hub_shared import correlation
from hub_shared.events import Envelope, InvalidEvent, decode
from hub_shared.inbox import InboxMixin, first_delivery
from hub_shared.logging import get_logger
from hub_shared.metrics import EVENTS_CONSUMED
from hub_shared.topics import dead_letter

log = get_logger(__name__)

EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]
InvalidHandler = Callable[[AsyncSession, ConsumerRecord, str], Awaitable[None]]


class PermanentFailure(Exception):
    """Raised by a handler for an event that can never succeed: dead-letter it at once."""


@dataclass
class EventConsumer:
    """One consumer group applying events from some topics to one service's database."""

    group: str
    topics: list[str]
    handlers: dict[str, EventHandler]
    sessions: async_sessionmaker[AsyncSession]
    inbox_model: type[InboxMixin]
    max_attempts: int = 4
    backoff_seconds: float = 0.2
    # For ingress topics: input that is not a valid event is the sender's to fix, so it is
    # handed here (once per offset) instead of being dead-lettered.
    invalid_handler: InvalidHandler | None = None

    def register(self, broker: KafkaBroker) -> None:
        async def raw_body(message: StreamMessage[ConsumerRecord]) -> bytes:
            # Decoding is ours: a body FastStream cannot parse must still be dead-lettered.
            return message.body

        @broker.subscriber(
            *self.topics,
            group_id=self.group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            max_poll_interval_ms=300_000,
            decoder=raw_body,
            title=f"{self.group}",
            description=f"Applies {', '.join(sorted(self.handlers))} idempotently; dead letters go to <topic>.dlq",
        )
        async def on_message(body: bytes, message: KafkaMessage) -> None:
            await self.handle(message.raw_message, broker)  # type: ignore[arg-type]

    async def handle(self, record: ConsumerRecord, broker: KafkaBroker) -> str:
        """Process one record; returns the outcome (applied, duplicate, ignored, dead-lettered)."""
        structlog.contextvars.bind_contextvars(topic=record.topic, partition=record.partition, offset=record.offset)
        try:
            headers = {k: v for k, v in (record.headers or ())}
            try:
                envelope = decode(record.value, record.key, headers)
            except InvalidEvent as exc:
                if self.invalid_handler is not None:
                    return self._outcome("invalid", await self._apply_invalid(self.invalid_handler, record, str(exc)))
                await self._dead_letter(broker, record, str(exc), attempts=0)
                return self._outcome("invalid", "dead_lettered")
            correlation.bind(envelope.correlation_id)
            structlog.contextvars.bind_contextvars(
                event_id=envelope.id, event_type=envelope.type, tenant=envelope.tenant
            )
            handler = self.handlers.get(envelope.type)
            if handler is None:
                return self._outcome(envelope.type, "ignored")
            attempts = 0
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self.max_attempts),
                    wait=wait_exponential(multiplier=self.backoff_seconds, max=5),
                    retry=retry_if_not_exception_type(PermanentFailure),
                    reraise=True,
                ):
                    with attempt:
                        attempts = attempt.retry_state.attempt_number
                        applied = await self._apply(handler, envelope)
            except Exception as exc:
                log.warning("event failed; dead-lettering", error=repr(exc), attempts=attempts)
                await self._dead_letter(broker, record, repr(exc), attempts=attempts)
                return self._outcome(envelope.type, "dead_lettered")
            return self._outcome(envelope.type, "applied" if applied else "duplicate")
        finally:
            structlog.contextvars.unbind_contextvars("topic", "partition", "offset", "event_id", "event_type", "tenant")

    async def _apply(self, handler: EventHandler, envelope: Envelope) -> bool:
        async with self.sessions() as session, session.begin():
            return await apply_once(session, self.inbox_model, self.group, handler, envelope)

    async def _apply_invalid(self, handler: InvalidHandler, record: ConsumerRecord, reason: str) -> str:
        position = f"{record.topic}:{record.partition}:{record.offset}"
        async with self.sessions() as session, session.begin():
            if not await first_delivery(session, self.inbox_model, self.group, position, "invalid"):
                return "duplicate"
            await handler(session, record, reason)
        return "rejected"

    async def _dead_letter(self, broker: KafkaBroker, record: ConsumerRecord, reason: str, attempts: int) -> None:
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        headers.update(
            {
                "dlq-reason": reason[:4000],
                "dlq-original-topic": record.topic,
                "dlq-original-partition": str(record.partition),
                "dlq-original-offset": str(record.offset),
                "dlq-consumer-group": self.group,
                "dlq-attempts": str(attempts),
            }
        )
        try:
            await broker.publish(record.value or b"", topic=dead_letter(record.topic), key=record.key, headers=headers)
        except Exception:
            # Not acknowledged: FastStream seeks back and the message comes again. Pause
            # first so a broker outage does not become a hot loop.
            await asyncio.sleep(1)
            raise
        log.warning("dead-lettered", reason=reason[:500], dlq=dead_letter(record.topic))

    def _outcome(self, event_type: str, outcome: str) -> str:
        EVENTS_CONSUMED.labels(self.group, event_type, outcome).inc()
        log.info("event consumed", outcome=outcome)
        return outcome


async def apply_once(
    session: AsyncSession, inbox_model: type[InboxMixin], group: str, handler: EventHandler, envelope: Envelope
) -> bool:
    """Apply an event in the caller's transaction unless this group already did; the inbox
    row and the effect commit together. The one way both live consumption and replays apply."""
    if not await first_delivery(session, inbox_model, group, envelope.id, envelope.type):
        return False
    await handler(session, envelope)
    return True


def new_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        graceful_timeout=30.0,
        # Our own structured "event consumed" line replaces FastStream's access log.
        log_level=logging.DEBUG,
    )
