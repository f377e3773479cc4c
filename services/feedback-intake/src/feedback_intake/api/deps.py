"""Who may call a route: the bearer token's principal, with the scope the route needs
(writes are rate-limited per organisation)."""

from typing import Annotated

from fastapi import Depends

from hub_shared.auth import Principal, require_scope

Writer = Annotated[Principal, Depends(require_scope("feedback:write", rate_limited=True))]
Reader = Annotated[Principal, Depends(require_scope("feedback:read"))]
Reviewer = Annotated[Principal, Depends(require_scope("feedback:review", rate_limited=True))]
Responder = Annotated[Principal, Depends(require_scope("responses:write", rate_limited=True))]
