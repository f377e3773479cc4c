"""Pages for a person: join, confirm, hear back, the preference centre, replying to an
invitation, and a page for links that expired or were tampered with. Built from the
NHS.UK design system's own component macros (nhsuk-frontend-jinja), styled by the
nhsuk-frontend package the build installs; plain HTML forms, so they work without
JavaScript. Each page calls the same handlers as the JSON API."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub_shared import correlation
from hub_shared.events import (
    AgeBand,
    Answer,
    ConsentSource,
    EthnicGroup,
    Frequency,
    ServiceArea,
    Sex,
    YesNoUnsaid,
)
from hub_shared.links import LinkProblem
from hub_shared.organisations import Kind, reference
from hub_shared.problems import Problem
from membership.api import steady_timing
from membership.handlers import members, opportunities
from membership.links import Links, Purpose
from membership.models import Group
from membership.schemas import EmailOnly, JoinRequest, PreferencesUpdate

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[1] / "web" / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
TEMPLATES = Environment(
    loader=ChoiceLoader([FileSystemLoader(HERE / "templates"), PackageLoader("nhsuk_frontend_jinja", "templates")]),
    autoescape=select_autoescape(["html", "jinja"]),
    undefined=ChainableUndefined,  # the macros read optional nested params (params.navigation.colour)
)
router = APIRouter(include_in_schema=False)

AREA_NAMES = {
    "general_practice": "GP practices",
    "musculoskeletal": "Muscles, bones and joints (MSK)",
    "ophthalmology": "Eyes",
    "dermatology": "Skin",
    "mental_health": "Mental health",
    "maternity": "Maternity",
    "urgent_care": "Urgent and emergency care",
    "community": "Community services",
    "other": "Something else",
}
AGE_NAMES = {a.value: a.value.replace("_", " to ").replace("to plus", "or over") for a in AgeBand}
AGE_NAMES |= {"under_16": "Under 16", "85_plus": "85 or over", "prefer_not_to_say": "Prefer not to say"}
FREQUENCY_NAMES = {
    "as_it_happens": "As it happens",
    "daily": "A daily digest",
    "weekly": "A weekly digest",
    "never": "Never (I will look at my preferences page instead)",
}
LABELS = {
    "name": "Full name",
    "email": "Email address",
    "phone": "Phone number",
    "postcode": "Postcode",
    "practice_code": "GP practice",
    "consent_to_contact": "Consent",
    "group_ids": "Groups",
}
CONSENT_WORDING = (
    "I agree that the NHS in this area may keep my details to contact me by email about taking part: "
    "invitations, and what changed because of feedback. I can change what I hear about, leave or ask to be "
    "forgotten at any time from the link in every email."
)


def nice(value: str) -> str:
    return value.replace("_", " ").capitalize()


def options(enum: Any, names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    return [(e.value, (names or {}).get(e.value) or nice(e.value)) for e in enum]


def practices() -> list[tuple[str, str]]:
    return sorted(
        ((o.code, o.name) for o in reference() if o.kind is Kind.PRACTICE and o.successor is None),
        key=lambda p: p[1],
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(
        request=request,
        assetPath="/static/assets",
        areas=options(ServiceArea, AREA_NAMES),
        frequencies=options(Frequency, FREQUENCY_NAMES),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors as {field: message} in the words the page should show."""
    errors: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ())]
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        field = loc[0] if loc else ""
        if ":" in message and not loc:
            field, message = (s.strip() for s in message.split(":", 1))
        if field == "consent_to_contact":
            message = "Tick the box to agree to be contacted"
        elif err.get("type") == "missing" or (err.get("type") == "string_too_short" and not err.get("input")):
            message = f"Enter your {LABELS.get(field, field).lower()}"
        if field == "email" and err.get("type") != "missing":
            message = "Enter an email address in the correct format, like name@example.com"
        if field == "demographics" and len(loc) > 1:
            field = loc[1]
        errors.setdefault(field or "form", message)
    return errors


def problem_errors(problem: Problem) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.extensions.get("errors", [])} or {"form": problem.detail or ""}


def links_of(request: Request) -> Links:
    return request.app.state.links  # type: ignore[no-any-return]


def sessions(request: Request) -> Any:
    return request.app.state.sessions


def link_page(request: Request, reason: str) -> HTMLResponse:
    return render(request, "link_problem.html", status_code=410 if reason != "invalid" else 400, reason=reason)


async def public_limit(request: Request) -> HTMLResponse | None:
    client = request.client.host if request.client else "unknown"
    try:
        await request.app.state.public_rate_limit.check(f"public:{client}")
    except Problem as exc:
        response = render(request, "too_many.html", status_code=429, retry_after=exc.headers or {})
        response.headers.update(exc.headers or {})
        return response
    return None


async def joinable(request: Request) -> list[dict[str, str]]:
    async with sessions(request)() as session:
        groups = (await session.scalars(select(Group).order_by(Group.kind, Group.name))).all()
    return [
        {"id": str(g.id), "name": g.name, "kind": g.kind, "organisation_code": g.organisation_code}
        for g in groups
        if g.kind in ("coproduction", "patient_partners")
    ]


# ---- joining ----


@router.get("/join", response_class=HTMLResponse)
async def join_page(request: Request) -> HTMLResponse:
    return render(request, "join.html", form={}, errors={}, **(await join_context(request)))


