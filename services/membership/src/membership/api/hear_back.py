"""Hearing back without joining: a contact token for feedback, confirmed by email, and a
way to stop and be forgotten."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hub_shared import correlation
from hub_shared.authorisation import authorise
from hub_shared.db import Session, commit
from hub_shared.links import LinkProblem
from hub_shared.problems import Problem
from hub_shared.references import grouped
from hub_shared.web import steady_timing
from membership.api.deps import CHECK_EMAIL, ERRORS, Caller, Public, link_problem
from membership.handlers import hear_back as hearing_back
from membership.links import links_of
from membership.schemas import HearBackRequest, TokenBody

router = APIRouter(prefix="/v1")


@router.post(
    "/hear-back",
    status_code=202,
    responses=ERRORS,
    tags=["hearing back"],
    summary="Hear back, not join",
    # Public (the /hear-back page's form), and an organisation's system may send its token:
    # the bearer requirement stands beside an empty one, which OpenAPI reads as "optional".
    openapi_extra={"security": [{}]},
)
async def hear_back(
    body: HearBackRequest, request: Request, session: Session, _limit: Public, caller: Caller
) -> JSONResponse:
    organisation = body.organisation_code
    if caller is not None:  # an organisation's system: its own, or one it acts for
        organisation = authorise(caller, organisation or caller.organisation)
    async with steady_timing(request):
        try:
            token = await hearing_back.request_hear_back(
                session,
                body.email,
                organisation_code=organisation,
                links=links_of(request),
                correlation_id=correlation.current(),
            )
        except hearing_back.OrganisationNeeded as exc:
            raise Problem(
                422,
                "Which organisation?",
                str(exc),
                errors=[{"field": "organisation_code", "message": str(exc), "type": "organisation"}],
            ) from exc
        await commit(session)
    return JSONResponse(
        {
            **CHECK_EMAIL,
            "contact_token": token,
            "reference": grouped(token),
            "use": "Send it with the feedback as hear_back.reference (or hear_back.contact_token); updates start once "
            "the email is confirmed.",
        },
        status_code=202,
    )


@router.post("/hear-back/confirm", responses=ERRORS, tags=["hearing back"], summary="Confirm a hear-back address")
async def confirm_hear_back(body: TokenBody, request: Request, session: Session) -> dict[str, Any]:
    try:
        contact = await hearing_back.confirm_hear_back(
            session, body.token, links=links_of(request), correlation_id=correlation.current()
        )
    except LinkProblem as exc:
        raise link_problem(exc) from exc
    await commit(session)
    return {"contact_token": contact.token, "confirmed": True}


@router.post("/hear-back/stop", responses=ERRORS, tags=["hearing back"], summary="Stop hearing back; forget me")
async def stop_hearing_back(body: TokenBody, request: Request, session: Session) -> dict[str, str]:
    try:
        await hearing_back.stop_hearing_back(session, body.token, links=links_of(request))
    except LinkProblem as exc:
        raise link_problem(exc) from exc
    await commit(session)
    return {"status": "stopped"}
