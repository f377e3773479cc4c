"""The start page: who is signed in, for which organisation(s), the areas, and one figure
read from reporting's API with the person's own token (so a broken sign-in shows at once)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from console.hub_api import ApiProblem, hub_api
from console.signin import SignedIn
from console.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, user: SignedIn) -> HTMLResponse:
    received: Any = None
    unavailable = None
    if user.may("reports:read"):
        try:
            volume = await hub_api(request).get("reporting", f"/v1/reports/feedback-volume/{user.organisation}")
            received = volume["received"]
        except ApiProblem as problem:
            unavailable = problem.detail or problem.title
    return render(request, "home.html", received=received, unavailable=unavailable)
