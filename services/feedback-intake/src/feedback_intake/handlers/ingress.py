"""The Kafka ingress: raw submissions places' systems put on ``feedback.submissions``,
each signed with a bearer token; what is refused is kept for its signer (``list_rejections``)
and told to the hub's operators (``feedback.rejected``)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.handlers.submissions import Staged, known_references_of, submit_item
from feedback_intake.models import IngressRejection
from feedback_intake.publishing import publisher
from hub_shared import page_records
from hub_shared.auth import TokenVerifier
from hub_shared.authorisation import NotAuthorised, authorise
from hub_shared.events import (
    AUTHORIZATION_HEADER,
    Envelope,
    FeedbackRejectedV1,
    FeedbackSubmittedV1,
)
from hub_shared.links import LinkProblem, SignedLinks
from hub_shared.logging import get_logger
from hub_shared.organisations import Organisations
from hub_shared.problems import Problem
from hub_shared.topics import FEEDBACK_REJECTED

log = get_logger(__name__)


WRITE_SCOPE = "feedback:write"


@dataclass(frozen=True)
class Sender:
    """Who signed an ingress record: the organisation of a valid token, or (when the token
    is missing or invalid) nobody, with the reason."""

    organisation: str | None
    refusal: dict[str, str] | None = None


def authenticate(verifier: TokenVerifier, authorization: str | None) -> Sender:
    """The same bearer JWT as over HTTP, from the record's ``authorization`` header."""
    if not authorization:
        return Sender(
            None, _error("authorization", "no 'authorization: Bearer <token>' record header", "unauthenticated")
        )
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Sender(None, _error("authorization", "the header must be 'Bearer <token>'", "unauthenticated"))
    try:
        principal = verifier.verify(token.strip())
    except Problem as exc:
        return Sender(None, _error("authorization", f"invalid token: {exc.detail}", "invalid_token"))
    if WRITE_SCOPE not in principal.scopes:
        return Sender(
            principal.organisation, _error("authorization", f"the token lacks the '{WRITE_SCOPE}' scope", "forbidden")
        )
    return Sender(principal.organisation)


def authenticate_page_record(page_links: SignedLinks | None, envelope: Envelope) -> Sender:
    """A record membership's feedback page signed for a person (``hub_shared.page_records``):
    valid only for its own tenant and client reference, and only as online FFT feedback."""
    if page_links is None:
        return Sender(None, _error("authorization", "feedback page records are not accepted here", "unauthenticated"))
    try:
        page_records.check(
            page_links, envelope.authorization or "", tenant=envelope.tenant, client_reference=_reference(envelope)
        )
    except LinkProblem:
        return Sender(None, _error("authorization", "invalid feedback page signature", "invalid_token"))
    extra = envelope.data.model_extra if isinstance(envelope.data, BaseModel) else None  # a raw submission
    channel = (extra or {}).get("channel")
    if channel != page_records.CHANNEL:
        return Sender(
            envelope.tenant,
            _error("channel", f"a feedback page sends {page_records.CHANNEL} feedback only", "forbidden"),
        )
    return Sender(envelope.tenant)


