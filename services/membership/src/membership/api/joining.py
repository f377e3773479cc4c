"""Joining and links: join (pending until confirmed), confirm with the emailed link, and
ask for a fresh link. The answer never says whether an address is known."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from hub_shared import correlation
from hub_shared.db import Session, commit
from hub_shared.events import ConsentSource
from hub_shared.links import LinkProblem
from membership.api.deps import CHECK_EMAIL, ERRORS, Public, link_problem
from membership.handlers import members
from membership.links import links_of, steady_timing
from membership.schemas import EmailOnly, JoinRequest, TokenBody

router = APIRouter(prefix="/v1")


@router.post("/join", status_code=202, responses=ERRORS, tags=["joining"], summary="Join (pending until confirmed)")
async def join(body: JoinRequest, request: Request, session: Session, _limit: Public) -> JSONResponse:
    settings = request.app.state.settings
    async with steady_timing(request):
        try:
            await members.join(
                session,
                body,
                source=ConsentSource.API,
                links=links_of(request),
                wording_version=settings.consent_wording_version,
                correlation_id=correlation.current(),
            )
            await session.commit()
        except IntegrityError:
            await session.rollback()  # the same address joining twice at once: one member, same answer
    return JSONResponse(CHECK_EMAIL, status_code=202)


@router.post("/confirm", responses=ERRORS, tags=["joining"], summary="Confirm an email with the emailed link")
async def confirm(body: TokenBody, request: Request, session: Session) -> dict[str, Any]:
    try:
        member = await members.confirm(
            session, body.token, links=links_of(request), correlation_id=correlation.current()
        )
    except LinkProblem as exc:
        raise link_problem(exc) from exc
    await commit(session)
    return {"member_id": str(member.id), "status": member.status}


@router.post("/links", status_code=202, responses=ERRORS, tags=["joining"], summary="Send me a fresh link")
async def fresh_link(body: EmailOnly, request: Request, session: Session, _limit: Public) -> JSONResponse:
    async with steady_timing(request):
        await members.request_link(session, body.email, links=links_of(request), correlation_id=correlation.current())
        await commit(session)
    return JSONResponse(CHECK_EMAIL, status_code=202)
