from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings


class MembershipSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MEMBERSHIP_", extra="ignore")

    service_name: str = "membership"
    database_url: str = "sqlite+aiosqlite:///.state/membership.db"
    http_port: int = 8002
