"""JSON API. Public routes (join, confirm, fresh link, hear back) are rate limited per
client address; a member acts on themselves only through a signed link; place and
practice teams call with a bearer token and see no contact details."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared import correlation
from hub_shared.auth import Principal, require_scope
from hub_shared.events import ConsentSource
from hub_shared.problems import MEDIA_TYPE, Problem
from membership.handlers import groups, members, opportunities
from membership.handlers.authority import practices_under
from membership.links import LinkProblem, Links
from membership.models import Group, GroupMembership, Member, Opportunity
from membership.schemas import (
    AttendanceCreate,
    EmailOnly,
    GroupCreate,
    GroupMemberAdd,
    GroupMemberUpdate,
    JoinRequest,
    MemberPreferences,
    MemberPublic,
    OpportunityCreate,
    PreferencesUpdate,
    ReplyBody,
    TokenBody,
)

router = APIRouter(prefix="/v1")
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (400, 401, 403, 404, 409, 410, 413, 422, 429)}
CHECK_EMAIL = {
    "status": "check_your_email",
    "detail": "If the address can be used, an email with a link is on its way.",
}


async def open_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


async def commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Problem(409, "Conflict", "A concurrent request changed the same data; retry the request.") from exc


async def public_limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    await request.app.state.public_rate_limit.check(f"public:{client}")


@asynccontextmanager
async def steady_timing(request: Request) -> AsyncIterator[None]:
    """Answer no sooner than the configured floor, so known and unknown addresses take
    the same time."""
    started = time.monotonic()
    try:
        yield
    finally:
        floor = request.app.state.settings.public_response_floor_ms / 1000
        await asyncio.sleep(max(0.0, floor - (time.monotonic() - started)))


def links_of(request: Request) -> Links:
    return request.app.state.links  # type: ignore[no-any-return]


def link_problem(exc: LinkProblem) -> Problem:
    if exc.reason == "invalid":
        return Problem(
            400, "Link not valid", "This link is not valid. Ask for a fresh one: POST /v1/links.", reason="invalid"
        )
    title = "Link expired" if exc.reason == "expired" else "Link already used"
    return Problem(410, title, "Ask for a fresh link by email: POST /v1/links.", reason=exc.reason)


Session = Annotated[AsyncSession, Depends(open_session)]
Public = Annotated[None, Depends(public_limit)]
Reader = Annotated[Principal, Depends(require_scope("members:read"))]
Manager = Annotated[Principal, Depends(require_scope("members:manage", rate_limited=True))]
Publisher = Annotated[Principal, Depends(require_scope("opportunities:write", rate_limited=True))]
LinkToken = Annotated[str, Query(min_length=10, max_length=2000, description="The token of your signed link")]


# ---- a person, for themselves ----


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


@router.post("/email/confirm", responses=ERRORS, tags=["preference centre"], summary="Confirm a new email address")
async def confirm_new_email(body: TokenBody, request: Request, session: Session) -> dict[str, Any]:
    try:
        member = await members.confirm_new_email(
            session, body.token, links=links_of(request), correlation_id=correlation.current()
        )
    except LinkProblem as exc:
        raise link_problem(exc) from exc
    await commit(session)
    return {"member_id": str(member.id), "email": member.email}


@router.post("/links", status_code=202, responses=ERRORS, tags=["joining"], summary="Send me a fresh link")
async def fresh_link(body: EmailOnly, request: Request, session: Session, _limit: Public) -> JSONResponse:
    async with steady_timing(request):
        await members.request_link(session, body.email, links=links_of(request), correlation_id=correlation.current())
        await commit(session)
    return JSONResponse(CHECK_EMAIL, status_code=202)


@router.post("/hear-back", status_code=202, responses=ERRORS, tags=["hearing back"], summary="Hear back, not join")
async def hear_back(body: EmailOnly, request: Request, session: Session, _limit: Public) -> JSONResponse:
    token = await members.request_hear_back(
        session, body.email, links=links_of(request), correlation_id=correlation.current()
    )
    await commit(session)
    return JSONResponse(
        {
            **CHECK_EMAIL,
            "contact_token": token,
            "use": "Send it with the feedback as hear_back.contact_token; updates start once the email is confirmed.",
        },
        status_code=202,
    )


@router.post("/hear-back/confirm", responses=ERRORS, tags=["hearing back"], summary="Confirm a hear-back address")
async def confirm_hear_back(body: TokenBody, request: Request, session: Session) -> dict[str, Any]:
    try:
        contact = await members.confirm_hear_back(
            session, body.token, links=links_of(request), correlation_id=correlation.current()
        )
    except LinkProblem as exc:
        raise link_problem(exc) from exc
    await commit(session)
    return {"contact_token": contact.token, "confirmed": True}


@router.post("/hear-back/stop", responses=ERRORS, tags=["hearing back"], summary="Stop hearing back; forget me")
async def stop_hearing_back(body: TokenBody, request: Request, session: Session) -> dict[str, str]:
    try:
        await members.stop_hearing_back(session, body.token, links=links_of(request))
    except LinkProblem as exc:
        raise link_problem(exc) from exc
    await commit(session)
    return {"status": "stopped"}


async def _me(session: AsyncSession, request: Request, token: str, lock: bool = False) -> Member:
    try:
        return await members.member_from_link(session, token, links_of(request), lock=lock)
    except LinkProblem as exc:
        raise link_problem(exc) from exc


@router.get("/me", responses=ERRORS, tags=["preference centre"], summary="My details and preferences")
async def me(token: LinkToken, request: Request, session: Session) -> MemberPreferences:
    return await members.preferences(session, await _me(session, request, token))


@router.patch("/me", responses=ERRORS, tags=["preference centre"], summary="Change my preferences")
async def change_me(body: PreferencesUpdate, token: LinkToken, request: Request, session: Session) -> MemberPreferences:
    member = await _me(session, request, token, lock=True)
    await members.update_preferences(
        session, member, body, links=links_of(request), correlation_id=correlation.current()
    )
    await commit(session)
    return await members.preferences(session, member)


@router.post("/me/leave", responses=ERRORS, tags=["preference centre"], summary="Leave: all contact stops")
async def leave(token: LinkToken, request: Request, session: Session) -> dict[str, str]:
    member = await _me(session, request, token, lock=True)
    await members.leave(session, member, links=links_of(request), correlation_id=correlation.current())
    await commit(session)
    return {"status": "left"}


@router.post("/me/erase", responses=ERRORS, tags=["preference centre"], summary="Erase me everywhere")
async def erase(token: LinkToken, request: Request, session: Session) -> dict[str, str]:
    member = await _me(session, request, token, lock=True)
    await members.erase(session, member, links=links_of(request), correlation_id=correlation.current())
    await commit(session)
    return {"status": "erased"}


@router.post("/invitations/reply", responses=ERRORS, tags=["opportunities"], summary="Reply yes, no or maybe")
async def reply(body: ReplyBody, request: Request, session: Session) -> dict[str, Any]:
    try:
        invitation, opportunity = await opportunities.reply(
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


# ---- place and practice teams ----


@router.get("/members", responses=ERRORS, tags=["members"], summary="Members in your area (no contact details)")
async def list_members(
    principal: Reader,
    session: Session,
    practice_code: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{3,6}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(pending|active|left)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[MemberPublic]:
    area = practices_under(principal.organisation)
    if practice_code:
        if practice_code.upper() not in area:
            raise Problem(403, "Not your organisation", f"{principal.organisation} may not see {practice_code}")
        area = [practice_code.upper()]
    query = select(Member).where(Member.practice_code.in_(area)).order_by(Member.joined_at, Member.id)
    if status:
        query = query.where(Member.status == status)
    rows = (await session.scalars(query.limit(limit).offset(offset))).all()
    held = await session.execute(
        select(GroupMembership.member_id, Group.id, Group.name, GroupMembership.role)
        .join(Group, Group.id == GroupMembership.group_id)
        .where(GroupMembership.member_id.in_([m.id for m in rows]), GroupMembership.left_on.is_(None))
    )
    by_member: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for member_id, group_id, name, role in held.all():
        by_member.setdefault(member_id, []).append({"id": str(group_id), "name": name, "role": role})
    return [
        MemberPublic.model_validate(m, from_attributes=True).model_copy(update={"groups": by_member.get(m.id, [])})
        for m in rows
    ]


@router.post("/groups", status_code=201, responses=ERRORS, tags=["groups"], summary="Create a group")
async def create_group(body: GroupCreate, principal: Manager, session: Session) -> dict[str, Any]:
    group = await groups.create_group(session, principal, body)
    await commit(session)
    return groups.group_public(group, members=0)


@router.get("/groups", responses=ERRORS, tags=["groups"], summary="Groups you can see")
async def list_groups(principal: Reader, session: Session) -> list[dict[str, Any]]:
    return [groups.group_public(g) for g in await groups.visible_groups(session, principal)]


@router.get("/groups/{group_id}/members", responses=ERRORS, tags=["groups"], summary="A group's members and roles")
async def group_members(group_id: uuid.UUID, principal: Reader, session: Session) -> list[dict[str, Any]]:
    return await groups.group_members(session, principal, group_id)


@router.post("/groups/{group_id}/members", status_code=201, responses=ERRORS, tags=["groups"], summary="Add a member")
async def add_group_member(
    group_id: uuid.UUID, body: GroupMemberAdd, principal: Manager, session: Session
) -> dict[str, Any]:
    membership = await groups.add_member(session, principal, group_id, body, correlation.current())
    await commit(session)
    return {"member_id": str(membership.member_id), "role": membership.role, "joined_on": str(membership.joined_on)}


@router.patch(
    "/groups/{group_id}/members/{member_id}", responses=ERRORS, tags=["groups"], summary="Change a role, or leave"
)
async def update_group_member(
    group_id: uuid.UUID, member_id: uuid.UUID, body: GroupMemberUpdate, principal: Manager, session: Session
) -> dict[str, Any]:
    membership = await groups.update_member(session, principal, group_id, member_id, body, correlation.current())
    await commit(session)
    return {
        "member_id": str(member_id),
        "role": membership.role,
        "joined_on": str(membership.joined_on),
        "left_on": str(membership.left_on) if membership.left_on else None,
    }


@router.post(
    "/groups/{group_id}/import",
    responses=ERRORS,
    tags=["groups"],
    summary="Import a PPG list (CSV: name,email,phone,postcode,practice_code,consent_basis[,role])",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}},
)
async def import_group(group_id: uuid.UUID, request: Request, principal: Manager, session: Session) -> dict[str, Any]:
    content = await request.body()
    result = await groups.import_csv(
        session,
        principal,
        group_id,
        content,
        links=links_of(request),
        wording_version=request.app.state.settings.consent_wording_version,
        correlation_id=correlation.current(),
    )
    await commit(session)
    return {"imported": result.imported, "rejected": result.rejected, "rows": result.rows}


@router.post("/opportunities", status_code=201, responses=ERRORS, tags=["opportunities"], summary="Publish and invite")
async def publish(body: OpportunityCreate, request: Request, principal: Publisher, session: Session) -> dict[str, Any]:
    opportunity, _invited = await opportunities.publish(
        session, principal, body, links=links_of(request), correlation_id=correlation.current()
    )
    await commit(session)
    return await opportunities.summary(session, opportunity)


@router.get("/opportunities", responses=ERRORS, tags=["opportunities"], summary="Opportunities you can see")
async def list_opportunities(principal: Reader, session: Session) -> list[dict[str, Any]]:
    from hub_shared.organisations import reference

    rows = (await session.scalars(select(Opportunity).order_by(Opportunity.starts_at))).all()
    return [
        await opportunities.summary(session, o)
        for o in rows
        if reference().may_act_for(principal.organisation, o.organisation_code)
    ]


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
