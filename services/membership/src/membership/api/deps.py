"""What every resource module of the API shares: the problem responses it documents, the
answer to a public request for a link, how a bad link is answered, and the callers a route
accepts (public, or a team's token with a scope)."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub_shared.auth import Principal, TokenVerifier, require_scope
from hub_shared.links import LinkProblem
from hub_shared.problems import MEDIA_TYPE, Problem
from hub_shared.web import public_limit

PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
# 400 (a body that cannot be read) is documented by the web shell on the routes that take one.
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (401, 403, 404, 409, 410, 413, 422, 429)}
CHECK_EMAIL = {
    "status": "check_your_email",
    "detail": "If the address can be used, an email with a link is on its way.",
}


def link_problem(exc: LinkProblem) -> Problem:
    # A link whose signature fails (forged, altered, or for another purpose) is a credential
    # refused: 403. One that was good but no longer works (expired, used, replaced) is 410.
    if exc.reason == "invalid":
        return Problem(
            403, "Link not valid", "This link is not valid. Ask for a fresh one: POST /v1/links.", reason="invalid"
        )
    if exc.reason == "replaced":
        return Problem(
            410,
            "Link replaced",
            "The email address changed since this link was sent, so it no longer works. "
            "Ask for a fresh link to the new address: POST /v1/links.",
            reason="replaced",
        )
    title = "Link expired" if exc.reason == "expired" else "Link already used"
    return Problem(410, title, "Ask for a fresh link by email: POST /v1/links.", reason=exc.reason)


_optional_bearer = HTTPBearer(auto_error=False)


async def optional_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)]
) -> Principal | None:
    """The caller of a public route that an organisation's system may also call with its
    token: None without one; a bad token is refused as anywhere else (401)."""
    if credentials is None:
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


Public = Annotated[None, Depends(public_limit)]
Caller = Annotated[Principal | None, Depends(optional_caller)]
Reader = Annotated[Principal, Depends(require_scope("members:read"))]
Manager = Annotated[Principal, Depends(require_scope("members:manage", rate_limited=True))]
Publisher = Annotated[Principal, Depends(require_scope("opportunities:write", rate_limited=True))]
LinkToken = Annotated[str, Query(min_length=10, max_length=2000, description="The token of your signed link")]
