"""Leaving (all contact stops) or being erased (forgotten everywhere), from the preference
centre: a page to confirm, then done."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub_shared import correlation
from hub_shared.links import LinkProblem
from membership.handlers import members
from membership.links import links_of
from membership.pages.rendering import link_page, render, sessions

router = APIRouter(include_in_schema=False)


@router.get("/preferences/{action}", response_class=HTMLResponse)
async def leave_or_erase_page(request: Request, action: str, token: str = "") -> HTMLResponse:
    if action not in ("leave", "erase"):
        return render(request, "not_found.html", status_code=404)
    async with sessions(request)() as session:
        try:
            await members.member_from_link(session, token, links_of(request))
        except LinkProblem as exc:
            return link_page(request, exc.reason)
    return render(request, "leave_or_erase.html", token=token, action=action)


@router.post("/preferences/{action}", response_class=HTMLResponse)
async def leave_or_erase(request: Request, action: str) -> HTMLResponse:
    if action not in ("leave", "erase"):
        return render(request, "not_found.html", status_code=404)
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            member = await members.member_from_link(session, token, links_of(request), lock=True)
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        if action == "leave":
            await members.leave(session, member, links=links_of(request), correlation_id=correlation.current())
        else:
            await members.erase(session, member, links=links_of(request), correlation_id=correlation.current())
        await session.commit()
    return render(request, "done.html", action=action)
