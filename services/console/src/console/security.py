"""What protects every page: a cross-site request forgery check on every form, and the
security headers on every response.

**Forms.** Every POST (PUT, PATCH, DELETE) must come from the console's own pages: its
``Origin`` (or, where a browser sends none, its ``Referer``) must be the console's own
origin, and its ``csrf_token`` field (or ``X-CSRF-Token`` header) must be the token bound
to the session at sign-in (a synchronizer token). The check is an app-wide dependency, so
a new page's form is protected without doing anything; put ``{{ csrf_field() }}`` in it.

**Headers.** A Content-Security-Policy allowing only the console's own scripts, styles and
images (plus the one inline script NHS.UK's template needs, by nonce), forms posting only
to the console or the identity provider (sign-in and sign-out redirect there), no framing
(``frame-ancestors 'none'``); ``Referrer-Policy: same-origin``;
``X-Content-Type-Options: nosniff``; ``Cache-Control: no-store`` on pages (a person's data
stays out of shared caches and the back button after sign-out)."""

import hmac
from urllib.parse import urlsplit

from fastapi import Request
from starlette.types import ASGIApp

from console.signin import SignInRequired
from hub_shared import web

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
NONCE_KEY = "console.csp_nonce"


class ForgedRequest(Exception):
    """A form that did not come from the console's own page for this session."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


async def protect_forms(request: Request) -> None:
    """App-wide dependency: refuses a state-changing request that is not from our own form."""
    if request.method in SAFE_METHODS:
        return
    own = request.app.state.settings.origin
    origin = request.headers.get("origin")
    if origin is not None:
        if origin != own:
            raise ForgedRequest(f"it was sent from {origin}")
    else:
        referer = request.headers.get("referer")
        if not referer or _origin_of(referer) != own:
            raise ForgedRequest("the browser did not say which page sent it")
    expected = request.session.get("csrf")
    if not request.session.get("user") or not expected:
        raise SignInRequired
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given, expected):
        raise ForgedRequest("its form token does not match your session")


def csp_nonce(request: Request) -> str:
    return str(request.scope.get(NONCE_KEY, ""))


class SecurityHeaders(web.SecurityHeaders):
    """The hub's security headers (``hub_shared.web``) with the console's policy: its own
    scripts and the one inline script by nonce, its own styles only, forms posting to the
    console or the identity provider."""

    def __init__(self, app: ASGIApp, *, provider_origin: str, https: bool) -> None:
        policy = {
            **web.PAGE_POLICY,
            "style-src": "'self'",
            "form-action": f"'self' {provider_origin}".strip(),
        }
        super().__init__(app, policy=policy, docs_paths=(), nonce_key=NONCE_KEY, https=https)
