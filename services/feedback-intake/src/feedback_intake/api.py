"""HTTP routes: parse -> command -> handler -> response."""

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake import handlers
from feedback_intake.models import FeedbackSubmission
from feedback_intake.schemas import FeedbackCreate, FeedbackPublic
from hub_shared import correlation
from hub_shared.auth import Principal, require_scope
from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE

router = APIRouter(prefix="/v1", tags=["feedback"])

PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM}


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session, session.begin():
        yield session


Session = Annotated[AsyncSession, Depends(unit_of_work)]
Writer = Annotated[Principal, Depends(require_scope("feedback:write"))]
Reader = Annotated[Principal, Depends(require_scope("feedback:read"))]


def public(submission: FeedbackSubmission) -> FeedbackPublic:
    return FeedbackPublic.model_validate(submission, from_attributes=True)


@router.post("/feedback", status_code=status.HTTP_201_CREATED, responses=ERRORS, summary="Post one feedback item")
async def post_feedback(
    body: FeedbackCreate, principal: Writer, session: Session, response: Response
) -> FeedbackPublic:
    submission = await handlers.submit_feedback(
        session, body, principal=principal, organisations=reference(), correlation_id=correlation.current()
    )
    response.headers["Location"] = f"/v1/feedback/{submission.id}"
    return public(submission)


@router.get("/feedback/{submission_id}", responses=ERRORS, summary="Read one feedback item")
async def get_feedback(submission_id: UUID, principal: Reader, session: Session) -> FeedbackPublic:
    return public(await handlers.get_feedback(session, submission_id, principal=principal, organisations=reference()))
