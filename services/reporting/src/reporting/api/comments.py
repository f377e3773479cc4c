"""Free text, newest first; text awaiting safeguarding or complaint review is withheld."""

from typing import Annotated

from fastapi import APIRouter, Query

from hub_shared.authorisation import authorise
from hub_shared.db import Session
from hub_shared.organisations import reference
from reporting.api.deps import ERRORS, PREFIX, TAGS, Month, Org, Reader
from reporting.queries import comments as comment_queries
from reporting.schemas import CommentPublic

router = APIRouter(prefix=PREFIX, tags=TAGS)


@router.get(
    "/comments/{organisation_code}",
    responses=ERRORS,
    summary="Free text, newest first; text awaiting safeguarding or complaint review is withheld",
)
async def comments(
    organisation_code: Org,
    principal: Reader,
    session: Session,
    month: Month = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[CommentPublic]:
    found = await comment_queries.comments(session, reference(), authorise(principal, organisation_code), month, limit)
    return [CommentPublic.model_validate(c) for c in found]
