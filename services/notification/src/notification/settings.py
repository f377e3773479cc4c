from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    database_url: str = "sqlite+aiosqlite:///.state/notification.db"
    http_port: int = 8003
