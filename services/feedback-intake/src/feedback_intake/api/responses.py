""" "You said, we did": responses to feedback, published and moved on by places."""

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.api.deps import Reader, Responder
from feedback_intake.api.errors import BODY_ERRORS, ERRORS
from feedback_intake.handlers import responses
from feedback_intake.models import FeedbackResponse
from feedback_intake.schemas import ResponseCreate, ResponsePublic, ResponseUpdate
from hub_shared import correlation
from hub_shared.db import Session, commit
from hub_shared.organisations import reference

router = APIRouter(prefix="/v1")


async def response_public(session: AsyncSession, response: FeedbackResponse) -> ResponsePublic:
    hearing = await responses.hearing_back(session, [response])
    return ResponsePublic.model_validate(response, from_attributes=True).model_copy(
        update={"hearing_back": hearing[response.id]}
    )


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
    return await response_public(session, response)


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
    return await response_public(session, response)


@router.get(
    "/responses",
    responses=ERRORS,
    tags=["responses"],
    summary="Responses you may see, newest first",
    description='Paginated: while there are more, a `Link: <...>; rel="next"` header gives the next page\'s '
    "address (pass its `cursor`).",
)
async def list_responses(
    principal: Reader,
    session: Session,
    http: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> list[ResponsePublic]:
    rows, next_cursor = await responses.list_responses(
        session, principal=principal, organisations=reference(), limit=limit, cursor=cursor
    )
    if next_cursor:
        http.headers["Link"] = f'</v1/responses?{urlencode({"limit": limit, "cursor": next_cursor})}>; rel="next"'
    hearing = await responses.hearing_back(session, rows)
    return [
        ResponsePublic.model_validate(r, from_attributes=True).model_copy(update={"hearing_back": hearing[r.id]})
        for r in rows
    ]


@router.get("/responses/{response_id}", responses=ERRORS, tags=["responses"], summary="Read one response")
async def get_response(response_id: uuid.UUID, principal: Reader, session: Session) -> ResponsePublic:
    return await response_public(
        session, await responses.get_response(session, response_id, principal=principal, organisations=reference())
    )
