from datetime import datetime

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings


class MembershipSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MEMBERSHIP_", extra="ignore")

    service_name: str = "membership"
    database_url: str = "sqlite+aiosqlite:///.state/membership.db"
    http_port: int = 8002
    # Signs every link the hub sends (itsdangerous). No default (hub_shared.settings): set it,
    # or MEMBERSHIP_LINK_SECRET_FILE. To rotate, put the old one in _PREVIOUS until _PREVIOUS_UNTIL.
    SECRETS = ("link_secret", "contact_keys_secret", "feedback_page_secret")
    link_secret: SecretStr | None = None
    link_secret_previous: SecretStr | None = None
    link_secret_previous_until: datetime | None = None
    # Checks notification's requests for a person's contact key (hub_shared.sealing): the
    # same value as NOTIFICATION_CONTACT_KEYS_SECRET. No default; rotate as the link secret.
    SHARED_SECRETS = ("contact_keys_secret", "feedback_page_secret")
    contact_keys_secret: SecretStr | None = None
    contact_keys_secret_previous: SecretStr | None = None
    contact_keys_secret_previous_until: datetime | None = None
    # Signs the records the feedback pages put on intake's ingress (hub_shared.page_records):
    # the same value as INTAKE_FEEDBACK_PAGE_SECRET. No default; rotate as the link secret.
    feedback_page_secret: SecretStr | None = None
    feedback_page_secret_previous: SecretStr | None = None
    feedback_page_secret_previous_until: datetime | None = None
    public_base_url: str = "http://127.0.0.1:8002"
    confirm_link_days: int = 7
    preferences_link_days: int = 30
    consent_wording_version: str = "2026-11"
    # Public forms (join, fresh link, hear back) are limited per client address and answer in
    # steady time (public_rate_limit, public_response_floor_ms: hub_shared.settings). What they
    # email, and a list import's welcomes, are capped per address whoever asks.
    emails_per_address_per_hour: int = 3
    # Staff calls: per organisation.
    rate_limit: str = "1200/minute"
    rate_limit_storage: str = "memory://"
    max_body_bytes: int = 64 * 1024
    max_import_bytes: int = 2 * 1024 * 1024
