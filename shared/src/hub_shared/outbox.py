"""Transactional outbox and its relay.

A state change and the events it causes are written in one transaction
(``add_event``). The relay claims unpublished rows in order, publishes them with an
idempotent producer (``acks=all``) and marks them published. A claim is a lease: rows
claimed by a relay that died are claimed again when the lease runs out (the sweep).
While Kafka is down the relay backs off and retries; nothing is lost, and a row
published twice (crash between send and mark) is absorbed by the consumers' inbox."""

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import JSON, BigInteger, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hub_shared.events import Envelope, encode
from hub_shared.logging import get_logger
from hub_shared.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from hub_shared.partitioner import partition_for
from hub_shared.timestamps import UtcDateTime

log = get_logger(__name__)
TOMBSTONE = "tombstone"


class OutboxMixin:
    """Declare ``class OutboxMessage(OutboxMixin, Base)`` in a service's models."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)


def outbox_row(envelope: Envelope, topic: str) -> dict[str, Any]:
    """The outbox row of an event, as column values."""
    message = encode(envelope)
    return {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "topic": topic,
        "key": envelope.subject,
        "headers": {k: v.decode() for k, v in message.headers.items()},
        "payload": message.value.decode(),
        "created_at": datetime.now(UTC),
        "attempts": 0,
    }


def add_event(session: AsyncSession, model: type[OutboxMixin], envelope: Envelope, topic: str) -> None:
    """Stage an event in the caller's transaction; it is published only if that commits."""
    row_type: Any = model  # a mapped subclass of the mixin
    session.add(row_type(**outbox_row(envelope, topic)))


def add_tombstone(session: AsyncSession, model: type[OutboxMixin], topic: str, key: str) -> None:
    """Stage a tombstone (a null value) for a key of a log-compacted topic: once compacted,
    nothing earlier for that key remains. Stored as an empty payload; the relay sends None."""
    now = datetime.now(UTC)
    row_type: Any = model
    session.add(
        row_type(
            event_id=str(uuid.uuid4()),
            event_type=TOMBSTONE,
            topic=topic,
            key=key,
            headers={},
            payload="",
            created_at=now,
            attempts=0,
        )
    )


def kafka_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        partitioner=partition_for,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
        # A few ms of linger lets a claimed batch leave as a few large produce requests.
        linger_ms=5,
        max_batch_size=256 * 1024,
    )


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        model: type[OutboxMixin],
        bootstrap_servers: str,
        *,
        client_id: str,
        batch_size: int = 1000,
        lease: timedelta = timedelta(seconds=30),
        idle_poll: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._model = model
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._batch_size = batch_size
        self._lease = lease
        self._idle_poll = idle_poll
        self._max_backoff = max_backoff
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = 0.2
        log.info("outbox relay started", bootstrap=self._bootstrap)
        try:
            while not self._stopping.is_set():
                try:
                    published = await self.publish_pending()
                    backoff = 0.2
                    if published == 0:
                        await self._sleep(self._idle_poll)
                except Exception as exc:  # broker or database unavailable: back off, keep going
                    OUTBOX_PUBLISH_FAILURES.inc()
                    log.warning("outbox relay cannot publish; retrying", error=repr(exc), retry_in=backoff)
                    await self._reset_producer()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)
        finally:
            await self._reset_producer()
            log.info("outbox relay stopped")

    async def publish_pending(self) -> int:
        """Publish one batch of claimed rows in order; return how many were published.

        The batch is sent pipelined (the idempotent producer keeps order within a
        partition, retries included) and marked published in one statement."""
        rows = await self._claim()
        if not rows:
            return 0
        producer = await self._ensure_producer()
        published: list[int] = []
        try:
            deliveries = [
                await producer.send(
                    row.topic,
                    value=row.payload.encode() if row.payload else None,  # empty: a tombstone
                    key=row.key.encode(),
                    headers=[(k, v.encode()) for k, v in row.headers.items()],
                )
                for row in rows
            ]
            for row, delivery in zip(rows, deliveries, strict=True):
                await delivery
                published.append(row.seq)
        except Exception as exc:
            # Keep what was acknowledged; release the rest (from the first failure on) so
            # later events of an aggregate never overtake an earlier one.
            await self._mark_published(published)
            await self._release([r.seq for r in rows if r.seq not in set(published)], repr(exc))
            raise
        await self._mark_published(published)
        OUTBOX_PUBLISHED.inc(len(published))
        return len(published)

    async def _claim(self) -> list[Any]:
        """Claim the oldest claimable rows in one statement (UPDATE .. RETURNING over a
        SKIP LOCKED selection, so two relays never claim one row)."""
        now = datetime.now(UTC)
        m = self._model
        candidates = (
            select(m.seq)
            .where(m.published_at.is_(None))
            .where((m.claimed_until.is_(None)) | (m.claimed_until < now))
            .order_by(m.seq)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(m)
            .where(m.seq.in_(candidates.scalar_subquery()))
            .values(claimed_until=now + self._lease, attempts=m.attempts + 1)
            .returning(m.seq, m.topic, m.key, m.headers, m.payload, m.event_type)
        )
        async with self._sessions() as session, session.begin():
            rows = (await session.execute(claim)).all()
        return sorted(rows, key=lambda row: row.seq)

    async def _mark_published(self, seqs: list[int]) -> None:
        if not seqs:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(self._model).where(self._model.seq.in_(seqs)).values(published_at=datetime.now(UTC))
            )

    async def _release(self, seqs: list[int], error: str) -> None:
        if not seqs:
            return
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(self._model)
                    .where(self._model.seq.in_(seqs))
                    .values(claimed_until=None, last_error=error[:2000])
                )
        except Exception as exc:  # the lease expires anyway; the sweep picks them up
            log.warning("could not release outbox claims", error=repr(exc))

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = kafka_producer(self._bootstrap, self._client_id)
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _reset_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()
            except Exception as exc:
                log.debug("producer stop failed", error=repr(exc))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
