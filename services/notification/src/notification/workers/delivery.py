"""The sending worker: claims due emails from the ledger, checks consent, renders, hands
each to the SMTP relay and records the answer. Never twice:

1. an email exists only as a ledger row, queued once per (event, recipient);
2. a worker sends only a row it has atomically moved from ``created`` (or a
   ``temporary-failure`` due again) to ``sending``, committed before it speaks SMTP, so
   two workers never hold the same row;
3. the relay's answer is recorded in its own transaction (retried while the database is
   away); a row still ``sending`` after the lease belonged to a worker that died between
   handing it over and recording the answer: it becomes ``unknown`` — counted, shown to
   operators, never resent blindly.

Backpressure: a rate limit per sending organisation and one for the relay; a relay that
is down or slow makes the worker wait and resume, with nothing claimed meanwhile.

An idle worker waits for emails added to the ledger (PostgreSQL's notification, migration
0008: it sends at once), and looks anyway every ``worker_idle_seconds`` for what falls due
with time (retries, digests, leases run out); on SQLite it looks that often."""

import asyncio
import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from itertools import groupby

from limits import parse, storage, strategies
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.events import DeliveryStatus
from hub_shared.failures import is_transient
from hub_shared.logging import get_logger
from hub_shared.organisations import reference
from hub_shared.wakeup import Wakeup
from notification.handlers import notifications as ledger
from notification.handlers.recipients import suppress
from notification.links import unsubscribe_links
from notification.models import Notification, Recipient
from notification.publishing import move
from notification.rules import consent, kinds
from notification.rules.render import message, render
from notification.settings import NotificationSettings
from notification.workers.compose import Missing, context_for
from notification.workers.smtp import Outcome, RelayUnavailable, SmtpRelay

log = get_logger(__name__)
DELIVERY_OUTCOMES = Counter(
    "hub_notification_outcomes_total",
    "Emails by kind and what became of them (delivered, temporary, permanent, unknown, withheld, technical-failure)",
    ["kind", "result"],
)
SENDABLE = (DeliveryStatus.CREATED.value, DeliveryStatus.TEMPORARY_FAILURE.value)
NOTIFY_CHANNEL = "hub_notification"  # what adding ledger rows notifies (migration 0008)


@dataclass
class Claimed:
    id: uuid.UUID
    organisation_code: str
    email: EmailMessage
    to: str
    kind: str
    data: bytes  # the message as the relay gets it


class CannotBuild(Exception):
    """This email cannot be made, now or later."""


def _why(exc: Exception) -> str:
    """An exception as a ledger reason: its kind and message (no traceback, no address)."""
    return f"{type(exc).__name__}: {exc}"[:500]


