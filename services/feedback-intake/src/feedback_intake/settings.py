from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "feedback-intake"
    database_url: str = "sqlite+aiosqlite:///.state/feedback_intake.db"
    http_port: int = 8001
