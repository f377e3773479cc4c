"""Who may see and manage what: a practice its own PPG and patients, a place its groups,
opportunities and the members registered at its practices, the ICB everything."""

from hub_shared.auth import Principal
from hub_shared.organisations import Kind, Organisations, reference
from hub_shared.problems import Problem


def check_may_act_for(principal: Principal, code: str, field: str = "organisation_code") -> None:
    organisations = reference()
    if organisations.get(code) is None:
        raise Problem(
            422,
            "Unknown organisation",
            f"'{code}' is not an organisation of this ICS",
            errors=[{"field": field, "message": f"'{code}' is not an organisation of this ICS", "type": "unknown"}],
        )
    if not organisations.may_act_for(principal.organisation, code):
        raise Problem(403, "Not your organisation", f"{principal.organisation} may not act for {code}")


def practices_under(code: str, organisations: Organisations | None = None) -> list[str]:
    organisations = organisations or reference()
    return [c for c in organisations.descendants(code) if (o := organisations.get(c)) and o.kind is Kind.PRACTICE]


def sees_practice(principal: Principal, practice_code: str) -> bool:
    return reference().may_act_for(principal.organisation, practice_code)
