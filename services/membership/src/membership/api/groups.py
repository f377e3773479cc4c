"""Groups: create one (a PPG per practice, co-production groups, the Patient Partners
scheme), see the groups you can see and their members, add a member, change a role or
leave, and import a PPG list as CSV."""

import uuid
from typing import Any

from fastapi import APIRouter, Request

from hub_shared import correlation
from hub_shared.db import Session, commit
from membership.api.deps import ERRORS, Manager, Reader
from membership.handlers import groups
from membership.links import links_of
from membership.schemas import GroupCreate, GroupMemberAdd, GroupMemberUpdate

router = APIRouter(prefix="/v1")


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
