"""The business logic of intake: one function per command."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake import SERVICE_NAME
from feedback_intake.models import FeedbackSubmission, OutboxMessage
from feedback_intake.schemas import FeedbackCreate
from hub_shared.auth import Principal
from hub_shared.events import FeedbackReceivedV1, new_envelope
from hub_shared.organisations import Organisations
from hub_shared.outbox import add_event
from hub_shared.problems import Problem
from hub_shared.topics import FEEDBACK_EVENTS


def check_authority(organisations: Organisations, principal: Principal, organisation_code: str) -> None:
    if organisations.get(organisation_code) is None:
        raise Problem(
            422,
            "Unknown organisation",
            f"'{organisation_code}' is not an organisation of this ICS.",
            errors=[{"field": "organisation_code", "message": "unknown ODS code", "type": "unknown_organisation"}],
        )
    if not organisations.may_act_for(principal.organisation, organisation_code):
        raise Problem(403, "Not your organisation", f"{principal.organisation} may not act for {organisation_code}.")


async def submit_feedback(
    session: AsyncSession,
    command: FeedbackCreate,
    *,
    principal: Principal,
    organisations: Organisations,
    correlation_id: str,
) -> FeedbackSubmission:
    """Store one submission and stage its feedback.received event in the same transaction."""
    check_authority(organisations, principal, command.organisation_code)
    submission = FeedbackSubmission(
        id=uuid.uuid4(),
        organisation_code=command.organisation_code,
        service_area=command.service_area.value,
        channel=command.channel.value,
        fft_answer=command.fft_answer.value if command.fft_answer else None,
        text=command.text,
        occurred_at=command.occurred_at,
        received_at=datetime.now(UTC),
        submitted_by=principal.organisation,
        correlation_id=correlation_id,
    )
    session.add(submission)
    event = FeedbackReceivedV1(
        submission_id=submission.id,
        organisation_code=submission.organisation_code,
        service_area=command.service_area,
        channel=command.channel,
        fft_answer=command.fft_answer,
        text=submission.text,
        occurred_at=submission.occurred_at,
        received_at=submission.received_at,
    )
    add_event(
        session,
        OutboxMessage,
        new_envelope(
            event,
            source=SERVICE_NAME,
            subject=str(submission.id),
            tenant=submission.organisation_code,
            correlation_id=correlation_id,
        ),
        FEEDBACK_EVENTS.name,
    )
    return submission


async def get_feedback(
    session: AsyncSession, submission_id: uuid.UUID, *, principal: Principal, organisations: Organisations
) -> FeedbackSubmission:
    submission = await session.get(FeedbackSubmission, submission_id)
    # Another organisation's submission is indistinguishable from a missing one.
    if submission is None or not organisations.may_act_for(principal.organisation, submission.organisation_code):
        raise Problem(404, "Not found", f"No feedback submission {submission_id} that you may see.")
    return submission
