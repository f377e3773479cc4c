"""Signing staff in with the organisation's OpenID Connect provider (Authlib's Starlette
client): authorization code flow with PKCE (S256), the ID token checked (signature, issuer,
audience, nonce), the person's claims mapped by the hub's claim mapping
(``hub_shared.identity``) to one organisation and its scopes. The tokens stay in the
server-side session; the access token is refreshed before it expires when the provider
gave a refresh token. Sign-out ends the session here and at the provider
(RP-initiated logout) where it offers ``end_session_endpoint``."""

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App
from fastapi import Depends, Request

from console import sessions
from console.settings import ConsoleSettings
from hub_shared.auth import SCOPES
from hub_shared.identity import ClaimMappingError, map_claims
from hub_shared.organisations import Kind, reference

PROVIDER = "idp"


def provider_client(settings: ConsoleSettings) -> StarletteOAuth2App:
    oauth = OAuth()
    assert settings.identity_provider.issuer
    client: StarletteOAuth2App = oauth.register(
        PROVIDER,
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value() if settings.client_secret else None,
        server_metadata_url=settings.identity_provider.discovery_url,
        client_kwargs={
            "scope": settings.oidc_scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_post" if settings.client_secret else "none",
            "timeout": 15,
        },
    )
    return client


class SignInRequired(Exception):
    """The page needs a signed-in person: the handler sends them to /sign-in and back."""


class SignInRefused(Exception):
    """The provider signed the person in but the hub cannot let them act (why, in words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StaffUser:
    """Who is signed in, as the console shows it. What they may do is decided by the APIs
    from their access token; the console uses scopes only to choose what to offer."""

    subject: str
    name: str
    organisation: str
    scopes: frozenset[str]
    roles: tuple[str, ...]

    @property
    def organisation_name(self) -> str:
        found = reference().get(self.organisation)
        return found.name if found else self.organisation

    @property
    def kind(self) -> str:
        found = reference().get(self.organisation)
        return found.kind.value if found else "organisation"

    @property
    def acts_for(self) -> list[tuple[str, str]]:
        """The organisations this person acts for: their own and everything under it (code, name)."""
        organisations = reference()
        codes = [self.organisation, *organisations.descendants(self.organisation)]
        out = []
        for code in dict.fromkeys(codes):
            found = organisations.get(code)
            if found is not None and (found.successor is None or code == self.organisation):
                out.append((code, found.name))
        return out

    @property
    def what_they_may_do(self) -> list[str]:
        return [SCOPES.get(scope, scope) for scope in sorted(self.scopes)]

    def may(self, scope: str) -> bool:
        return scope in self.scopes

    @classmethod
    def of(cls, request: Request) -> "StaffUser | None":
        user = request.session.get("user")
        if not user:
            return None
        return cls(
            subject=user["subject"],
            name=user["name"],
            organisation=user["organisation"],
            scopes=frozenset(user["scopes"]),
            roles=tuple(user["roles"]),
        )


def safe_next(target: str | None) -> str:
    """Only a path on the console itself (never //host or a full URL) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


async def complete_sign_in(request: Request, client: StarletteOAuth2App, settings: ConsoleSettings) -> str:
    """The provider's answer at the callback: the session of a signed-in person (a new
    session id), and where to go next. Raises SignInRefused with the reason to show."""
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        raise SignInRefused(f"The identity provider did not sign you in ({exc.error}: {exc.description}).") from exc
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise SignInRefused("The identity provider sent no ID token.")
    try:
        staff = map_claims(claims, settings.identity_provider)
    except ClaimMappingError as exc:
        raise SignInRefused(f"Your account does not say which organisation you work for: {exc}.") from exc
    organisation = reference().get(staff.organisation)
    if organisation is None:
        raise SignInRefused(f"Your organisation ({staff.organisation}) is not part of this ICS.")
    if organisation.kind not in (Kind.ICB, Kind.PLACE, Kind.PRACTICE):
        raise SignInRefused(f"{organisation.name} cannot use the hub.")
    if not staff.scopes:
        raise SignInRefused(
            "Your account has no role in the hub. Ask your organisation's administrator for one "
            f"({', '.join(sorted(settings.identity_provider.role_scopes))})."
        )
    next_path = safe_next(request.session.get("next"))
    request.session.clear()
    request.session.update(
        {
            "user": {
                "subject": staff.subject,
                "name": staff.name,
                "organisation": staff.organisation,
                "scopes": sorted(staff.scopes),
                "roles": list(staff.roles),
            },
            "tokens": _kept(token),
            "csrf": secrets.token_urlsafe(32),
        }
    )
    sessions.renew(request)
    return next_path


def _kept(token: dict[str, Any]) -> dict[str, Any]:
    expires_at = token.get("expires_at") or (time.time() + float(token.get("expires_in") or 300))
    return {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token"),
        "id_token": token.get("id_token"),
        "expires_at": float(expires_at),
    }


async def access_token(request: Request) -> str:
    """The signed-in person's access token, refreshed first if it is about to expire. A token
    that cannot be refreshed ends the session: the person signs in again."""
    tokens = request.session.get("tokens")
    if not request.session.get("user") or not tokens:
        raise SignInRequired
    settings: ConsoleSettings = request.app.state.settings
    if tokens["expires_at"] - settings.token_refresh_leeway_seconds > time.time():
        return str(tokens["access_token"])
    if not tokens.get("refresh_token"):
        sessions.end(request)
        raise SignInRequired
    client: StarletteOAuth2App = request.app.state.oauth
    try:
        fresh = await client.fetch_access_token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    except Exception as exc:  # the provider refused or is unreachable: sign in again
        sessions.end(request)
        raise SignInRequired from exc
    kept = _kept(fresh)
    kept["refresh_token"] = kept["refresh_token"] or tokens["refresh_token"]
    kept["id_token"] = kept["id_token"] or tokens.get("id_token")
    request.session["tokens"] = kept
    return str(kept["access_token"])


async def sign_out_url(request: Request, client: StarletteOAuth2App, settings: ConsoleSettings) -> str:
    """Where to send the browser after the local session ended: the provider's end-session
    endpoint (with the ID token as a hint) when it has one, else the signed-out page."""
    signed_out = f"{settings.public_url}/signed-out"
    id_token = (request.session.get("tokens") or {}).get("id_token")
    try:
        metadata = await client.load_server_metadata()
    except Exception:
        return signed_out
    if not metadata.get("end_session_endpoint"):
        return signed_out
    result = await client.create_logout_url(
        post_logout_redirect_uri=signed_out, id_token_hint=id_token, client_id=settings.client_id
    )
    return str(result["url"])


def signed_in(request: Request) -> StaffUser:
    """Dependency of every page for staff: the signed-in person, or off to sign in."""
    user = StaffUser.of(request)
    if user is None:
        raise SignInRequired
    return user


SignedIn = Annotated[StaffUser, Depends(signed_in)]