def _error(field: str, message: str, kind: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": kind}


async def on_ingress_submissions(
    session: AsyncSession,
    envelopes: Sequence[Envelope],
    organisations: Organisations,
    verifier: TokenVerifier,
    page_links: SignedLinks | None = None,
) -> None:
    """Places' systems put raw submissions on the ingress topic, each record signed with the
    same bearer token as HTTP (``authorization`` record header, scope feedback:write). The
    envelope's tenant must be an organisation the token's may act for (itself, or a place's
    practices); it is then the submitter, as the token's organisation is over HTTP. Anything
    else is rejected, the reason kept for the token's organisation alone. Records of the
    hub's own feedback pages are signed by membership instead (``authenticate_page_record``)
    and go on exactly as a place's would. A batch looks up
    the client references of each tenant once; items are accepted in order."""
    admitted: list[tuple[Envelope, str]] = []
    for envelope in envelopes:
        if page_records.is_page_record(envelope.authorization):
            sender = authenticate_page_record(page_links, envelope)
        else:
            sender = authenticate(verifier, envelope.authorization)
        refusal = sender.refusal
        if refusal is None:
            try:
                authorise(sender.organisation or "", envelope.tenant, field="tenant", organisations=organisations)
            except NotAuthorised as exc:
                refusal = exc.errors[0]
        if refusal is not None:
            reject(
                session,
                errors=[refusal],
                sender=sender.organisation,
                tenant=envelope.tenant,
                source_event_id=envelope.id,
                client_reference=_reference(envelope),
                correlation_id=envelope.correlation_id,
            )
            continue
        admitted.append((envelope, sender.organisation or ""))
    known = await known_references_of(session, [(envelope.tenant, _reference(envelope)) for envelope, _ in admitted])
    staged = Staged()
    for envelope, signer in admitted:
        # The envelope's data is a bag of fields (FeedbackSubmittedV1 allows any): validated once, here.
        data = envelope.data
        assert isinstance(data, FeedbackSubmittedV1)
        raw = data.model_extra
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
                sender=signer,
                tenant=envelope.tenant,
                source_event_id=envelope.id,
                client_reference=_reference(envelope),
                correlation_id=envelope.correlation_id,
            )
    await staged.write(session)


def _reference(envelope: Envelope) -> str | None:
    value = getattr(envelope.data, "client_reference", None)
    return str(value)[:200] if value else None


def reject(
    session: AsyncSession,
    *,
    errors: list[dict[str, str]],
    sender: str | None,
    tenant: str | None,
    source_event_id: str | None,
    client_reference: str | None,
    correlation_id: str,
) -> None:
    """Keep the reason for the sender (``GET /v1/ingress/rejections``) and tell operators
    (feedback.rejected, keyed by the sender; a topic only the hub's operators may read)."""
    now = datetime.now(UTC)
    session.add(
        IngressRejection(
            id=uuid.uuid4(),
            sender=sender,
            tenant=tenant[:100] if tenant else None,
            source_event_id=source_event_id[:200] if source_event_id else None,
            client_reference=client_reference,
            errors=errors,
            correlation_id=correlation_id[:100],
            rejected_at=now,
        )
    )
    if sender is None:
        log.warning("unauthenticated ingress record rejected", errors=errors, claimed_tenant=tenant)
    event = FeedbackRejectedV1(
        source_event_id=source_event_id,
        submitted_by=sender,
        client_reference=client_reference,
        errors=errors,
        rejected_at=now,
    )
    publisher.emit(
        session,
        event,
        subject=client_reference or source_event_id or str(uuid.uuid4()),
        tenant=sender or "unauthenticated",
        correlation_id=correlation_id,
        topic=FEEDBACK_REJECTED.name,
    )


async def on_invalid_ingress(
    session: AsyncSession, record: ConsumerRecord, reason: str, verifier: TokenVerifier
) -> None:
    """An ingress message that is not even a valid envelope is rejected, not dead-lettered:
    it is the sender's input to fix, not the hub's fault. The reason goes to whoever signed
    the record (its ``authorization`` header), if anyone did."""
    headers = {k.lower(): v.decode(errors="replace") for k, v in (record.headers or ())}
    sender = authenticate(verifier, headers.get(AUTHORIZATION_HEADER))
    errors = [_error("(envelope)", reason[:1000], "invalid_envelope")]
    if sender.refusal is not None:
        errors.append(sender.refusal)
    reject(
        session,
        errors=errors,
        sender=sender.organisation,
        tenant=headers.get("ce_tenant"),
        source_event_id=None,
        client_reference=record.key.decode(errors="replace")[:200] if record.key else None,
        correlation_id=str(uuid.uuid4()),
    )


async def list_rejections(
    session: AsyncSession, *, sender: str, client_reference: str | None, limit: int
) -> list[IngressRejection]:
    """The rejections of records ``sender`` signed, newest first."""
    query = select(IngressRejection).where(IngressRejection.sender == sender)
    if client_reference is not None:
        query = query.where(IngressRejection.client_reference == client_reference)
    return list((await session.scalars(query.order_by(IngressRejection.rejected_at.desc()).limit(limit))).all())