class Worker:
    def __init__(
        self,
        settings: NotificationSettings,
        sessions: async_sessionmaker[AsyncSession],
        relay: SmtpRelay | None = None,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.relay = relay or SmtpRelay(settings)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.links = unsubscribe_links(settings)
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._org_limit = parse(settings.org_rate_limit)
        self._relay_limit = parse(settings.relay_rate_limit)
        self._stopping = asyncio.Event()
        self._wakeup = Wakeup(
            sessions.kw["bind"].url,
            NOTIFY_CHANNEL,
            poll=settings.worker_idle_seconds,
            notified_poll=settings.worker_idle_seconds,
            retry_listening=5.0,  # after a failed attempt to listen, it polls this long
            waiter="notification worker",
        )
        self._relay_backoff = 0.0
        self.paused_reason: str | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        log.info(
            "notification worker started",
            worker=self.name,
            relay=f"{self.settings.smtp_host}:{self.settings.smtp_port}",
        )
        try:
            while not self._stopping.is_set():
                try:
                    sent = await self.run_once()
                except RelayUnavailable as exc:
                    await self._wait_for_relay(exc)
                    continue
                except Exception as exc:
                    if not is_transient(exc):
                        log.exception("worker step failed")
                    else:
                        log.warning("database unavailable; waiting", error=repr(exc))
                    await self._sleep(min(self.settings.relay_down_max_backoff_seconds, 2.0))
                    continue
                if sent == 0:
                    await self._wakeup.wait(self._stopping)
        finally:
            await self._wakeup.close()
            await self.relay.close()
            log.info("notification worker stopped", worker=self.name)

    async def _wait_for_relay(self, exc: Exception) -> None:
        self._relay_backoff = min(max(self._relay_backoff * 2, 0.5), self.settings.relay_down_max_backoff_seconds)
        if self.paused_reason is None:
            log.warning("SMTP relay unavailable; sending paused", error=repr(exc))
        self.paused_reason = str(exc)
        await self._sleep(self._relay_backoff)

    def _resumed(self) -> None:
        if self.paused_reason is not None:
            log.info("SMTP relay reachable again; sending resumed")
        self.paused_reason = None
        self._relay_backoff = 0.0

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # ---- one round ----

    async def run_once(self) -> int:
        """Sweep, gather digests, then send what is due; returns how many were handed over."""
        now = datetime.now(UTC)
        await self.sweep_unknown(now)
        await self.gather_digests(now)
        due = await self._due(datetime.now(UTC))
        if not due:
            return 0
        sent = 0
        for notification_id, organisation_code in due:
            if self._stopping.is_set():
                break
            if not self._limiter.test(self._relay_limit, "relay"):
                await self._sleep(self._wait_for_window(self._relay_limit, "relay"))
                break
            if not self._limiter.test(self._org_limit, organisation_code):
                continue  # this organisation's share is used up; others go on
            if sent == 0:
                await self.relay.ensure_connected()  # raises RelayUnavailable: nothing claimed
            claimed = await self.claim(notification_id)
            if claimed is None:
                continue
            self._limiter.hit(self._relay_limit, "relay")
            self._limiter.hit(self._org_limit, claimed.organisation_code)
            try:
                outcome = await self.relay.send(claimed.data, sender=self.settings.mail_from, to=claimed.to)
            except RelayUnavailable as exc:
                await self.record(claimed, Outcome("relay-unavailable", str(exc)))
                raise
            await self.record(claimed, outcome)
            self._resumed()
            sent += 1
        return sent

    def _wait_for_window(self, item: object, key: str) -> float:
        reset = self._limiter.get_window_stats(item, key).reset_time  # type: ignore[arg-type]
        return max(0.05, min(reset - datetime.now(UTC).timestamp(), 5.0))

    async def _due(self, now: datetime) -> list[tuple[uuid.UUID, str]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Notification.id, Notification.organisation_code)
                .where(Notification.status.in_(SENDABLE), Notification.due_at <= now)
                .order_by(Notification.due_at)
                .limit(self.settings.worker_batch_size)
            )
            return [(r[0], r[1]) for r in rows.all()]

    async def claim(self, notification_id: uuid.UUID) -> Claimed | None:
        """Move one due row to ``sending`` (or to ``withheld`` when consent says no), atomically.
        An email that cannot be built (a template that cannot be filled, a subject no header
        can carry, anything else but the database being away) is settled as a technical
        failure, counted and shown in the ledger, and the worker goes on to the next: one bad
        email never holds up the others."""
        try:
            return await self._claim(notification_id)
        except Exception as exc:
            if is_transient(exc):
                raise
            await self._settle_unbuildable(notification_id, exc)
            return None

    async def _claim(self, notification_id: uuid.UUID) -> Claimed | None:
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            taken = await session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .where(Notification.status.in_(SENDABLE), Notification.due_at <= now)
                .values(claimed_by=self.name, claimed_at=now, updated_at=now)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None  # another worker has it, or it changed
            row = await session.get(Notification, notification_id, populate_existing=True)
            assert row is not None
            recipient = await session.get(Recipient, row.recipient_key) if row.recipient_key else None
            refused = consent.refusal(recipient, row.kind, has_farewell_address=row.farewell_address is not None)
            if refused is not None:
                move(session, row, DeliveryStatus.WITHHELD, refused, now=now)
                DELIVERY_OUTCOMES.labels(row.kind, "withheld").inc()
                return None
            try:
                context = await context_for(session, row, recipient, self.settings)
            except Missing as missing:
                if now - row.created_at < timedelta(seconds=self.settings.content_wait_seconds):
                    row.due_at = now + timedelta(seconds=2)
                    return None
                move(session, row, DeliveryStatus.TECHNICAL_FAILURE, f"never arrived: {missing}", now=now)
                DELIVERY_OUTCOMES.labels(row.kind, "technical-failure").inc()
                return None
            unsubscribe = None
            if row.kind in kinds.NON_TRANSACTIONAL and row.recipient_key:
                unsubscribe = self.links.url(row.recipient_key, str(row.id))
            context["unsubscribe_url"] = unsubscribe
            to = row.farewell_address if row.kind in kinds.OWN_ADDRESS and row.farewell_address else None
            to = to or (recipient.email if recipient else None)
            if to is None:
                raise CannotBuild("no address to send it to")
            try:
                rendered = render(row.kind, context)
                email = message(
                    rendered,
                    sender=self.settings.mail_from,
                    to=to,
                    message_id=f"<{row.id}@{self.settings.public_base_url.split('://')[-1].split('/')[0].split(':')[0]}>",
                    notification_id=str(row.id),
                    unsubscribe_url=unsubscribe,
                )
                data = email.as_bytes()  # what goes to the relay: it must be made before it is claimed
            except Exception as exc:  # an email that cannot be made now never will be: say why
                raise CannotBuild(_why(exc)) from exc
            row.attempts += 1
            row.message_id = email["Message-ID"]
            move(session, row, DeliveryStatus.SENDING, now=now)
            return Claimed(row.id, row.organisation_code, email, to, row.kind, data)

    async def _settle_unbuildable(self, notification_id: uuid.UUID, exc: Exception) -> None:
        """In a transaction of its own (the claim's was rolled back): a technical failure."""
        reason = (
            f"cannot build the email: {exc}" if isinstance(exc, CannotBuild) else f"cannot build the email: {_why(exc)}"
        )
        log.error(
            "email cannot be built; settled as a technical failure", notification=str(notification_id), reason=reason
        )
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            row = await session.get(Notification, notification_id, with_for_update=True)
            if row is None or row.status not in SENDABLE:
                return
            move(session, row, DeliveryStatus.TECHNICAL_FAILURE, reason[:2000], now=now)
            DELIVERY_OUTCOMES.labels(row.kind, "technical-failure").inc()

    async def record(self, claimed: Claimed, outcome: Outcome) -> None:
        """Record the relay's answer; retried while the database is away (if this process
        dies meanwhile, the sweep marks the row unknown)."""
        delay = 0.2
        while True:
            try:
                await self._record(claimed, outcome)
                DELIVERY_OUTCOMES.labels(claimed.kind, outcome.result).inc()
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning(
                    "cannot record the relay's answer yet; retrying", error=repr(exc), notification=str(claimed.id)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _record(self, claimed: Claimed, outcome: Outcome) -> None:
        now = datetime.now(UTC)
        s = self.settings
        async with self.sessions() as session, session.begin():
            row = await session.get(Notification, claimed.id, with_for_update=True)
            assert row is not None
            if row.status != DeliveryStatus.SENDING.value or row.claimed_by != self.name:
                log.error("a row this worker was sending changed hands", notification=str(row.id), status=row.status)
                return
            row.relay_reply = outcome.reply[:2000]
            if outcome.result == "delivered":
                row.sent_at = now
                move(session, row, DeliveryStatus.DELIVERED, now=now)
                if row.kind in kinds.DIGESTS:
                    await self._digest_items_delivered(session, row, now)
            elif outcome.result == "relay-unavailable":
                row.attempts -= 1  # never handed over: not the email's attempt
                row.due_at = now
                move(session, row, DeliveryStatus.TEMPORARY_FAILURE, f"relay unavailable: {outcome.reply}", now=now)
            elif outcome.result == "temporary":
                if row.attempts >= s.max_attempts:
                    move(
                        session,
                        row,
                        DeliveryStatus.TECHNICAL_FAILURE,
                        f"gave up after {row.attempts} attempts: {outcome.reply}",
                        now=now,
                    )
                else:
                    backoff = min(s.retry_base_seconds * 2 ** (row.attempts - 1), s.retry_max_seconds)
                    row.due_at = now + timedelta(seconds=backoff)
                    move(session, row, DeliveryStatus.TEMPORARY_FAILURE, outcome.reply, now=now)
            elif outcome.result == "permanent":
                move(session, row, DeliveryStatus.PERMANENT_FAILURE, outcome.reply, now=now)
                await suppress(session, row, outcome.reply, now)
            else:
                move(session, row, DeliveryStatus.UNKNOWN, outcome.reply, now=now)

    async def _digest_items_delivered(self, session: AsyncSession, digest: Notification, now: datetime) -> None:
        items = (
            await session.scalars(select(Notification).where(Notification.digest_id == digest.id).with_for_update())
        ).all()
        for item in items:
            item.sent_at = now
            move(session, item, DeliveryStatus.DELIVERED, f"in digest {digest.id}", now=now)

    async def sweep_unknown(self, now: datetime) -> int:
        """Rows left in ``sending`` past the lease: their worker died mid-send."""
        cutoff = now - timedelta(seconds=self.settings.sending_lease_seconds)
        async with self.sessions() as session, session.begin():
            rows = (
                await session.scalars(
                    select(Notification)
                    .where(Notification.status == DeliveryStatus.SENDING.value, Notification.claimed_at < cutoff)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                log.error("email outcome unknown: its worker stopped mid-send; not resending", notification=str(row.id))
                move(
                    session,
                    row,
                    DeliveryStatus.UNKNOWN,
                    f"worker {row.claimed_by} stopped between handing it to the relay and recording the answer",
                    now=now,
                )
                DELIVERY_OUTCOMES.labels(row.kind, "unknown").inc()
            return len(rows)

    async def gather_digests(self, now: datetime) -> int:
        """One digest per person whose held emails are due, across every organisation."""
        async with self.sessions() as session, session.begin():
            held = (
                await session.scalars(
                    select(Notification)
                    .where(Notification.status == DeliveryStatus.HELD_FOR_DIGEST.value, Notification.due_at <= now)
                    .order_by(Notification.recipient_key, Notification.created_at)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            made = 0
            for key, group in groupby(held, key=lambda r: r.recipient_key):
                items = list(group)
                recipient = await session.get(Recipient, key) if key else None
                if recipient is None:
                    for item in items:
                        move(session, item, DeliveryStatus.WITHHELD, "erased", now=now)
                    continue
                kind = kinds.DIGEST_WEEKLY if recipient.frequency == "weekly" else kinds.DIGEST_DAILY
                digest = await ledger.queue(
                    session,
                    self.settings,
                    dedupe_key=f"digest:{key}:{min(i.due_at for i in items).isoformat()}",
                    kind=kind,
                    recipient=None,
                    recipient_key=key,
                    recipient_kind=recipient.kind,
                    member_id=recipient.member_id,
                    organisation_code=_icb_of(items[0].organisation_code),
                )
                if digest is None:
                    continue
                for item in items:
                    item.digest_id = digest.id
                    move(session, item, DeliveryStatus.DIGESTED, f"in digest {digest.id}", now=now)
                made += 1
            return made


def _icb_of(code: str) -> str:
    """The ICB of the emails a digest gathers (a person's emails come from one ICS); the code
    itself if the organisations no longer hold it."""
    return reference().icb_of(code) if reference().get(code) is not None else code
