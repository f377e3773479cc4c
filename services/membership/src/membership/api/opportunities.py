"""Opportunities and invitations: publish an opportunity and invite the people it targets,
see replies and places, change or cancel it (those who said yes are emailed), record who
attended; a member replies to their invitation by its signed link."""

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request

from hub_shared import correlation
from hub_shared.db import Session, commit
from hub_shared.links import LinkProblem
from membership.api.deps import ERRORS, Publisher, Reader, link_problem
from membership.handlers import invitations, opportunities
from membership.links import links_of
from membership.schemas import AttendanceCreate, OpportunityCancel, OpportunityChange, OpportunityCreate, ReplyBody

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


@router.patch(
    "/opportunities/{opportunity_id}",
    responses=ERRORS,
    tags=["opportunities"],
    summary="Change the details; everyone booked or waiting is emailed them",
    description=(
        "Send only what changes (title, description, starts_at, closes_at, location, online, capacity; "
        "`capacity: null` is no limit). The opportunity as changed is checked as a new one is, with the same "
        "field errors. A smaller capacity moves the latest booked to the head of the waiting list; a larger one "
        "books the longest waiting. Everyone booked or waiting is emailed the new details with their reply link "
        "(`emailed`), unless only the capacity changed. Asking for what is already so changes nothing (`emailed: "
        "0`): `changed` names what changed. `409` once it is cancelled or has started. With `dry_run=true` "
        "nothing is saved or sent: the answer is the opportunity as it is, what would change and how many would "
        "be emailed."
    ),
)
async def change(
    opportunity_id: uuid.UUID,
    body: OpportunityChange,
    request: Request,
    principal: Publisher,
    session: Session,
    dry_run: bool = Query(False, description="Check only: save and send nothing"),
) -> dict[str, Any]:
    opportunity, changed, emailed = await opportunities.change(
        session,
        principal,
        opportunity_id,
        body,
        links=links_of(request),
        correlation_id=correlation.current(),
        dry_run=dry_run,
    )
    if not dry_run:
        await commit(session)
    return {**await opportunities.summary(session, opportunity), "changed": changed, "emailed": emailed}


@router.post(
    "/opportunities/{opportunity_id}/cancel",
    responses=ERRORS,
    tags=["opportunities"],
    summary="Cancel it; everyone booked or waiting is emailed the reason",
    description=(
        "It takes no more replies (the reply page says it was cancelled, and why) and no attendance. Everyone "
        "booked or on the waiting list is emailed the reason (`emailed`). Cancelling again changes nothing and "
        "emails nobody: the answer is the same opportunity, first reason and time kept, with `emailed: 0`. "
        "`409` once it has started."
    ),
)
async def cancel(
    opportunity_id: uuid.UUID, body: OpportunityCancel, request: Request, principal: Publisher, session: Session
) -> dict[str, Any]:
    opportunity, emailed = await opportunities.cancel(
        session, principal, opportunity_id, body, links=links_of(request), correlation_id=correlation.current()
    )
    await commit(session)
    return {**await opportunities.summary(session, opportunity), "emailed": emailed}


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
