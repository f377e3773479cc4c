"""The preference centre, by the signed link in every email: details, what to hear about and
how often, groups; and confirming a new email address from that address."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from hub_shared import correlation
from hub_shared.links import LinkProblem
from hub_shared.organisations import reference
from hub_shared.problems import Problem
from membership.handlers import members
from membership.handlers.group_memberships import joinable_groups
from membership.links import Purpose, links_of
from membership.pages.rendering import form_errors, link_landing, link_page, problem_errors, render, sessions
from membership.schemas import PreferencesUpdate

router = APIRouter(include_in_schema=False)


async def preferences_context(request: Request, session: Any, member: Any) -> dict[str, Any]:
    prefs = await members.preferences(session, member)
    available = await joinable_groups(session, member.practice_code)
    practice = reference().get(member.practice_code)
    return {
        "practice_name": practice.name if practice else member.practice_code,
        "prefs": prefs,
        "groups": [{"id": str(g.id), "name": g.name, "kind": g.kind} for g in available],
        "held": {g["id"] for g in prefs.groups},
    }


@router.get("/preferences", response_class=HTMLResponse)
async def preferences_page(request: Request, token: str = "", saved: str = "") -> HTMLResponse:
    async with sessions(request)() as session:
        try:
            member = await members.member_from_link(session, token, links_of(request))
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        if member.status == "left":
            return render(request, "left.html")
        context = await preferences_context(request, session, member)
    return render(request, "preferences.html", token=token, errors={}, saved=saved, **context)


@router.post("/preferences", response_class=HTMLResponse)
async def preferences_submit(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", ""))
    body = {
        "email": str(form.get("email", "")),
        "name": str(form.get("name", "")),
        "phone": str(form.get("phone", "")) or None,
        "postcode": str(form.get("postcode", "")),
        "interests": [str(i) for i in form.getlist("interests")],
        "group_ids": [str(g) for g in form.getlist("group_ids")],
        "frequency": str(form.get("frequency", "")) or None,
    }
    email_change = False
    async with sessions(request)() as session:
        try:
            member = await members.member_from_link(session, token, links_of(request), lock=True)
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        errors: dict[str, str] = {}
        try:
            update = PreferencesUpdate.model_validate({k: v for k, v in body.items() if k != "phone" or v})
            if not body["phone"]:
                update.phone = None
            email_change = update.email is not None and update.email != member.email
            await members.update_preferences(
                session, member, update, links=links_of(request), correlation_id=correlation.current()
            )
        except ValidationError as exc:
            errors = form_errors(exc)
        except Problem as exc:
            errors = problem_errors(exc)
        if errors:
            await session.rollback()
            context = await preferences_context(request, session, member)
            return render(
                request, "preferences.html", status_code=422, token=token, errors=errors, saved=False, **context
            )
        await session.commit()
    saved = "email" if email_change else "1"
    return RedirectResponse(f"/preferences?token={token}&saved={saved}", status_code=303)


@router.get("/email/confirm", response_class=HTMLResponse)
async def new_email_page(request: Request, token: str = "") -> HTMLResponse:
    return link_landing(request, Purpose.NEW_EMAIL, token, "confirm.html", action="/email/confirm")


@router.post("/email/confirm", response_class=HTMLResponse)
async def new_email_submit(request: Request) -> Response:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            member = await members.confirm_new_email(
                session, token, links=links_of(request), correlation_id=correlation.current()
            )
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        except Problem as exc:
            return render(request, "problem.html", status_code=exc.status, heading=exc.title, message=exc.detail)
        await session.commit()
    preferences = links_of(request).member_token(Purpose.PREFERENCES, member)
    return RedirectResponse(f"/preferences?token={preferences}&saved=1", status_code=303)
