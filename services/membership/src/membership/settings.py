from pydantic import SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret"}


class MembershipSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MEMBERSHIP_", extra="ignore")

    service_name: str = "membership"
    database_url: str = "sqlite+aiosqlite:///.state/membership.db"
    http_port: int = 8002
    # Signs every link the hub sends (itsdangerous). Rotating it invalidates links in flight.
    link_secret: SecretStr = SecretStr("dev-only-membership-link-secret-0123456789")
    public_base_url: str = "http://127.0.0.1:8002"
    confirm_link_days: int = 7
    preferences_link_days: int = 30
    consent_wording_version: str = "2026-11"
    # Public forms (join, fresh link, hear back): per client address.
    public_rate_limit: str = "20/minute"
    # Joining and fresh-link answers take at least this long, whether or not the address is
    # known, so their timing does not tell (the known-address path does less work).
    public_response_floor_ms: int = 250
    # Staff calls: per organisation.
    rate_limit: str = "1200/minute"
    rate_limit_storage: str = "memory://"
    max_body_bytes: int = 64 * 1024
    max_import_bytes: int = 2 * 1024 * 1024

    @field_validator("link_secret")
    @classmethod
    def _real_secret(cls, secret: SecretStr) -> SecretStr:
        value = secret.get_secret_value()
        if value.lower() in PLACEHOLDER_SECRETS or len(value) < 32:
            raise ValueError("MEMBERSHIP_LINK_SECRET must be a random string of at least 32 characters")
        return secret
