"""The problem responses intake's routes document (RFC 9457), for their ``responses=``."""

from typing import Any

from hub_shared.problems import MEDIA_TYPE


def problem(description: str) -> dict[str, Any]:
    return {"content": {MEDIA_TYPE: {}}, "description": f"{description} (RFC 9457 problem details)"}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem("No bearer token, or one that is invalid or expired"),
    403: problem("The token lacks the scope, or your organisation may not act for this one"),
    404: problem("Not found, or not yours to see"),
    409: problem("A concurrent request changed the same data; retry"),
    422: problem("A field (or a query parameter or header) failed validation; each is named in `errors`"),
    429: problem("Your organisation's write rate was exceeded; see `Retry-After`"),
}
# Routes that take a body can also answer these.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: problem("The body could not be read as JSON (e.g. it is not UTF-8)"),
    413: problem("The body is over this route's size limit"),
}
