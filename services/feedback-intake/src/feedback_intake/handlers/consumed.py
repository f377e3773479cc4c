"""Events intake consumes: raw submissions on the ingress topic, and member erasures."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.handlers.submissions import Staged, known_references, publish, submit_item
from feedback_intake.models import FeedbackSubmission
from hub_shared.events import (
    Envelope,
    FeedbackRejectedV1,
    MemberErasedV1,
)
from hub_shared.organisations import Organisations
from hub_shared.topics import FEEDBACK_REJECTED


async def on_member_erased(session: AsyncSession, envelope: Envelope, organisations: Organisations) -> None:
    """Remove every link from submissions to the erased member."""
    data = envelope.data
    assert isinstance(data, MemberErasedV1)
    await session.execute(
        update(FeedbackSubmission).where(FeedbackSubmission.member_id == data.member_id).values(member_id=None)
    )


async def on_ingress_submissions(
    session: AsyncSession, envelopes: Sequence[Envelope], organisations: Organisations
) -> None:
    """Places' systems put raw submissions on the ingress topic; the envelope's tenant is
    the submitting organisation (the topic's ACLs vouch for it). A batch looks up the
    client references of each sender once; items are accepted in order."""
    senders: dict[str, list[object]] = defaultdict(list)
    for envelope in envelopes:
        senders[envelope.tenant].append(envelope.data.model_dump().get("client_reference"))
    known = {tenant: await known_references(session, tenant, refs) for tenant, refs in senders.items()}
    staged = Staged()
    for envelope in envelopes:
        raw = envelope.data.model_dump()
        outcome = await submit_item(
            session,
            raw,
            submitted_by=envelope.tenant,
            organisations=organisations,
            correlation_id=envelope.correlation_id,
            require_reference=True,
            known=known[envelope.tenant],
            staged=staged,
        )
        if outcome.status == "rejected":
            reject(
                session,
                errors=outcome.errors or [],
                source_event_id=envelope.id,
                submitted_by=envelope.tenant,
                client_reference=str(raw.get("client_reference") or "") or None,
                correlation_id=envelope.correlation_id,
            )
    await staged.write(session)


def reject(
    session: AsyncSession,
    *,
    errors: list[dict[str, str]],
    source_event_id: str | None,
    submitted_by: str | None,
    client_reference: str | None,
    correlation_id: str,
) -> None:
    event = FeedbackRejectedV1(
        source_event_id=source_event_id,
        submitted_by=submitted_by,
        client_reference=client_reference,
        errors=errors,
        rejected_at=datetime.now(UTC),
    )
    publish(
        session,
        event,
        subject=client_reference or source_event_id or str(uuid.uuid4()),
        tenant=submitted_by or "unknown",
        correlation_id=correlation_id,
        topic=FEEDBACK_REJECTED.name,
    )


async def on_invalid_ingress(session: AsyncSession, record: ConsumerRecord, reason: str) -> None:
    """An ingress message that is not even a valid envelope is rejected, not dead-lettered:
    it is the sender's input to fix, not the hub's fault."""
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    reject(
        session,
        errors=[{"field": "(envelope)", "message": reason[:1000], "type": "invalid_envelope"}],
        source_event_id=None,
        submitted_by=headers.get("ce_tenant"),
        client_reference=record.key.decode(errors="replace") if record.key else None,
        correlation_id=str(uuid.uuid4()),
    )
