"""Safeguarding and complaint review: the queue of flagged feedback, and decisions."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from feedback_intake.api.deps import Reviewer
from feedback_intake.api.errors import BODY_ERRORS, ERRORS
from feedback_intake.api.feedback import public
from feedback_intake.handlers import reviews, submissions
from feedback_intake.handlers.submissions import FeedbackFilter
from feedback_intake.schemas import FeedbackPublic, ReviewDecisionCreate
from hub_shared import correlation
from hub_shared.auth import Principal, require_scope
from hub_shared.db import Session, commit
from hub_shared.organisations import reference

router = APIRouter(prefix="/v1")


@router.get("/reviews", responses=ERRORS, tags=["reviews"], summary="Flagged feedback awaiting review, oldest first")
async def review_queue(
    principal: Annotated[Principal, Depends(require_scope("feedback:review"))],
    session: Session,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[FeedbackPublic]:
    rows, _ = await submissions.list_feedback(
        session,
        FeedbackFilter(review_status=submissions.PENDING_REVIEW),
        principal=principal,
        organisations=reference(),
        limit=1000,
        cursor=None,
    )
    return [public(r, reader=principal) for r in sorted(rows, key=lambda r: r.received_at)[:limit]]


@router.post("/reviews/{submission_id}", responses=BODY_ERRORS, tags=["reviews"], summary="Record a review decision")
async def decide(
    submission_id: uuid.UUID, body: ReviewDecisionCreate, principal: Reviewer, session: Session
) -> FeedbackPublic:
    submission = await reviews.record_review(
        session,
        submission_id,
        body.decision,
        principal=principal,
        organisations=reference(),
        correlation_id=correlation.current(),
    )
    await commit(session)
    return public(submission, reader=principal)
