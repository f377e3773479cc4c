"""Groups: PPGs, co-production groups and the Patient Partners scheme the person can see;
creating one; a group's members and roles (add, change a role, record leaving); and a PPG
list's CSV import with its report, row by row. Every call goes to membership's API with the
person's own token; what it refuses is shown as it says."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from console.hub_api import ApiProblem, hub_api
from console.pagination import Paged
from console.signin import SignedIn
from console.templating import AREAS, render
from hub_shared.events import GroupKind, GroupRole, ServiceArea
from hub_shared.organisations import Kind, reference

router = APIRouter(prefix="/groups", include_in_schema=False)
PATH, LABEL, ABOUT = next(a for a in AREAS if a[0] == "/groups")
KIND_NAMES = {
    "ppg": "Patient Participation Group",
    "coproduction": "Co-production group",
    "patient_partners": "Patient Partners scheme",
}
# Which kind of organisation holds each kind of group (what membership's API requires).
HELD_BY = {"ppg": Kind.PRACTICE, "coproduction": Kind.PLACE, "patient_partners": Kind.ICB}
LABELS = {
    "kind": "Kind",
    "name": "Name",
    "organisation_code": "Organisation",
    "service_area": "Service area",
    "member_id": "Member number",
    "role": "Role",
    "left_on": "Date they left",
    "file": "CSV file",
}
IMPORT_REPORT = "group_import_report"
MAX_UPLOAD = 2 * 1024 * 1024


def nice(value: str | None) -> str:
    return value.replace("_", " ").capitalize() if value else ""


def not_found() -> ApiProblem:
    return ApiProblem(404, "Page not found", "Check the address.")


def group_id_of(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise not_found() from None


def errors_of(problem: ApiProblem) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, message in problem.errors.items():
        message = message.removeprefix("Value error, ")
        field, _, rest = message.partition(": ")
        if name in ("(body)", "") and field in LABELS:
            errors.setdefault(field, rest)
        else:
            errors.setdefault(name, message)
    return errors or {"form": problem.detail or problem.title}


def summary_of(errors: dict[str, str]) -> list[dict[str, str]]:
    return [
        {
            "text": f"{LABELS[name]}: {message}" if name in LABELS else message,
            "href": "#" + (name if name in LABELS else "maincontent"),
        }
        for name, message in errors.items()
    ]


async def find_group(request: Request, group_id: str) -> dict[str, Any]:
    """The group among those the API shows this person (its members call refuses the rest)."""
    for group in await hub_api(request).get("membership", "/v1/groups"):
        if group["id"] == group_id:
            return group  # type: ignore[no-any-return]
    raise not_found()


@router.get("")
async def index(request: Request, user: SignedIn) -> HTMLResponse:
    groups = await hub_api(request).get("membership", "/v1/groups")
    kind = request.query_params.get("kind")
    if kind in KIND_NAMES:
        groups = [g for g in groups if g["kind"] == kind]
    return render(
        request,
        "groups/index.html",
        label=LABEL,
        about=ABOUT,
        pages=Paged.of(request, groups, per_page=25),
        kind=kind if kind in KIND_NAMES else None,
        kind_names=KIND_NAMES,
        nice=nice,
        organisation_name=lambda code: o.name if (o := reference().get(code)) else code,
    )


def new_group_page(
    request: Request, user: Any, form: dict[str, str], errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    errors = errors or {}
    return render(
        request,
        "groups/new.html",
        status_code=status_code,
        form=form,
        errors=errors,
        error_summary=summary_of(errors) if errors else None,
        kinds=[(k.value, KIND_NAMES[k.value]) for k in GroupKind],
        organisations=user.acts_for,
        service_areas=[(a.value, nice(a.value)) for a in ServiceArea],
    )


@router.get("/new")
async def new(request: Request, user: SignedIn) -> HTMLResponse:
    return new_group_page(request, user, {"organisation_code": user.organisation})


@router.post("/new")
async def create(request: Request, user: SignedIn) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    body: dict[str, Any] = {
        "kind": form.get("kind") or None,
        "name": (form.get("name") or "").strip(),
        "organisation_code": form.get("organisation_code") or None,
        "service_area": form.get("service_area") or None,
    }
    try:
        created = await hub_api(request).post("membership", "/v1/groups", json=body)
    except ApiProblem as problem:
        if problem.status not in (400, 409, 422):
            raise
        return new_group_page(request, user, form, errors_of(problem), status_code=problem.status)
    request.session["flash"] = f"{created['name']} created."
    return RedirectResponse(f"/groups/{created['id']}", status_code=303)


async def group_page(
    request: Request,
    group_id: str,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    members = await hub_api(request).get("membership", f"/v1/groups/{group_id}/members")
    group = await find_group(request, group_id)
    current = request.query_params.get("show") != "all"
    shown = [m for m in members if not m["left_on"]] if current else members
    errors = errors or {}
    return render(
        request,
        "groups/detail.html",
        status_code=status_code,
        group=group,
        pages=Paged.of(request, shown, per_page=50),
        current=current,
        counts={"current": sum(1 for m in members if not m["left_on"]), "all": len(members)},
        flash=request.session.pop("flash", None),
        errors=errors,
        error_summary=summary_of(errors) if errors else None,
        form=form or {},
        kind_names=KIND_NAMES,
        roles=[(r.value, nice(r.value)) for r in GroupRole],
        nice=nice,
    )


@router.get("/{group_id}")
async def detail(request: Request, user: SignedIn, group_id: str) -> HTMLResponse:
    return await group_page(request, group_id_of(group_id))


@router.post("/{group_id}/members")
async def add_member(request: Request, user: SignedIn, group_id: str) -> Response:
    group_id = group_id_of(group_id)
    form = {k: str(v) for k, v in (await request.form()).items()}
    member_id = (form.get("member_id") or "").strip()
    try:
        member_id = str(uuid.UUID(member_id))
    except ValueError:
        return await group_page(
            request, group_id, {"member_id": "Enter the member's number as shown in Members"}, form, 422
        )
    try:
        await hub_api(request).post(
            "membership",
            f"/v1/groups/{group_id}/members",
            json={"member_id": member_id, "role": form.get("role") or "member"},
        )
    except ApiProblem as problem:
        if problem.status not in (400, 404, 422):
            raise
        errors = errors_of(problem)
        if problem.status == 404 and "form" in errors:
            errors = {"member_id": errors["form"]}
        return await group_page(request, group_id, errors, form, 422)
    request.session["flash"] = "Member added."
    return RedirectResponse(f"/groups/{group_id}", status_code=303)


@router.post("/{group_id}/members/{member_id}")
async def change_member(request: Request, user: SignedIn, group_id: str, member_id: str) -> Response:
    group_id, member_id = group_id_of(group_id), group_id_of(member_id)
    form = {k: str(v) for k, v in (await request.form()).items()}
    body: dict[str, Any] = {}
    if form.get("action") == "leave":
        body["left_on"] = form.get("left_on") or None
    else:
        body["role"] = form.get("role") or None
    try:
        await hub_api(request).patch("membership", f"/v1/groups/{group_id}/members/{member_id}", json=body)
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        return await group_page(request, group_id, errors_of(problem), form, 422)
    request.session["flash"] = "Left the group." if "left_on" in body else "Role changed."
    return RedirectResponse(f"/groups/{group_id}", status_code=303)


def import_page(
    request: Request,
    group: dict[str, Any],
    report: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    rows: list[dict[str, Any]] = []
    if report:
        only_rejected = request.query_params.get("show") == "rejected"
        rows = [r for r in report["rows"] if r["status"] == "rejected"] if only_rejected else report["rows"]
    return render(
        request,
        "groups/import.html",
        status_code=status_code,
        group=group,
        report=report,
        pages=Paged.of(request, rows, per_page=50) if report else None,
        only_rejected=request.query_params.get("show") == "rejected",
        errors=errors,
        error_summary=summary_of(errors) if errors else None,
        kind_names=KIND_NAMES,
        nice=nice,
    )


@router.get("/{group_id}/import")
async def import_form(request: Request, user: SignedIn, group_id: str) -> HTMLResponse:
    group = await find_group(request, group_id_of(group_id))
    report = (request.session.get(IMPORT_REPORT) or {}).get(group["id"]) if request.query_params else None
    return import_page(request, group, report)


@router.post("/{group_id}/import")
async def import_list(request: Request, user: SignedIn, group_id: str) -> Response:
    group = await find_group(request, group_id_of(group_id))
    upload = (await request.form()).get("file")
    content = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
    if not content:
        return import_page(request, group, errors={"file": "Select a CSV file"}, status_code=422)
    if len(content) > MAX_UPLOAD:
        return import_page(request, group, errors={"file": "The file must be smaller than 2 MB"}, status_code=422)
    try:
        report = await hub_api(request).post(
            "membership",
            f"/v1/groups/{group['id']}/import",
            content=content,
            headers={"Content-Type": "text/csv"},
        )
    except ApiProblem as problem:
        if problem.status not in (400, 413, 415, 422):
            raise
        detail = problem.detail or problem.title
        if problem.errors:
            detail += " Missing: " + ", ".join(problem.errors) + "."
        return import_page(request, group, errors={"file": detail}, status_code=422)
    # The report is kept in the session so that its pages (and a reload) show it again.
    request.session[IMPORT_REPORT] = {group["id"]: report}
    return RedirectResponse(f"/groups/{group['id']}/import?report=1", status_code=303)
