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
    SECRETS = ("link_secret",)
    link_secret: SecretStr | None = None
    link_secret_previous: SecretStr | None = None
    link_secret_previous_until: datetime | None = None
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
