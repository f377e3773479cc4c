"""The involvement scorecard."""

from fastapi import APIRouter

from hub_shared.authorisation import authorise
from hub_shared.db import Session
from hub_shared.organisations import reference
from reporting.api.deps import ERRORS, PREFIX, TAGS, Org, Reader
from reporting.queries import scorecard as scorecard_queries
from reporting.schemas import ScorecardPublic

router = APIRouter(prefix=PREFIX, tags=TAGS)


@router.get("/scorecard/{organisation_code}", responses=ERRORS, summary="The involvement scorecard")
async def scorecard(organisation_code: Org, principal: Reader, session: Session) -> ScorecardPublic:
    found = await scorecard_queries.scorecard(session, reference(), authorise(principal, organisation_code))
    return ScorecardPublic.model_validate(found)
