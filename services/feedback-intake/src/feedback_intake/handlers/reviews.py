"""Safeguarding and complaint review decisions."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.handlers.submissions import PENDING_REVIEW, get_feedback
from feedback_intake.models import FeedbackSubmission
from feedback_intake.publishing import publisher
from hub_shared.auth import Principal
from hub_shared.events import (
    FeedbackReviewedV1,
    ReviewDecision,
)
from hub_shared.organisations import Organisations
from hub_shared.problems import Problem


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
    publisher.emit(
        session, event, subject=str(submission.id), tenant=submission.organisation_code, correlation_id=correlation_id
    )
    return submission
