"""What every route of the API shares: the problem responses it documents, the scopes a
caller needs, and which organisations a caller asked for."""

from typing import Annotated, Any

from fastapi import Depends, Path, Query

from hub_shared.auth import Principal, require_scope
from hub_shared.authorisation import authorise
from hub_shared.organisations import describe_code, reference
from hub_shared.problems import MEDIA_TYPE

PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (400, 401, 403, 404, 422)}


Reader = Annotated[Principal, Depends(require_scope("notifications:read"))]
Manager = Annotated[Principal, Depends(require_scope("notifications:manage"))]
Organisation = Annotated[str, Path(json_schema_extra=describe_code)]
OrganisationFilter = Annotated[str | None, Query(json_schema_extra=describe_code, description="Default: yours")]


def authority(principal: Principal, organisation_code: str | None) -> list[str]:
    """The organisations whose emails the caller asked for: the one named (default its own)
    and everything under it."""
    # Only an absent code means the caller's own: an empty one is no organisation (422).
    code = principal.organisation if organisation_code is None else organisation_code
    return reference().descendants(authorise(principal, code))
