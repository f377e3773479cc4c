"""Members: a person's own details and preferences through their signed link (the
preference centre: change them, confirm a new email, leave, be erased), and the members a
place or practice team may see, without contact details."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared import correlation
from hub_shared.db import Session, commit
from hub_shared.links import LinkProblem
from membership.api.deps import ERRORS, LinkToken, Reader, link_problem
from membership.handlers import members
from membership.links import links_of
from membership.models import Member
from membership.schemas import MemberPreferences, MemberPublic, PreferencesUpdate, TokenBody

router = APIRouter(prefix="/v1")


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


@router.get("/members", responses=ERRORS, tags=["members"], summary="Members in your area (no contact details)")
async def list_members(
    principal: Reader,
    session: Session,
    practice_code: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{3,6}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(pending|active|left)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[MemberPublic]:
    return await members.members_in_area(
        session, principal, practice_code=practice_code, status=status, limit=limit, offset=offset
    )
