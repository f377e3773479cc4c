"""The business logic of intake: one function per command or event. HTTP routes and
Kafka consumers both call these; none of them commits (the caller's unit of work does)."""

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake import SERVICE_NAME
from feedback_intake.deidentify import scrub
from feedback_intake.models import FeedbackResponse, FeedbackSubmission, OutboxMessage
from feedback_intake.schemas import FeedbackCreate, FeedbackPublic, ResponseCreate, ResponseUpdate
from feedback_intake.triage import flags_for
from hub_shared.auth import Principal
from hub_shared.events import (
    Demographics,
    Envelope,
    FeedbackReceivedV1,
    FeedbackRejectedV1,
    FeedbackRespondedV1,
    FeedbackReviewedV1,
    MemberErasedV1,
    ReviewDecision,
    new_envelope,
)
from hub_shared.organisations import Organisations
from hub_shared.outbox import add_event
from hub_shared.problems import Problem, field_errors
from hub_shared.topics import FEEDBACK_EVENTS, FEEDBACK_REJECTED

PENDING_REVIEW = "pending"


class AuthorityError(Exception):
    """The organisation is unknown (status 422) or not the caller's to act for (403)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [
            {"field": field, "message": message, "type": "unknown_organisation" if status == 422 else "forbidden"}
        ]

    def problem(self) -> Problem:
        title = "Unknown organisation" if self.status == 422 else "Not your organisation"
        return Problem(self.status, title, str(self), errors=self.errors)


def check_authority(
    organisations: Organisations, caller: str, organisation_code: str, field: str = "organisation_code"
) -> None:
    if organisations.get(organisation_code) is None:
        raise AuthorityError(422, field, f"'{organisation_code}' is not an organisation of this ICS")
    if not organisations.may_act_for(caller, organisation_code):
        raise AuthorityError(403, field, f"{caller} may not act for {organisation_code}")


def public(submission: FeedbackSubmission) -> FeedbackPublic:
    demographics = Demographics(
        age_band=submission.age_band,
        sex=submission.sex,
        ethnic_group=submission.ethnic_group,
        postcode_district=submission.postcode_district,
    )
    return FeedbackPublic(
        id=submission.id,
        organisation_code=submission.organisation_code,
        counts_for=submission.counts_for,
        service_area=submission.service_area,  # type: ignore[arg-type]
        channel=submission.channel,  # type: ignore[arg-type]
        fft_answer=submission.fft_answer,  # type: ignore[arg-type]
        text=submission.text,
        occurred_at=submission.occurred_at,
        received_at=submission.received_at,
        client_reference=submission.client_reference,
        demographics=demographics if demographics.model_dump(exclude_none=True) else None,
        hears_back=submission.member_id is not None or submission.contact_token is not None,
        redactions=submission.redactions,
        triage_flags=submission.triage_flags,  # type: ignore[arg-type]
        review_status=submission.review_status,
    )


async def find_by_client_reference(
    session: AsyncSession, submitted_by: str, reference: str
) -> FeedbackSubmission | None:
    return await session.scalar(
        select(FeedbackSubmission).where(
            FeedbackSubmission.submitted_by == submitted_by, FeedbackSubmission.client_reference == reference
        )
    )


async def accept_submission(
    session: AsyncSession,
    command: FeedbackCreate,
    *,
    submitted_by: str,
    organisations: Organisations,
    correlation_id: str,
) -> tuple[FeedbackSubmission, bool]:
    """Store one submission, scrubbed and triaged, and stage its feedback.received event in
    the same transaction. Returns (submission, True) if the client reference was seen before."""
    check_authority(organisations, submitted_by, command.organisation_code)
    if command.client_reference:
        existing = await find_by_client_reference(session, submitted_by, command.client_reference)
        if existing is not None:
            return existing, True
    scrubbed = scrub(command.text) if command.text else None
    flags = flags_for(scrubbed.text if scrubbed else None)
    demographics = command.demographics or Demographics()
    submission = FeedbackSubmission(
        id=uuid.uuid4(),
        organisation_code=command.organisation_code,
        counts_for=organisations.counts_for(command.organisation_code),
        service_area=command.service_area.value,
        channel=command.channel.value,
        fft_answer=command.fft_answer.value if command.fft_answer else None,
        text=scrubbed.text if scrubbed else None,
        occurred_at=command.occurred_at,
        received_at=datetime.now(UTC),
        submitted_by=submitted_by,
        client_reference=command.client_reference,
        correlation_id=correlation_id,
        age_band=demographics.age_band,
        sex=demographics.sex,
        ethnic_group=demographics.ethnic_group,
        postcode_district=demographics.postcode_district,
        member_id=command.hear_back.member_id if command.hear_back else None,
        contact_token=command.hear_back.contact_token if command.hear_back else None,
        redactions=scrubbed.removed if scrubbed else {},
        triage_flags=[f.value for f in flags],
        review_status=PENDING_REVIEW if flags else "not_required",
    )
    session.add(submission)
    event = FeedbackReceivedV1(
        submission_id=submission.id,
        organisation_code=submission.organisation_code,
        counts_for=submission.counts_for,
        place_code=organisations.place_of(submission.organisation_code),
        submitted_by=submitted_by,
        service_area=command.service_area,
        channel=command.channel,
        fft_answer=command.fft_answer,
        text=submission.text,
        occurred_at=submission.occurred_at,
        received_at=submission.received_at,
        demographics=command.demographics,
        redactions=submission.redactions,
        triage_flags=flags,
        review_required=bool(flags),
    )
    publish(
        session, event, subject=str(submission.id), tenant=submission.organisation_code, correlation_id=correlation_id
    )
    return submission, False


def publish(
    session: AsyncSession,
    data: Any,
    *,
    subject: str,
    tenant: str,
    correlation_id: str,
    topic: str = FEEDBACK_EVENTS.name,
) -> None:
    add_event(
        session,
        OutboxMessage,
        new_envelope(data, source=SERVICE_NAME, subject=subject, tenant=tenant, correlation_id=correlation_id),
        topic,
    )


@dataclass
class ItemOutcome:
    status: str  # accepted, duplicate, rejected
    submission: FeedbackSubmission | None = None
    errors: list[dict[str, str]] | None = None


async def submit_item(
    session: AsyncSession,
    raw: Any,
    *,
    submitted_by: str,
    organisations: Organisations,
    correlation_id: str,
    require_reference: bool,
) -> ItemOutcome:
    """Validate and accept one raw item of a batch or the Kafka ingress; never raises for bad input."""
    try:
        command = FeedbackCreate.model_validate(raw)
    except ValidationError as exc:
        return ItemOutcome("rejected", errors=field_errors(exc.errors()))
    if require_reference and not command.client_reference:
        return ItemOutcome("rejected", errors=[{"field": "client_reference", "message": "required", "type": "missing"}])
    try:
        submission, duplicate = await accept_submission(
            session, command, submitted_by=submitted_by, organisations=organisations, correlation_id=correlation_id
        )
    except AuthorityError as exc:
        return ItemOutcome("rejected", errors=exc.errors)
    return ItemOutcome("duplicate" if duplicate else "accepted", submission)


async def submit_batch(
    session: AsyncSession, items: Sequence[Any], *, submitted_by: str, organisations: Organisations, correlation_id: str
) -> list[ItemOutcome]:
    outcomes = []
    for raw in items:
        outcomes.append(
            await submit_item(
                session,
                raw,
                submitted_by=submitted_by,
                organisations=organisations,
                correlation_id=correlation_id,
                require_reference=True,
            )
        )
        await session.flush()  # a repeat of a reference later in the same batch finds this row
    return outcomes


async def get_feedback(
    session: AsyncSession, submission_id: uuid.UUID, *, principal: Principal, organisations: Organisations
) -> FeedbackSubmission:
    submission = await session.get(FeedbackSubmission, submission_id)
    # Another organisation's submission is indistinguishable from a missing one.
    if submission is None or not organisations.may_act_for(principal.organisation, submission.organisation_code):
        raise Problem(404, "Not found", f"No feedback submission {submission_id} that you may see.")
    return submission


@dataclass
class FeedbackFilter:
    organisation_code: str | None = None
    service_area: str | None = None
    channel: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    review_status: str | None = None


def encode_cursor(submission: FeedbackSubmission) -> str:
    raw = json.dumps([submission.received_at.isoformat(), str(submission.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        received_at, submission_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(received_at), uuid.UUID(submission_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Problem(
            422,
            "Invalid cursor",
            "Use the next_cursor of a previous page.",
            errors=[{"field": "cursor", "message": "not a cursor this API issued", "type": "cursor"}],
        ) from exc


async def list_feedback(
    session: AsyncSession,
    filters: FeedbackFilter,
    *,
    principal: Principal,
    organisations: Organisations,
    limit: int,
    cursor: str | None,
) -> tuple[list[FeedbackSubmission], str | None]:
    """Newest first, keyset-paginated on (received_at, id), within the caller's authority."""
    scope_root = filters.organisation_code or principal.organisation
    if filters.organisation_code:
        check_authority(organisations, principal.organisation, filters.organisation_code)
    query = select(FeedbackSubmission).where(
        FeedbackSubmission.organisation_code.in_(organisations.descendants(scope_root))
    )
    if filters.service_area:
        query = query.where(FeedbackSubmission.service_area == filters.service_area)
    if filters.channel:
        query = query.where(FeedbackSubmission.channel == filters.channel)
    if filters.occurred_from:
        query = query.where(FeedbackSubmission.occurred_at >= filters.occurred_from)
    if filters.occurred_to:
        query = query.where(FeedbackSubmission.occurred_at < filters.occurred_to)
    if filters.review_status:
        query = query.where(FeedbackSubmission.review_status == filters.review_status)
    if cursor:
        received_at, submission_id = decode_cursor(cursor)
        query = query.where(
            or_(
                FeedbackSubmission.received_at < received_at,
                and_(FeedbackSubmission.received_at == received_at, FeedbackSubmission.id < submission_id),
            )
        )
    query = query.order_by(FeedbackSubmission.received_at.desc(), FeedbackSubmission.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def record_review(
    session: AsyncSession,
    submission_id: uuid.UUID,
    decision: ReviewDecision,
    *,
    principal: Principal,
    organisations: Organisations,
    correlation_id: str,
) -> FeedbackSubmission:
    submission = await get_feedback(session, submission_id, principal=principal, organisations=organisations)
    if submission.review_status != PENDING_REVIEW:
        raise Problem(409, "Not awaiting review", f"This submission's review status is '{submission.review_status}'.")
    submission.review_status = decision.value
    submission.reviewed_by = principal.organisation
    submission.reviewed_at = datetime.now(UTC)
    event = FeedbackReviewedV1(
        submission_id=submission.id,
        organisation_code=submission.organisation_code,
        decision=decision,
        reviewed_by=principal.organisation,
        reviewed_at=submission.reviewed_at,
    )
    publish(
        session, event, subject=str(submission.id), tenant=submission.organisation_code, correlation_id=correlation_id
    )
    return submission


async def _responded_event(session: AsyncSession, response: FeedbackResponse) -> FeedbackRespondedV1:
    ids = [uuid.UUID(i) for i in response.submission_ids]
    contributors = (
        (await session.scalars(select(FeedbackSubmission).where(FeedbackSubmission.id.in_(ids)))).all() if ids else []
    )
    earliest = min((s.received_at for s in contributors), default=None)
    return FeedbackRespondedV1(
        response_id=response.id,
        organisation_code=response.organisation_code,
        theme=response.theme,
        submission_ids=ids,
        you_said=response.you_said,
        we_did=response.we_did,
        status=response.status,  # type: ignore[arg-type]
        status_reason=response.status_reason,
        evidence_url=response.evidence_url,
        earliest_feedback_at=earliest,
        responded_at=response.responded_at,
        change_due=response.change_due,
        changed_at=response.changed_at,
        notify_member_ids=sorted({s.member_id for s in contributors if s.member_id}),
        notify_contact_tokens=sorted({s.contact_token for s in contributors if s.contact_token}),
    )


async def create_response(
    session: AsyncSession,
    command: ResponseCreate,
    *,
    principal: Principal,
    organisations: Organisations,
    correlation_id: str,
) -> FeedbackResponse:
    check_authority(organisations, principal.organisation, command.organisation_code)
    if command.submission_ids:
        found = (
            await session.scalars(select(FeedbackSubmission).where(FeedbackSubmission.id.in_(command.submission_ids)))
        ).all()
        visible = {s.id for s in found if organisations.may_act_for(command.organisation_code, s.organisation_code)}
        missing = [str(i) for i in command.submission_ids if i not in visible]
        if missing:
            raise Problem(
                422,
                "Unknown submissions",
                f"{len(missing)} submission(s) are not {command.organisation_code}'s.",
                errors=[
                    {"field": "submission_ids", "message": f"not found: {i}", "type": "not_found"} for i in missing
                ],
            )
    now = datetime.now(UTC)
    response = FeedbackResponse(
        id=uuid.uuid4(),
        organisation_code=command.organisation_code,
        theme=command.theme,
        submission_ids=[str(i) for i in command.submission_ids],
        you_said=command.you_said,
        we_did=command.we_did,
        status=command.status.value,
        status_reason=command.status_reason,
        evidence_url=str(command.evidence_url) if command.evidence_url else None,
        change_due=command.change_due,
        changed_at=command.changed_at,
        created_by=principal.organisation,
        responded_at=now,
        updated_at=now,
    )
    session.add(response)
    await session.flush()
    publish(
        session,
        await _responded_event(session, response),
        subject=str(response.id),
        tenant=response.organisation_code,
        correlation_id=correlation_id,
    )
    return response


async def get_response(
    session: AsyncSession, response_id: uuid.UUID, *, principal: Principal, organisations: Organisations
) -> FeedbackResponse:
    response = await session.get(FeedbackResponse, response_id)
    if response is None or not organisations.may_act_for(principal.organisation, response.organisation_code):
        raise Problem(404, "Not found", f"No response {response_id} that you may see.")
    return response


async def update_response(
    session: AsyncSession,
    response_id: uuid.UUID,
    command: ResponseUpdate,
    *,
    principal: Principal,
    organisations: Organisations,
    correlation_id: str,
) -> FeedbackResponse:
    """A status change is a new feedback.responded event for the same response id."""
    response = await get_response(session, response_id, principal=principal, organisations=organisations)
    changes = command.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(response, name, str(value) if name == "evidence_url" and value else value)
    response.status = command.status.value
    if response.status == "not_possible" and not response.status_reason:
        raise Problem(
            422,
            "Invalid request",
            "status_reason is required when the change is not possible",
            errors=[{"field": "status_reason", "message": "required for not_possible", "type": "missing"}],
        )
    if response.status == "done" and response.changed_at is None:
        raise Problem(
            422,
            "Invalid request",
            "changed_at is required when status is done",
            errors=[{"field": "changed_at", "message": "required for done", "type": "missing"}],
        )
    response.updated_at = datetime.now(UTC)
    publish(
        session,
        await _responded_event(session, response),
        subject=str(response.id),
        tenant=response.organisation_code,
        correlation_id=correlation_id,
    )
    return response


# ---- events consumed ----


async def on_member_erased(session: AsyncSession, envelope: Envelope, organisations: Organisations) -> None:
    """Remove every link from submissions to the erased member."""
    data = envelope.data
    assert isinstance(data, MemberErasedV1)
    await session.execute(
        update(FeedbackSubmission).where(FeedbackSubmission.member_id == data.member_id).values(member_id=None)
    )


async def on_ingress_submission(session: AsyncSession, envelope: Envelope, organisations: Organisations) -> None:
    """A place's system put a raw submission on the ingress topic; the envelope's tenant
    is the submitting organisation (the topic's ACLs vouch for it)."""
    raw = envelope.data.model_dump()
    outcome = await submit_item(
        session,
        raw,
        submitted_by=envelope.tenant,
        organisations=organisations,
        correlation_id=envelope.correlation_id,
        require_reference=True,
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
