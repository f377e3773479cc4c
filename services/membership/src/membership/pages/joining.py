"""Joining: the form (practice, groups, what to hear about, optional demographics and
consent), "check your email", confirming with the emailed link, and asking for a fresh link.
Following a link only shows a button, so mail scanners that fetch links confirm nothing."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub_shared import correlation
from hub_shared.events import AgeBand, ConsentSource, EthnicGroup, Sex, YesNoUnsaid
from hub_shared.links import LinkProblem
from hub_shared.organisations import Kind, reference
from hub_shared.problems import Problem
from hub_shared.web import steady_timing
from membership.handlers import group_invitations, members
from membership.handlers.group_memberships import joinable_groups
from membership.links import Purpose, links_of
from membership.models import Group
from membership.pages.rendering import (
    form_errors,
    link_landing,
    link_page,
    options,
    problem_errors,
    render,
    sessions,
    too_many_requests,
)
from membership.schemas import EmailOnly, JoinRequest

router = APIRouter(include_in_schema=False)

AGE_NAMES = {a.value: a.value.replace("_", " to ").replace("to plus", "or over") for a in AgeBand}
AGE_NAMES |= {"under_16": "Under 16", "85_plus": "85 or over", "prefer_not_to_say": "Prefer not to say"}
CONSENT_WORDING = (
    "I agree that the NHS in this area may keep my details to contact me by email about taking part: "
    "invitations, and what changed because of feedback. I can change what I hear about, leave or ask to be "
    "forgotten at any time from the link in every email."
)


def practices() -> list[tuple[str, str]]:
    return sorted(
        ((o.code, o.name) for o in reference() if o.kind is Kind.PRACTICE and o.closed_on is None),
        key=lambda p: p[1],
    )


async def joinable(request: Request) -> list[dict[str, str]]:
    async with sessions(request)() as session:
        groups = (await session.scalars(select(Group).order_by(Group.kind, Group.name))).all()
    return [
        {"id": str(g.id), "name": g.name, "kind": g.kind, "organisation_code": g.organisation_code}
        for g in groups
        if g.kind in ("coproduction", "patient_partners")
    ]


@router.get("/join", response_class=HTMLResponse)
async def join_page(request: Request) -> HTMLResponse:
    return render(request, "join.html", form={}, errors={}, **(await join_context(request)))


async def join_context(request: Request) -> dict[str, Any]:
    return {
        "practices": practices(),
        "groups": await joinable(request),
        "ages": options(AgeBand, AGE_NAMES),
        "sexes": options(Sex),
        "ethnic_groups": [(e.value, e.label) for e in EthnicGroup],
        "yes_no": options(YesNoUnsaid),
        "consent_wording": CONSENT_WORDING,
    }


@router.post("/join", response_class=HTMLResponse)
async def join_submit(request: Request) -> Response:
    if (limited := await too_many_requests(request)) is not None:
        return limited
    form = await request.form()
    data = {k: str(v) for k, v in form.items() if not isinstance(v, list)}
    chosen_groups = [str(g) for g in form.getlist("group_ids")]
    ppg = "ppg" in chosen_groups
    body: dict[str, Any] = {
        "name": data.get("name", ""),
        "email": data.get("email", ""),
        "phone": data.get("phone") or None,
        "postcode": data.get("postcode", ""),
        "practice_code": data.get("practice_code", ""),
        "interests": [str(i) for i in form.getlist("interests")],
        "group_ids": [g for g in chosen_groups if g != "ppg"],
        "demographics": {k: data[k] for k in ("age_band", "sex", "ethnic_group", "disability", "carer") if data.get(k)},
        "consent_to_contact": data.get("consent_to_contact") == "yes",
        "consent_wording_version": request.app.state.settings.consent_wording_version,
    }
    errors: dict[str, str] = {}
    try:
        command = JoinRequest.model_validate(body)
    except ValidationError as exc:
        errors = form_errors(exc)
    if not errors:
        async with steady_timing(request), sessions(request)() as session:
            if ppg:
                practice_groups = await joinable_groups(session, command.practice_code)
                command.group_ids += [g.id for g in practice_groups if g.kind == "ppg"]
            try:
                await members.join(
                    session,
                    command,
                    source=ConsentSource.WEB_FORM,
                    links=links_of(request),
                    wording_version=request.app.state.settings.consent_wording_version,
                    correlation_id=correlation.current(),
                )
                await session.commit()
            except Problem as exc:
                errors = problem_errors(exc)
            except IntegrityError:
                await session.rollback()
    if errors:
        form_state = {**data, "interests": body["interests"], "group_ids": chosen_groups}
        return render(
            request, "join.html", status_code=422, form=form_state, errors=errors, **(await join_context(request))
        )
    return RedirectResponse("/check-your-email", status_code=303)


@router.get("/check-your-email", response_class=HTMLResponse)
async def check_email(request: Request) -> HTMLResponse:
    return render(request, "check_email.html")


@router.get("/confirm", response_class=HTMLResponse)
async def confirm_page(request: Request, token: str = "") -> HTMLResponse:
    return await link_landing(request, Purpose.CONFIRM, token, "confirm.html", action="/confirm")


@router.post("/confirm", response_class=HTMLResponse)
async def confirm_submit(request: Request) -> Response:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            member = await members.confirm(
                session, token, links=links_of(request), correlation_id=correlation.current()
            )
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        await session.commit()
    preferences = links_of(request).member_token(Purpose.PREFERENCES, member)
    return render(request, "confirmed.html", preferences_url=f"/preferences?token={preferences}")


@router.get("/welcome", response_class=HTMLResponse)
async def welcome_page(request: Request, token: str = "") -> HTMLResponse:
    return await link_landing(request, Purpose.WELCOME, token, "confirm.html", action="/welcome")


@router.post("/welcome", response_class=HTMLResponse)
async def welcome_submit(request: Request) -> Response:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            accepted = await group_invitations.accept(
                session,
                token,
                links=links_of(request),
                wording_version=request.app.state.settings.consent_wording_version,
                correlation_id=correlation.current(),
            )
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        await session.commit()
    preferences = links_of(request).member_token(Purpose.PREFERENCES, accepted.member)
    return render(
        request,
        "confirmed.html",
        preferences_url=f"/preferences?token={preferences}",
        group=accepted.group.name,
        joined=accepted.joined,
    )


@router.get("/link", response_class=HTMLResponse)
async def link_form(request: Request) -> HTMLResponse:
    return render(request, "link_problem.html", reason="ask", errors={})


@router.post("/link", response_class=HTMLResponse)
async def link_submit(request: Request) -> Response:
    if (limited := await too_many_requests(request)) is not None:
        return limited
    email = str((await request.form()).get("email", ""))
    try:
        command = EmailOnly(email=email)
    except ValidationError as exc:
        return render(request, "link_problem.html", status_code=422, reason="ask", errors=form_errors(exc), email=email)
    async with steady_timing(request), sessions(request)() as session:
        await members.request_link(
            session, command.email, links=links_of(request), correlation_id=correlation.current()
        )
        await session.commit()
    return RedirectResponse("/check-your-email", status_code=303)
