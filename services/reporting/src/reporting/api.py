"""HTTP routes for reporting consumers, scoped by the caller's authority."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.auth import Principal, require_scope
from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE, Problem
from reporting import handlers

router = APIRouter(prefix="/v1/reports", tags=["reports"])
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(read_session)]
Reader = Annotated[Principal, Depends(require_scope("reports:read"))]


class FeedbackVolumePublic(BaseModel):
    organisation_code: str
    received: int
    organisations_included: list[str]


@router.get(
    "/feedback-volume/{organisation_code}",
    responses={401: PROBLEM, 403: PROBLEM, 404: PROBLEM},
    summary="Feedback received for an organisation and everything under it",
)
async def feedback_volume(
    organisation_code: Annotated[str, Path(pattern=r"^[A-Za-z0-9]{3,6}$")], principal: Reader, session: Session
) -> FeedbackVolumePublic:
    organisations = reference()
    code = organisation_code.upper()
    if organisations.get(code) is None:
        raise Problem(404, "Unknown organisation", f"'{code}' is not an organisation of this ICS.")
    if not organisations.may_act_for(principal.organisation, code):
        raise Problem(403, "Not your organisation", f"{principal.organisation} may not read reports for {code}.")
    included = organisations.descendants(code)
    return FeedbackVolumePublic(
        organisation_code=code,
        received=await handlers.feedback_received(session, included),
        organisations_included=included,
    )
