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
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.signin import SignInRequired

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


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every response."""

    def __init__(self, app: ASGIApp, *, provider_origin: str, https: bool) -> None:
        self.app = app
        self.provider_origin = provider_origin
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope[NONCE_KEY] = nonce
        policy = "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' 'nonce-{nonce}'",
                "style-src 'self'",
                "img-src 'self' data:",
                "font-src 'self'",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'self'",
                f"form-action 'self' {self.provider_origin}".strip(),
                "frame-ancestors 'none'",
            ]
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                added = [
                    (b"content-security-policy", policy.encode()),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if self.https:
                    added.append((b"strict-transport-security", b"max-age=31536000"))
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"cache-control" not in names:
                    added.append((b"cache-control", b"no-store"))
                message["headers"] = headers + [(k, v) for k, v in added if k not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)
