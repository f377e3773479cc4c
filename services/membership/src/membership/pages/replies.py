"""Replying to an invitation by its signed link: yes, no or maybe; a place while there is
room, then the waiting list."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub_shared import correlation
from hub_shared.events import Answer
from hub_shared.links import LinkProblem
from hub_shared.problems import Problem
from membership.handlers import invitations
from membership.links import links_of
from membership.pages.rendering import link_page, options, render, sessions

router = APIRouter(include_in_schema=False)


@router.get("/reply", response_class=HTMLResponse)
async def reply_page(request: Request, token: str = "") -> HTMLResponse:
    async with sessions(request)() as session:
        try:
            invitation, opportunity, _member = await invitations.invitation_from_link(session, token, links_of(request))
        except LinkProblem as exc:
            return link_page(request, exc.reason)
    return render(
        request,
        "reply.html",
        token=token,
        invitation=invitation,
        opportunity=opportunity,
        errors={},
        answers=options(Answer),
    )


@router.post("/reply", response_class=HTMLResponse)
async def reply_submit(request: Request) -> HTMLResponse:
    form = await request.form()
    token = str(form.get("token", ""))
    answer = str(form.get("answer", ""))
    async with sessions(request)() as session:
        try:
            invitation, opportunity, _member = await invitations.invitation_from_link(session, token, links_of(request))
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        if answer not in {a.value for a in Answer}:
            return render(
                request,
                "reply.html",
                status_code=422,
                token=token,
                invitation=invitation,
                opportunity=opportunity,
                errors={"answer": "Choose yes, no or maybe"},
                answers=options(Answer),
            )
        try:
            invitation, opportunity = await invitations.reply(
                session, token, Answer(answer), links=links_of(request), correlation_id=correlation.current()
            )
        except Problem as exc:
            return render(
                request,
                "reply.html",
                status_code=exc.status,
                token=token,
                invitation=invitation,
                opportunity=opportunity,
                errors={"answer": exc.detail or exc.title},
                answers=options(Answer),
            )
        await session.commit()
    return render(request, "replied.html", invitation=invitation, opportunity=opportunity)
