from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret"}


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    database_url: str = "sqlite+aiosqlite:///.state/notification.db"
    http_port: int = 8003
    # Where people reach notification's own pages (unsubscribe, preview, mailbox).
    public_base_url: str = "http://127.0.0.1:8003"
    # Signs unsubscribe links (itsdangerous). Rotating it invalidates links in flight.
    link_secret: SecretStr = SecretStr("dev-only-notification-link-secret-0123456789")
    unsubscribe_link_days: int = 365

    # The SMTP relay.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_validate_certs: bool = True
    mail_from: str = "ICS Engagement Hub <engagement@ics-hub.local>"
    ics_name: str = "Northvale and Southdale Integrated Care System"

    # The sending worker.
    worker_batch_size: int = 20
    worker_idle_seconds: float = 1.0
    max_attempts: int = 5  # per email, for 4xx answers and timeouts before the message was handed over
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    relay_down_max_backoff_seconds: float = 60.0
    # A row left in 'sending' longer than this belonged to a worker that died mid-send.
    sending_lease_seconds: float = 300.0
    # How long an email waits for what it is about (a response, an opportunity) to arrive.
    content_wait_seconds: float = 600.0
    # A goodbye waits this long so that an erasure following a tombstone can say so.
    farewell_grace_seconds: float = 10.0
    org_rate_limit: str = "120/minute"  # per sending organisation
    relay_rate_limit: str = "600/minute"  # the relay as a whole

    # Digests and reminders (Europe/London wall-clock time).
    digest_hour: int = 8
    weekly_digest_weekday: int = 0  # Monday
    reminder_hours_before: int = 24

    # A folder of received mail (Maildir) shown at /mailbox; development only.
    mailbox_dir: str | None = None

    @field_validator("link_secret")
    @classmethod
    def _real_secret(cls, secret: SecretStr) -> SecretStr:
        value = secret.get_secret_value()
        if value.lower() in PLACEHOLDER_SECRETS or len(value) < 32:
            raise ValueError("NOTIFICATION_LINK_SECRET must be a random string of at least 32 characters")
        return secret