async def join_context(request: Request) -> dict[str, Any]:
    return {
        "practices": practices(),
        "groups": await joinable(request),
        "ages": options(AgeBand, AGE_NAMES),
        "sexes": options(Sex),
        "ethnic_groups": options(EthnicGroup),
        "yes_no": options(YesNoUnsaid),
        "consent_wording": CONSENT_WORDING,
    }


@router.post("/join", response_class=HTMLResponse)
async def join_submit(request: Request) -> Response:
    if (limited := await public_limit(request)) is not None:
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
                practice_groups = await members.joinable_groups(session, command.practice_code)
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
    # Following the link only shows a button: mail scanners that fetch links confirm nothing.
    try:
        links_of(request).load(Purpose.CONFIRM, token)
    except LinkProblem as exc:
        return link_page(request, exc.reason)
    return render(request, "confirm.html", token=token, action="/confirm")


@router.post("/confirm", response_class=HTMLResponse)
async def confirm_submit(request: Request) -> Response:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            await members.confirm(session, token, links=links_of(request), correlation_id=correlation.current())
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        await session.commit()
    claims = links_of(request).load(Purpose.CONFIRM, token)
    preferences = links_of(request).token(Purpose.PREFERENCES, m=claims["m"])
    return render(request, "confirmed.html", preferences_url=f"/preferences?token={preferences}")


@router.get("/email/confirm", response_class=HTMLResponse)
async def new_email_page(request: Request, token: str = "") -> HTMLResponse:
    try:
        links_of(request).load(Purpose.NEW_EMAIL, token)
    except LinkProblem as exc:
        return link_page(request, exc.reason)
    return render(request, "confirm.html", token=token, action="/email/confirm")


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
    preferences = links_of(request).token(Purpose.PREFERENCES, m=str(member.id))
    return RedirectResponse(f"/preferences?token={preferences}&saved=1", status_code=303)


# ---- fresh links ----


@router.get("/link", response_class=HTMLResponse)
async def link_form(request: Request) -> HTMLResponse:
    return render(request, "link_problem.html", reason="ask", errors={})


@router.post("/link", response_class=HTMLResponse)
async def link_submit(request: Request) -> Response:
    if (limited := await public_limit(request)) is not None:
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


# ---- hearing back ----


@router.get("/hear-back", response_class=HTMLResponse)
async def hear_back_page(request: Request) -> HTMLResponse:
    return render(request, "hear_back.html", errors={})


@router.post("/hear-back", response_class=HTMLResponse)
async def hear_back_submit(request: Request) -> Response:
    if (limited := await public_limit(request)) is not None:
        return limited
    email = str((await request.form()).get("email", ""))
    try:
        command = EmailOnly(email=email)
    except ValidationError as exc:
        return render(request, "hear_back.html", status_code=422, errors=form_errors(exc), email=email)
    async with sessions(request)() as session:
        await members.request_hear_back(
            session, command.email, links=links_of(request), correlation_id=correlation.current()
        )
        await session.commit()
    return RedirectResponse("/check-your-email", status_code=303)


@router.get("/hear-back/confirm", response_class=HTMLResponse)
async def hear_back_confirm_page(request: Request, token: str = "") -> HTMLResponse:
    try:
        links_of(request).load(Purpose.HEAR_BACK, token)
    except LinkProblem as exc:
        return link_page(request, exc.reason)
    return render(request, "confirm.html", token=token, action="/hear-back/confirm")


@router.post("/hear-back/confirm", response_class=HTMLResponse)
async def hear_back_confirm_submit(request: Request) -> Response:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            contact = await members.confirm_hear_back(
                session, token, links=links_of(request), correlation_id=correlation.current()
            )
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        await session.commit()
    return render(request, "hear_back_confirmed.html", contact_token=contact.token)


@router.get("/hear-back/stop", response_class=HTMLResponse)
async def hear_back_stop_page(request: Request, token: str = "") -> HTMLResponse:
    try:
        links_of(request).load(Purpose.HEAR_BACK_STOP, token)
    except LinkProblem as exc:
        return link_page(request, exc.reason)
    return render(request, "hear_back_stop.html", token=token)


@router.post("/hear-back/stop", response_class=HTMLResponse)
async def hear_back_stop(request: Request) -> HTMLResponse:
    token = str((await request.form()).get("token", ""))
    async with sessions(request)() as session:
        try:
            await members.stop_hearing_back(session, token, links=links_of(request))
        except LinkProblem as exc:
            return link_page(request, exc.reason)
        await session.commit()
    return render(request, "done.html", action="stop")


# ---- the preference centre ----


async def preferences_context(request: Request, session: Any, member: Any) -> dict[str, Any]:
    prefs = await members.preferences(session, member)
    available = await members.joinable_groups(session, member.practice_code)
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


# ---- replying to an invitation ----


@router.get("/reply", response_class=HTMLResponse)
async def reply_page(request: Request, token: str = "") -> HTMLResponse:
    async with sessions(request)() as session:
        try:
            invitation, opportunity, _member = await opportunities.invitation_from_link(
                session, token, links_of(request)
            )
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
            invitation, opportunity, _member = await opportunities.invitation_from_link(
                session, token, links_of(request)
            )
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
            invitation, opportunity = await opportunities.reply(
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
