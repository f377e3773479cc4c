from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "feedback-intake"
    database_url: str = "sqlite+aiosqlite:///.state/feedback_intake.db"
    http_port: int = 8001
    # Per organisation, across every write (posts, batches, uploads, reviews, responses).
    rate_limit: str = "1200/minute"
    rate_limit_storage: str = "memory://"
    max_body_bytes: int = 64 * 1024
    max_batch_bytes: int = 8 * 1024 * 1024
    max_upload_bytes: int = 512 * 1024 * 1024  # streamed in parts: never held whole in memory
