from datetime import datetime

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from hub_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "feedback-intake"
    database_url: str = "sqlite+aiosqlite:///.state/feedback_intake.db"
    http_port: int = 8001
    # Checks the records membership's feedback pages put on the ingress (hub_shared.page_records):
    # the same value as MEMBERSHIP_FEEDBACK_PAGE_SECRET. No default; rotate as a link secret.
    SECRETS = ("feedback_page_secret",)
    SHARED_SECRETS = ("feedback_page_secret",)
    feedback_page_secret: SecretStr | None = None
    feedback_page_secret_previous: SecretStr | None = None
    feedback_page_secret_previous_until: datetime | None = None
    # Per organisation, across every write (posts, batches, uploads, reviews, responses).
    rate_limit: str = "1200/minute"
    rate_limit_storage: str = "memory://"
    max_body_bytes: int = 64 * 1024
    max_batch_bytes: int = 8 * 1024 * 1024
    max_upload_bytes: int = 512 * 1024 * 1024  # streamed in parts: never held whole in memory
