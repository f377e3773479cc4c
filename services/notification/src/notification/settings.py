from datetime import datetime
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings, development_mode


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    database_url: str = "sqlite+aiosqlite:///.state/notification.db"
    http_port: int = 8003
    # Where people reach notification's own pages (unsubscribe, preview, mailbox).
    public_base_url: str = "http://127.0.0.1:8003"
    # Signs unsubscribe links (itsdangerous). No default (hub_shared.settings): set it, or
    # NOTIFICATION_LINK_SECRET_FILE. To rotate, put the old one in _PREVIOUS until _PREVIOUS_UNTIL.
    link_secret: SecretStr | None = None
    link_secret_previous: SecretStr | None = None
    link_secret_previous_until: datetime | None = None
    unsubscribe_link_days: int = 365
    # Contact cards are sealed per person (hub_shared.sealing): their keys come from
    # membership, asked with requests signed by the secret the two share (the same value as
    # MEMBERSHIP_CONTACT_KEYS_SECRET; no default).
    membership_url: str = "http://127.0.0.1:8002"
    SECRETS = ("link_secret", "contact_keys_secret")
    SHARED_SECRETS = ("contact_keys_secret",)
    contact_keys_secret: SecretStr | None = None

    # The SMTP relay.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_validate_certs: bool = True
    mail_from: str = "ICS Engagement Hub <engagement@ics-hub.local>"

    # The sending worker.
    worker_batch_size: int = 20
    # How often an idle worker looks for what falls due with time (retries, digests, expired
    # leases); on PostgreSQL a new email wakes it at once.
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

    # A folder of received mail (Maildir) shown at /mailbox: development mode only, and only
    # to this machine (it shows every email with live links).
    mailbox_dir: str | None = None

    @model_validator(mode="after")
    def _mailbox_in_development_only(self) -> "NotificationSettings":
        if self.mailbox_dir and not development_mode():
            raise ValueError(
                "NOTIFICATION_MAILBOX_DIR shows every email with its live links: development only "
                "(HUB_DEVELOPMENT_MODE=1)"
            )
        return self
