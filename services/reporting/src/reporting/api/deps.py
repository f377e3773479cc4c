"""What every reporting route shares: the reader's authentication (bearer token, or the
dashboard's sign-in cookie for CSV downloads), path and query parameters, and the problem
responses the OpenAPI document lists. Every figure is published under the rule set
nhse-fft-v1 and passes the disclosure audit (counts of 1 to 4 people, and whatever would
reveal them, are "*")."""

from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from hub_shared.auth import Principal, TokenVerifier, authenticate, require_scope
from hub_shared.problems import MEDIA_TYPE
from reporting.schemas import MONTH, ODS

COOKIE = "hub_token"
PREFIX = "/v1/reports"
TAGS: list[str | Enum] = ["reports"]
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (401, 403, 404, 409, 422)}


Reader = Annotated[Principal, Depends(require_scope("reports:read"))]
_cookie = APIKeyCookie(name=COOKIE, auto_error=False, description="The dashboard's sign-in cookie")


async def csv_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """A download is read with the bearer token, or from the dashboard with its sign-in cookie
    (HttpOnly, SameSite=Strict, so another site cannot make the browser use it)."""
    if credentials is None and cookie is None:
        return await require_scope("reports:read").admit(request, await authenticate(request, None))
    token = credentials.credentials if credentials is not None else str(cookie)
    verifier: TokenVerifier = request.app.state.token_verifier
    return await require_scope("reports:read").admit(request, verifier.verify(token))


CsvReader = Annotated[Principal, Depends(csv_reader)]
Org = Annotated[str, Path(pattern=ODS, description="ODS code: a practice, a place or the ICB")]
Month = Annotated[str | None, Query(pattern=MONTH, description="YYYY-MM; default all months")]
