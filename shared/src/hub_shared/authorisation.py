"""May this caller act for this organisation? The one check every API, page and the Kafka
ingress asks, with one answer each way: a code that is no organisation of this ICS is
``422`` naming the field (type ``unknown_organisation``); one the caller may not act for
is ``403`` (type ``forbidden``). A practice acts for itself, a place for itself and its
practices, the ICB for everyone (``Organisations.may_act_for``)."""

from hub_shared.auth import Principal
from hub_shared.organisations import Organisations, reference
from hub_shared.problems import Problem


class NotAuthorised(Problem):
    """Raised as a problem document by an API; a batch reads ``errors`` for its item."""

    def __init__(self, status: int, field: str, message: str) -> None:
        kind = "unknown_organisation" if status == 422 else "forbidden"
        self.errors = [{"field": field, "message": message, "type": kind}]
        title = "Unknown organisation" if status == 422 else "Not your organisation"
        super().__init__(status, title, message, errors=self.errors)


def _caller(caller: Principal | str) -> str:
    return (caller.organisation if isinstance(caller, Principal) else caller).upper()


def authorise(
    caller: Principal | str,
    code: str,
    *,
    field: str = "organisation_code",
    organisations: Organisations | None = None,
) -> str:
    """The organisation's code (upper case) when the caller may act for it; otherwise
    ``NotAuthorised`` (422 unknown, 403 not theirs)."""
    organisations = organisations or reference()
    found = organisations.get(code)
    if found is None:
        raise NotAuthorised(422, field, f"'{code}' is not an organisation of this ICS")
    who = _caller(caller)
    if not organisations.may_act_for(who, found.code):
        raise NotAuthorised(403, field, f"{who} may not act for {found.code}")
    return found.code


def may_see(caller: Principal | str, code: str | None, organisations: Organisations | None = None) -> bool:
    """Whether a row of organisation ``code`` is the caller's to see (a filter, not an error:
    rows of others are answered as not found)."""
    if code is None:
        return False
    return (organisations or reference()).may_act_for(_caller(caller), code)
