"""Staff identities from the organisation's OpenID Connect provider: which organisation a
signed-in person acts for and what they may do, from the provider's claims.

One mapping, used by the four APIs (to accept the person's access token, ``auth.py``) and by
the staff console (to show who is signed in): configured once with ``HUB_IDP_*`` variables.

* ``HUB_IDP_ISSUER``: the provider's issuer URL (discovery at
  ``<issuer>/.well-known/openid-configuration``). Unset: the APIs accept no staff tokens.
* ``HUB_IDP_AUDIENCE``: the audience the APIs require on a person's access token.
* ``HUB_IDP_ORGANISATION_CLAIM``: the claim naming the organisation (an ODS code), a dotted
  path into nested claims; a list of objects is looked into element by element
  (``nhsid_nrbac_roles.org_code``). Default ``org``.
* ``HUB_IDP_ORGANISATION_VALUES``: optional JSON map from claim values to ODS codes, for
  providers that name organisations by something else (Entra ID group object ids). When set,
  values not in it are ignored.
* ``HUB_IDP_ROLES_CLAIM``: the claim carrying roles or groups, dotted as above (``roles``:
  Entra ID app roles; ``realm_access.roles`` or ``groups``: Keycloak;
  ``nhsid_nrbac_roles.role_code``: CIS2). Default ``roles``.
* ``HUB_IDP_ROLE_SCOPES``: JSON map from a role (or group) value to the hub scopes it grants.
  Only mapped roles grant anything; the provider's own ``scope`` claim grants nothing.
* ``HUB_IDP_SUBJECT_CLAIM`` (``sub``; ``oid`` for Entra ID) and ``HUB_IDP_NAME_CLAIM``
  (``name``) say who the person is, for logs and pages.

A person acts for exactly one organisation per sign-in: a token whose organisation claim
gives none or several (after ``HUB_IDP_ORGANISATION_VALUES``) is refused."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ANALYST = ["reports:read", "feedback:read", "notifications:read", "members:read"]
ENGAGEMENT = [
    "feedback:read",
    "feedback:review",
    "responses:write",
    "members:read",
    "members:manage",
    "opportunities:write",
    "notifications:read",
    "notifications:manage",
    "reports:read",
]
# The hub's roles as an ICS would define them in its provider (Entra ID app roles, Keycloak
# client or realm roles, groups): role value -> scopes. Override with HUB_IDP_ROLE_SCOPES.
DEFAULT_ROLE_SCOPES: dict[str, list[str]] = {
    "hub-analyst": ANALYST,
    "hub-engagement-officer": ENGAGEMENT,
    "hub-practice-manager": [*ENGAGEMENT, "feedback:write"],
    "hub-engagement-lead": [*ENGAGEMENT, "feedback:write", "reports:publish"],
}


class ClaimMappingError(ValueError):
    """The provider's claims do not say (unambiguously) who the person acts for."""


class IdentityProviderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_IDP_", extra="ignore", env_file=None)

    issuer: str | None = None
    audience: str = "ics-engagement-hub"
    # Where the keys are when discovery should not be used (rare): otherwise discovery's jwks_uri.
    jwks_url: str | None = None
    organisation_claim: str = "org"
    organisation_values: dict[str, str] = Field(default_factory=dict)
    roles_claim: str = "roles"
    role_scopes: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_ROLE_SCOPES))
    subject_claim: str = "sub"
    name_claim: str = "name"

    @property
    def discovery_url(self) -> str:
        assert self.issuer, "HUB_IDP_ISSUER is not set"
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class StaffClaims:
    """What the mapping makes of a person's claims."""

    organisation: str
    scopes: frozenset[str]
    subject: str
    name: str
    roles: tuple[str, ...]


def claim_values(claims: Mapping[str, Any], path: str, *, split: bool = True) -> list[str]:
    """Every value at a dotted path: ``a.b`` looks into ``claims["a"]["b"]``, into each element
    when ``claims["a"]`` is a list. With ``split``, a space-separated string is several values
    (roles sent as ``"r1 r2"``, as OAuth's ``scope`` is)."""
    current: list[Any] = [claims]
    for step in path.split("."):
        found: list[Any] = []
        for value in current:
            if isinstance(value, Mapping) and step in value:
                found.append(value[step])
        current = list(_flatten(found))
    out: list[str] = []
    for value in current:
        if isinstance(value, str):
            out.extend(value.split() if split else [value])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append(str(value))
    return out


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, list | tuple):
            yield from value
        else:
            yield value


def map_claims(claims: Mapping[str, Any], settings: IdentityProviderSettings) -> StaffClaims:
    """The organisation and scopes a person's claims give, by the configured mapping."""
    raw = claim_values(claims, settings.organisation_claim)
    if settings.organisation_values:
        raw = [settings.organisation_values[v] for v in raw if v in settings.organisation_values]
    organisations = sorted({v.strip().upper() for v in raw if v.strip()})
    if not organisations:
        raise ClaimMappingError(f"the claim '{settings.organisation_claim}' names no organisation")
    if len(organisations) > 1:
        raise ClaimMappingError(
            f"the claim '{settings.organisation_claim}' names several organisations ({', '.join(organisations)}); "
            "sign in for one at a time"
        )
    roles = tuple(dict.fromkeys(claim_values(claims, settings.roles_claim)))
    scopes = frozenset(scope for role in roles for scope in settings.role_scopes.get(role, ()))
    subject = next(iter(claim_values(claims, settings.subject_claim, split=False)), "") or str(claims.get("sub", ""))
    name = str(claims.get(settings.name_claim) or claims.get("preferred_username") or subject)
    return StaffClaims(organisation=organisations[0], scopes=scopes, subject=subject, name=name, roles=roles)
