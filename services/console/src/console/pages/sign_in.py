"""Sign-in with the organisation's identity provider, and sign-out (``console.signin``)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import sessions
from console.signin import StaffUser, complete_sign_in, safe_next, sign_out_url
from console.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "/") -> Response:
    if StaffUser.of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    settings = request.app.state.settings
    return render(
        request,
        "sign_in.html",
        next=safe_next(next),
        ended=sessions.session_ended(request) or request.query_params.get("ended") == "1",
        idle_minutes=settings.session_idle_minutes,
        absolute_hours=settings.session_absolute_hours,
    )


@router.get("/sign-in/start")
async def sign_in_start(request: Request, next: str = "/") -> Response:
    """To the provider: authorization code flow with PKCE; state, nonce and the code
    verifier wait in this browser's (server-side) session for the callback."""
    request.session["next"] = safe_next(next)
    settings = request.app.state.settings
    response: Response = await request.app.state.oauth.authorize_redirect(
        request, redirect_uri=f"{settings.public_url}/sign-in/callback"
    )
    return response


@router.get("/sign-in/callback")
async def sign_in_callback(request: Request) -> Response:
    next_path = await complete_sign_in(request, request.app.state.oauth, request.app.state.settings)
    return RedirectResponse(next_path, status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """Ends the session here, then at the provider (RP-initiated logout) where it can."""
    target = await sign_out_url(request, request.app.state.oauth, request.app.state.settings)
    sessions.end(request)
    return RedirectResponse(target, status_code=303)


@router.get("/signed-out")
async def signed_out(request: Request) -> HTMLResponse:
    return render(request, "signed_out.html")
