""" "You said, we did": responses to feedback, published and moved on by places."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from feedback_intake.api.deps import Reader, Responder
from feedback_intake.api.errors import BODY_ERRORS, ERRORS
from feedback_intake.handlers import responses
from feedback_intake.models import FeedbackResponse
from feedback_intake.schemas import ResponseCreate, ResponsePublic, ResponseUpdate
from hub_shared import correlation
from hub_shared.db import Session, commit
from hub_shared.organisations import reference

router = APIRouter(prefix="/v1")


def response_public(response: FeedbackResponse) -> ResponsePublic:
    return ResponsePublic.model_validate(response, from_attributes=True)


@router.post(
    "/responses",
    status_code=201,
    responses=BODY_ERRORS,
    tags=["responses"],
    summary="Publish what changed because of feedback",
)
async def post_response(body: ResponseCreate, principal: Responder, session: Session) -> ResponsePublic:
    response = await responses.create_response(
        session, body, principal=principal, organisations=reference(), correlation_id=correlation.current()
    )
    await commit(session)
    return response_public(response)


@router.patch(
    "/responses/{response_id}",
    responses=BODY_ERRORS,
    tags=["responses"],
    summary="Move a response on (status, evidence, dates)",
)
async def patch_response(
    response_id: uuid.UUID, body: ResponseUpdate, principal: Responder, session: Session
) -> ResponsePublic:
    response = await responses.update_response(
        session,
        response_id,
        body,
        principal=principal,
        organisations=reference(),
        correlation_id=correlation.current(),
    )
    await commit(session)
    return response_public(response)


@router.get("/responses", responses=ERRORS, tags=["responses"], summary="Responses you may see, newest first")
async def list_responses(
    principal: Reader, session: Session, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ResponsePublic]:
    rows = await responses.list_responses(session, principal=principal, organisations=reference(), limit=limit)
    return [response_public(r) for r in rows]


@router.get("/responses/{response_id}", responses=ERRORS, tags=["responses"], summary="Read one response")
async def get_response(response_id: uuid.UUID, principal: Reader, session: Session) -> ResponsePublic:
    return response_public(
        await responses.get_response(session, response_id, principal=principal, organisations=reference())
    )
