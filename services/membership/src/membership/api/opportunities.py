"""Opportunities and invitations: publish an opportunity and invite the people it targets,
see replies and places, record who attended; a member replies to their invitation by its
signed link."""

import uuid
from typing import Any

from fastapi import APIRouter, Request

from hub_shared import correlation
from hub_shared.db import Session, commit
from hub_shared.links import LinkProblem
from membership.api.deps import ERRORS, Publisher, Reader, link_problem
from membership.handlers import invitations, opportunities
from membership.links import links_of
from membership.schemas import AttendanceCreate, OpportunityCreate, ReplyBody

router = APIRouter(prefix="/v1")


@router.post("/opportunities", status_code=201, responses=ERRORS, tags=["opportunities"], summary="Publish and invite")
async def publish(body: OpportunityCreate, request: Request, principal: Publisher, session: Session) -> dict[str, Any]:
    opportunity, _invited = await opportunities.publish(
        session, principal, body, links=links_of(request), correlation_id=correlation.current()
    )
    await commit(session)
    return await opportunities.summary(session, opportunity)


@router.get("/opportunities", responses=ERRORS, tags=["opportunities"], summary="Opportunities you can see")
async def list_opportunities(principal: Reader, session: Session) -> list[dict[str, Any]]:
    visible = await opportunities.visible_opportunities(session, principal)
    return [await opportunities.summary(session, o) for o in visible]


@router.get("/opportunities/{opportunity_id}", responses=ERRORS, tags=["opportunities"], summary="Replies and places")
async def get_opportunity(opportunity_id: uuid.UUID, principal: Reader, session: Session) -> dict[str, Any]:
    return await opportunities.summary(
        session, await opportunities.managed_opportunity(session, principal, opportunity_id)
    )


@router.post(
    "/opportunities/{opportunity_id}/attendance", responses=ERRORS, tags=["opportunities"], summary="Who attended"
)
async def attendance(
    opportunity_id: uuid.UUID, body: AttendanceCreate, principal: Publisher, session: Session
) -> dict[str, Any]:
    recorded = await opportunities.record_attendance(session, principal, opportunity_id, body, correlation.current())
    await commit(session)
    return {"recorded": recorded}


@router.post("/invitations/reply", responses=ERRORS, tags=["opportunities"], summary="Reply yes, no or maybe")
async def reply(body: ReplyBody, request: Request, session: Session) -> dict[str, Any]:
    try:
        invitation, opportunity = await invitations.reply(
            session, body.token, body.answer, links=links_of(request), correlation_id=correlation.current()
        )
    except LinkProblem as exc:
        raise link_problem(exc) from exc
    await commit(session)
    return {
        "opportunity_id": str(opportunity.id),
        "title": opportunity.title,
        "answer": invitation.answer,
        "place": invitation.place,
    }


@router.post(
    "/opportunities/preview",
    responses=ERRORS,
    tags=["opportunities"],
    summary="Before publishing: how many would be invited, and their bands (nothing is sent)",
)
async def preview_opportunity(body: OpportunityCreate, principal: Publisher, session: Session) -> dict[str, Any]:
    return await opportunities.preview(session, principal, body)


@router.get(
    "/opportunities/{opportunity_id}/invitations",
    responses=ERRORS,
    tags=["opportunities"],
    summary="Who was invited: answers, booked, waiting list, attended (member ids and bands, no contact details)",
)
async def opportunity_invitations(
    opportunity_id: uuid.UUID, principal: Reader, session: Session
) -> list[dict[str, Any]]:
    return await opportunities.invitations(session, principal, opportunity_id)
