"""Bearer JWT verification, as tokens from an external identity provider would arrive for
OAuth2 client credentials: RS256, checked for issuer, audience and expiry, naming the
organisation (``org``, an ODS code) and the scopes (``scope``, space-separated). Keys
come from a JWKS file or URL. Development keys and tokens come from ``hub token``.

A second issuer is trusted when ``HUB_IDP_ISSUER`` is set: the organisation's OpenID Connect
provider, whose access tokens staff send through the console. Its keys come from discovery
(``jwks_uri``), its issuer and audience (``HUB_IDP_AUDIENCE``) are checked, and its claims
become the same ``Principal`` through the claim mapping (``identity.py``)."""

import functools
import json
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub_shared.identity import ClaimMappingError, IdentityProviderSettings, map_claims
from hub_shared.problems import Problem

ALGORITHMS = ["RS256"]
# What organisations' providers sign with (Entra ID and Keycloak RS256; others RS512, PS or
# EC): asymmetric only, never "none" or a shared secret.
PROVIDER_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
SCOPES = {
    "feedback:write": "post feedback for your organisation",
    "feedback:read": "read your organisation's feedback",
    "feedback:review": "work the safeguarding and complaint review queue",
    "responses:write": "publish 'you said, we did' responses",
    "reports:read": "read reports for your organisation",
    "reports:publish": "publish a closed month's report snapshot (the ICB)",
    "members:read": "see your area's members (never their contact details), groups and opportunities",
    "members:manage": "manage your groups and their members, import PPG lists",
    "opportunities:write": "publish engagement opportunities and record attendance",
    "notifications:read": "see the emails sent for your organisation and what became of them (never addresses)",
    "notifications:manage": "brand your organisation's emails and preview templates",
}


@dataclass(frozen=True)
class Principal:
    organisation: str
    scopes: frozenset[str]
    subject: str


