"""The claim mapping (organisation and scopes from an OpenID Connect provider's claims) and
the APIs' acceptance of a provider's access tokens beside the machine clients' tokens. The
provider's discovery document and keys are served by a plain HTTP file server here; the
console's tests run the same against the real provider (deploy/oidc.sh)."""

import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

from hub_shared.auth import DevKeys, TokenVerifier
from hub_shared.identity import ClaimMappingError, IdentityProviderSettings, claim_values, map_claims
from hub_shared.problems import Problem

HUB_ISSUER, HUB_AUDIENCE = "https://auth.ics-hub.local", "ics-engagement-hub"


def test_entra_style_roles_give_their_scopes() -> None:
    staff = map_claims(
        {"sub": "s1", "name": "Ben", "org": "01a", "roles": ["hub-engagement-officer", "unrelated"]},
        IdentityProviderSettings(),
    )
    assert staff.organisation == "01A"
    assert "opportunities:write" in staff.scopes and "reports:publish" not in staff.scopes
    assert staff.roles == ("hub-engagement-officer", "unrelated")
    assert staff.name == "Ben"


def test_keycloak_realm_roles_by_a_dotted_path() -> None:
    settings = IdentityProviderSettings(roles_claim="realm_access.roles", organisation_claim="ods")
    staff = map_claims({"sub": "k", "ods": "P81001", "realm_access": {"roles": ["hub-analyst"]}}, settings)
    assert (staff.organisation, "reports:read" in staff.scopes) == ("P81001", True)


def test_cis2_style_role_objects_and_custom_role_codes() -> None:
    settings = IdentityProviderSettings(
        organisation_claim="nhsid_nrbac_roles.org_code",
        roles_claim="nhsid_nrbac_roles.role_code",
        role_scopes={"S8000:G8000:R8000": ["feedback:read"]},
    )
    claims = {"sub": "c", "nhsid_nrbac_roles": [{"org_code": "P81002", "role_code": "S8000:G8000:R8000"}]}
    staff = map_claims(claims, settings)
    assert staff.organisation == "P81002" and staff.scopes == {"feedback:read"}


def test_entra_groups_translated_to_organisations() -> None:
    settings = IdentityProviderSettings(
        organisation_claim="groups", organisation_values={"6f1e-guid": "02B"}, roles_claim="roles"
    )
    staff = map_claims({"sub": "e", "groups": ["other-guid", "6f1e-guid"], "roles": ["hub-analyst"]}, settings)
    assert staff.organisation == "02B"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"sub": "x", "roles": ["hub-analyst"]}, "names no organisation"),
        ({"sub": "x", "org": ["01A", "02B"], "roles": ["hub-analyst"]}, "several organisations"),
        ({"sub": "x", "org": "", "roles": []}, "names no organisation"),
    ],
)
def test_claims_that_do_not_name_one_organisation_are_refused(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(ClaimMappingError, match=message):
        map_claims(claims, IdentityProviderSettings())


def test_roles_not_in_the_map_grant_nothing_and_the_scope_claim_grants_nothing() -> None:
    claims = {"sub": "x", "org": "01A", "roles": "admin", "scope": "reports:read"}
    staff = map_claims(claims, IdentityProviderSettings())
    assert staff.scopes == frozenset()


def test_space_separated_values() -> None:
    assert claim_values({"roles": "a b"}, "roles") == ["a", "b"]
    assert claim_values({"sub": "a b"}, "sub", split=False) == ["a b"]


@dataclass
class Provider:
    keys: DevKeys
    settings: IdentityProviderSettings
    issuer: str


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    """A provider's signing key, its discovery document and JWKS served over HTTP on loopback."""
    keys = DevKeys(tmp_path / "idp").ensure()
    root = tmp_path / "www"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    issuer = f"http://127.0.0.1:{server.server_address[1]}/realms/demo"
    well_known = root / "realms" / "demo" / ".well-known"
    well_known.mkdir(parents=True)
    (well_known / "jwks.json").write_text(keys.jwks_path.read_text())
    (well_known / "openid-configuration").write_text(
        json.dumps({"issuer": issuer, "jwks_uri": f"{issuer}/.well-known/jwks.json"})
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Provider(keys, IdentityProviderSettings(issuer=issuer, audience="api://ics-hub"), issuer)
    server.shutdown()
    server.server_close()


def staff_token(provider: Provider, keys: DevKeys | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "aud": ["ics-hub-console", "api://ics-hub"],
        "sub": "place-officer",
        "org": "01A",
        "roles": ["hub-engagement-officer"],
        "scope": "openid profile",
        "iat": now,
        "exp": now + 300,
        **overrides,
    }
    signer = (keys or provider.keys).private_key_path.read_bytes()
    return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": "dev-1"})


def verifier_with(machine: DevKeys, settings: IdentityProviderSettings) -> TokenVerifier:
    return TokenVerifier(
        issuer=HUB_ISSUER, audience=HUB_AUDIENCE, jwks_path=machine.jwks_path, identity_provider=settings
    )


def test_a_persons_access_token_and_a_machine_token_are_both_accepted(tmp_path: Path, provider: Provider) -> None:
    machine = DevKeys(tmp_path / "machine").ensure()
    verifier = verifier_with(machine, provider.settings)
    person = verifier.verify(staff_token(provider))
    assert (person.organisation, person.subject) == ("01A", "place-officer")
    assert "opportunities:write" in person.scopes and "openid" not in person.scopes
    client = verifier.verify(
        machine.issue(organisation="P81001", scopes=["feedback:write"], issuer=HUB_ISSUER, audience=HUB_AUDIENCE)
    )
    assert client.scopes == {"feedback:write"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aud": "ics-hub-console"}, "audience"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"org": ["01A", "02B"]}, "several organisations"),
        ({"org": None}, "no organisation"),
    ],
)
def test_a_persons_token_failing_a_check_is_401(
    tmp_path: Path, provider: Provider, overrides: dict[str, Any], message: str
) -> None:
    verifier = verifier_with(DevKeys(tmp_path / "machine").ensure(), provider.settings)
    with pytest.raises(Problem) as caught:
        verifier.verify(staff_token(provider, **overrides))
    assert caught.value.status == 401
    assert message in (caught.value.detail or "").lower()


def test_a_token_claiming_the_providers_issuer_but_signed_by_another_key_is_refused(
    tmp_path: Path, provider: Provider
) -> None:
    verifier = verifier_with(DevKeys(tmp_path / "machine").ensure(), provider.settings)
    forged = staff_token(provider, keys=DevKeys(tmp_path / "stranger").ensure())
    with pytest.raises(Problem) as caught:
        verifier.verify(forged)
    assert caught.value.status == 401


def test_an_unreachable_provider_is_503_not_401(tmp_path: Path, provider: Provider) -> None:
    settings = IdentityProviderSettings(issuer=provider.issuer + "-gone", audience="api://ics-hub")
    verifier = verifier_with(DevKeys(tmp_path / "machine").ensure(), settings)
    with pytest.raises(Problem) as caught:
        verifier.verify(staff_token(provider, iss=settings.issuer))
    assert caught.value.status == 503
