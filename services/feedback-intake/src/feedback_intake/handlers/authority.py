"""Who may act for which organisation."""

from hub_shared.organisations import Organisations
from hub_shared.problems import Problem


class AuthorityError(Exception):
    """The organisation is unknown (status 422) or not the caller's to act for (403)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [
            {"field": field, "message": message, "type": "unknown_organisation" if status == 422 else "forbidden"}
        ]

    def problem(self) -> Problem:
        title = "Unknown organisation" if self.status == 422 else "Not your organisation"
        return Problem(self.status, title, str(self), errors=self.errors)


def check_authority(
    organisations: Organisations, caller: str, organisation_code: str, field: str = "organisation_code"
) -> None:
    if organisations.get(organisation_code) is None:
        raise AuthorityError(422, field, f"'{organisation_code}' is not an organisation of this ICS")
    if not organisations.may_act_for(caller, organisation_code):
        raise AuthorityError(403, field, f"{caller} may not act for {organisation_code}")
