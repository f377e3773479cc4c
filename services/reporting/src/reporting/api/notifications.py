"""Notification measures: invitations and updates sent, delivered, failed."""

from typing import Any

from fastapi import APIRouter

from hub_shared.authorisation import authorise
from hub_shared.db import Session
from reporting.api.deps import ERRORS, PREFIX, TAGS, Org, Reader
from reporting.queries.notifications import notification_measures
from reporting.schemas import NotificationMeasuresPublic

router = APIRouter(prefix=PREFIX, tags=TAGS)


@router.get(
    "/notifications/{organisation_code}",
    responses=ERRORS,
    response_model=NotificationMeasuresPublic,
    summary="Invitations and updates sent, delivered, failed",
)
async def notifications(organisation_code: Org, principal: Reader, session: Session) -> dict[str, Any]:
    return await notification_measures(session, authorise(principal, organisation_code))
