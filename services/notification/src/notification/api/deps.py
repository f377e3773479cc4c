"""What every route of the API shares: the problem responses it documents, the scopes a
caller needs, and which organisations a caller asked for."""

from typing import Annotated, Any

from fastapi import Depends

from hub_shared.auth import Principal, require_scope
from hub_shared.authorisation import authorise
from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE

PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (400, 401, 403, 404, 422)}


Reader = Annotated[Principal, Depends(require_scope("notifications:read"))]
Manager = Annotated[Principal, Depends(require_scope("notifications:manage"))]


def authority(principal: Principal, organisation_code: str | None) -> list[str]:
    """The organisations whose emails the caller asked for: the one named (default its own)
    and everything under it."""
    return reference().descendants(authorise(principal, organisation_code or principal.organisation))
