"""What every reporting route shares: the reader's authentication (a bearer token, for the
JSON and the CSV alike), path and query parameters, and the problem responses the OpenAPI
document lists. Every figure is published under the rule set nhse-fft-v1 and passes the
disclosure audit (counts of 1 to 4 people, and whatever would reveal them, are "*")."""

from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from hub_shared.auth import Principal, require_scope
from hub_shared.problems import MEDIA_TYPE
from reporting.schemas import MONTH, ODS

PREFIX = "/v1/reports"
TAGS: list[str | Enum] = ["reports"]
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (401, 403, 404, 409, 422)}


Reader = Annotated[Principal, Depends(require_scope("reports:read"))]
Org = Annotated[str, Path(pattern=ODS, description="ODS code: a practice, a place or the ICB")]
Month = Annotated[str | None, Query(pattern=MONTH, description="YYYY-MM; default all months")]
