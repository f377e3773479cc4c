"""Groups: the area's pages (index for now)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from console.signin import SignedIn
from console.templating import AREAS, render

router = APIRouter(prefix="/groups", include_in_schema=False)
PATH, LABEL, ABOUT = next(a for a in AREAS if a[0] == "/groups")


@router.get("")
async def index(request: Request, user: SignedIn) -> HTMLResponse:
    return render(request, "area.html", label=LABEL, about=ABOUT)