def _invalid(detail: str) -> Problem:
    return Problem(401, "Invalid token", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class IdentityProviderTokens:
    """Access tokens a person's OpenID Connect provider issued: keys from its discovery
    document's ``jwks_uri`` (fetched when first needed, refreshed when a token names a key
    not yet seen), issuer and audience checked, claims mapped to a ``Principal``."""

    def __init__(self, settings: IdentityProviderSettings) -> None:
        if not settings.issuer:
            raise ValueError("HUB_IDP_ISSUER is not set")
        self.settings = settings
        self.issuer = settings.issuer
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def _keys(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._jwks is None:
                jwks_url = self.settings.jwks_url
                if not jwks_url:
                    try:
                        with urllib.request.urlopen(self.settings.discovery_url, timeout=10) as response:
                            jwks_url = json.load(response)["jwks_uri"]
                    except (OSError, ValueError, KeyError) as exc:
                        raise Problem(
                            503,
                            "Identity provider unavailable",
                            f"Its discovery document ({self.settings.discovery_url}) could not be read: {exc}",
                            headers={"Retry-After": "5"},
                        ) from exc
                self._jwks = jwt.PyJWKClient(str(jwks_url), cache_keys=True, lifespan=300)
            return self._jwks

    def decode(self, token: str) -> tuple[Principal, float]:
        try:
            key = self._keys().get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise Problem(
                503, "Identity provider unavailable", f"Its keys could not be read: {exc}", headers={"Retry-After": "5"}
            ) from exc
        except jwt.PyJWTError as exc:
            raise _invalid(str(exc)) from exc
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=PROVIDER_ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
            staff = map_claims(claims, self.settings)
        except jwt.PyJWTError as exc:
            raise _invalid(str(exc)) from exc
        except ClaimMappingError as exc:
            raise _invalid(f"The identity provider's claims do not say whom you act for: {exc}") from exc
        return Principal(organisation=staff.organisation, scopes=staff.scopes, subject=staff.subject), float(
            claims["exp"]
        )


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_path: Path | None = None,
        jwks_url: str | None = None,
        identity_provider: IdentityProviderSettings | None = None,
    ) -> None:
        if jwks_path is None and jwks_url is None:
            raise ValueError("no token keys configured: set HUB_JWKS_PATH (a JWKS file) or HUB_JWKS_URL")
        self._issuer = issuer
        self._audience = audience
        # Staff sign-in: the organisation's provider, trusted beside the machine clients' issuer.
        self._provider = (
            IdentityProviderTokens(identity_provider) if identity_provider and identity_provider.issuer else None
        )
        self._url_client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        self._keyset = jwt.PyJWKSet.from_json(jwks_path.read_text()) if jwks_path else None
        # RSA verification costs ~0.6 ms; a client sends one token many times until it
        # expires. Only tokens that verified are kept (errors are not cached), bounded.
        self._verified = functools.lru_cache(maxsize=4096)(self._decode)

    def _key_for(self, token: str) -> Any:
        if self._url_client is not None:
            return self._url_client.get_signing_key_from_jwt(token).key
        assert self._keyset is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keyset.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidKeyError(f"no key with id {kid!r}")

    def verify(self, token: str) -> Principal:
        principal, expires = self._verified(token)
        if expires <= time.time():
            raise Problem(
                401,
                "Invalid token",
                "Signature has expired",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        if self._provider is not None and self._issued_by_provider(token):
            return self._provider.decode(token)
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud", "org"]},
            )
        except jwt.PyJWTError as exc:
            raise Problem(
                401, "Invalid token", str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            ) from exc
        principal = Principal(
            organisation=str(claims["org"]).upper(),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            subject=str(claims.get("sub", "")),
        )
        return principal, float(claims["exp"])

    def _issued_by_provider(self, token: str) -> bool:
        """Which issuer's keys to try, from the (not yet verified) ``iss``: the signature,
        issuer and audience are then checked against that issuer's own keys and settings."""
        assert self._provider is not None
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return unverified.get("iss") == self._provider.issuer and self._provider.issuer != self._issuer


_bearer = HTTPBearer(auto_error=False)


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise Problem(
            401,
            "Authentication required",
            "Send a bearer token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


class ScopedBearer(HTTPBearer):
    """The caller's principal, if its bearer token has ``scope``; with ``rate_limited``, the
    write also counts against its organisation's limit (the app's ``state.rate_limit``).
    One dependency doing what three nested ones did (FastAPI resolves each per request);
    OpenAPI still shows the HTTPBearer scheme."""

    def __init__(self, scope: str, *, rate_limited: bool = False) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer")
        self.scope = scope
        self.rate_limited = rate_limited

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        return await self.admit(request, await authenticate(request, await super().__call__(request)))

    async def admit(self, request: Request, principal: Principal) -> Principal:
        """Check an already authenticated principal (a caller with its own way to the token)."""
        if self.scope not in principal.scopes:
            raise Problem(403, "Missing scope", f"This call needs the '{self.scope}' scope.")
        if self.rate_limited:
            await request.app.state.rate_limit.check(principal.organisation)
        return principal


def require_scope(scope: str, *, rate_limited: bool = False) -> ScopedBearer:
    return ScopedBearer(scope, rate_limited=rate_limited)


# ---- development keys and tokens (the CLI's `hub token`) ----


@dataclass(frozen=True)
class DevKeys:
    directory: Path

    @property
    def private_key_path(self) -> Path:
        return self.directory / "private.pem"

    @property
    def jwks_path(self) -> Path:
        return self.directory / "jwks.json"

    def ensure(self) -> "DevKeys":
        if self.private_key_path.exists() and self.jwks_path.exists():
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.private_key_path.chmod(0o600)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        public.update({"kid": "dev-1", "use": "sig", "alg": "RS256"})
        self.jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))
        return self

    def issue(
        self, *, organisation: str, scopes: list[str], issuer: str, audience: str, ttl_seconds: int = 3600
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": f"dev-client-{organisation.lower()}",
            "org": organisation.upper(),
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(
            claims,
            _signing_key(self.private_key_path, self.private_key_path.stat().st_mtime_ns),
            algorithm="RS256",
            headers={"kid": "dev-1"},
        )


@functools.cache
def _signing_key(path: Path, version: int) -> rsa.RSAPrivateKey:
    """The development private key, loaded once per file ``version`` (its modification time):
    loading a PEM checks the key, which costs a hundred times more than signing with it."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key
