"""Hearing back without joining: give an address for a contact token, confirm it from the
emailed link, and stop (the address is forgotten)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from hub_shared import correlation
from hub_shared.links import LinkProblem
from hub_shared.references import grouped
from hub_shared.web import steady_timing
from membership.handlers import hear_back as hearing_back
from membership.links import Purpose, links_of
from membership.pages.rendering import form_errors, link_landing, link_page, render, sessions, too_many_requests
from membership.schemas import HearBackRequest

router = APIRouter(include_in_schema=False)


@router.get("/hear-back", response_class=HTMLResponse)
async def hear_back_page(request: Request, organisation: str = "") -> HTMLResponse:
    """``?organisation=P81001``: the practice or place the feedback is for (a poster's or a
    text message's link names it; a hub of several ICBs needs it)."""
    return render(request, "hear_back.html", errors={}, organisation=organisation[:10])


@router.post("/hear-back", response_class=HTMLResponse)
async def hear_back_submit(request: Request) -> Response:
    if (limited := await too_many_requests(request)) is not None:
        return limited
    form = await request.form()
    email = str(form.get("email", ""))
    organisation = str(form.get("organisation", "")).strip() or None
    try:
        command = HearBackRequest(email=email, organisation_code=organisation)
    except ValidationError as exc:
        errors = form_errors(exc)
        return render(request, "hear_back.html", status_code=422, errors=errors, email=email, organisation=organisation)
    async with steady_timing(request), sessions(request)() as session:
        try:
            await hearing_back.request_hear_back(
                session,
                command.email,
                organisation_code=command.organisation_code,
                links=links_of(request),
                correlation_id=correlation.current(),
            )
        except hearing_back.OrganisationNeeded as exc:
            errors = {"organisation_code": str(exc)}
            return render(
                request, "hear_back.html", status_code=422, errors=errors, email=email, organisation=organisation
            )
        await session.commit()
    return RedirectResponse("/check-your-email", status_code=303)


@router.get("/hear-back/confirm", response_class=HTMLResponse)
async def hear_back_confirm_page(request: Request, token: str = "") -> HTMLResponse:
    return await link_landing(request, Purpose.HEAR_BACK, token, "confirm.html", action="/hear-back/confirm")


@router.post("/hear-back/confirm", response_class=HTMLResponse)
async def hear_back_confirm_submit(request: Request) -> Response:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            contact = await hearing_back.confirm_hear_back(
                session, token, links=links_of(request), correlation_id=correlation.current()
            )
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        await session.commit()
    return render(request, "hear_back_confirmed.html", reference=grouped(contact.token))


@router.get("/hear-back/stop", response_class=HTMLResponse)
async def hear_back_stop_page(request: Request, token: str = "") -> HTMLResponse:
    return await link_landing(request, Purpose.HEAR_BACK_STOP, token, "hear_back_stop.html")


@router.post("/hear-back/stop", response_class=HTMLResponse)
async def hear_back_stop(request: Request) -> HTMLResponse:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            await hearing_back.stop_hearing_back(session, token, links=links_of(request))
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        await session.commit()
    return render(request, "done.html", action="stop")
