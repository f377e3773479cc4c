from urllib.parse import urlsplit

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    """The console's own settings (``CONSOLE_*``). The provider's issuer and the claim
    mapping are the hub's (``HUB_IDP_*``, ``hub_shared.identity``), shared with the APIs."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")

    service_name: str = "console"
    database_url: str = "sqlite+aiosqlite:///.state/console.db"
    http_port: int = 8005
    # Where people reach the console: redirect URI, Origin checks and cookies derive from it.
    public_url: str = "http://127.0.0.1:8005"

    # The console as a client of the organisation's OpenID Connect provider.
    client_id: str = "ics-hub-console"
    # No default: a confidential client needs its secret. CONSOLE_PUBLIC_CLIENT=true signs in
    # as a public client (PKCE alone), where the provider registers the console so.
    client_secret: SecretStr | None = None
    public_client: bool = False
    # What to ask the provider for. Entra ID: add your API's scope (api://<app>/hub.access)
    # and offline_access for refresh tokens; Keycloak issues refresh tokens unasked.
    oidc_scope: str = "openid profile email"

    # Fractions are allowed (a test waits seconds, not minutes).
    session_idle_minutes: float = 30
    session_absolute_hours: int = 10
    # Refresh the person's access token this long before it expires.
    token_refresh_leeway_seconds: int = 60
    # Cookies are Secure always (Chromium and Firefox keep Secure cookies from http://127.0.0.1
    # and http://localhost). For a browser that does not, on a loopback http address only:
    insecure_cookies_for_development: bool = False

    # The four APIs the console calls with the person's token.
    intake_url: str = "http://127.0.0.1:8001"
    membership_url: str = "http://127.0.0.1:8002"
    notification_url: str = "http://127.0.0.1:8003"
    reporting_url: str = "http://127.0.0.1:8004"
    api_timeout_seconds: float = 15.0

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def service_urls(self) -> dict[str, str]:
        return {
            "intake": self.intake_url,
            "membership": self.membership_url,
            "notification": self.notification_url,
            "reporting": self.reporting_url,
        }

    @model_validator(mode="after")
    def _complete(self) -> "ConsoleSettings":
        if not self.identity_provider.issuer:
            raise ValueError("HUB_IDP_ISSUER is not set: the console signs people in with an OpenID Connect provider")
        if self.client_secret is None and not self.public_client:
            raise ValueError("CONSOLE_CLIENT_SECRET is not set (or set CONSOLE_PUBLIC_CLIENT=true for a public client)")
        if self.insecure_cookies_for_development:
            parts = urlsplit(self.public_url)
            if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise ValueError("CONSOLE_INSECURE_COOKIES_FOR_DEVELOPMENT is for http://127.0.0.1 or localhost only")
        return self
