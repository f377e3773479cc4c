"""Individual feedback received for an organisation and everything under it."""

from fastapi import APIRouter

from hub_shared.authorisation import authorise
from hub_shared.db import Session
from hub_shared.organisations import reference
from reporting.api.deps import ERRORS, PREFIX, TAGS, Org, Reader
from reporting.queries.feedback_volume import feedback_received
from reporting.rules.disclosure import shown_count
from reporting.schemas import FeedbackVolumePublic

router = APIRouter(prefix=PREFIX, tags=TAGS)


@router.get(
    "/feedback-volume/{organisation_code}",
    responses=ERRORS,
    summary="Individual feedback received for an organisation and everything under it",
)
async def feedback_volume(organisation_code: Org, principal: Reader, session: Session) -> FeedbackVolumePublic:
    code = authorise(principal, organisation_code)
    included = reference().descendants(code)
    received = await feedback_received(session, included)
    return FeedbackVolumePublic(organisation_code=code, received=shown_count(received), organisations_included=included)
