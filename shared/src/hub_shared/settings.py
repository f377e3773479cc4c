"""Settings common to every service. Each service subclasses ``ServiceSettings`` with its
own env prefix for what is its own (database, port); what the whole hub shares (broker,
token issuer) is read from unprefixed variables so one environment configures all four."""

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub_shared.identity import IdentityProviderSettings


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None, populate_by_name=True)

    service_name: str = "hub"
    database_url: str = "sqlite+aiosqlite:///.state/hub.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # API worker processes (uvicorn --workers). Per-process state (the rate limiter's
    # memory:// store) is then per worker: give it a shared store.
    http_workers: int = 1

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"))
    jwt_issuer: str = Field("https://auth.ics-hub.local", validation_alias=AliasChoices("HUB_JWT_ISSUER"))
    jwt_audience: str = Field("ics-engagement-hub", validation_alias=AliasChoices("HUB_JWT_AUDIENCE"))
    jwks_path: Path | None = Field(None, validation_alias=AliasChoices("HUB_JWKS_PATH"))
    jwks_url: str | None = Field(None, validation_alias=AliasChoices("HUB_JWKS_URL"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("HUB_LOG_LEVEL"))
    # Staff sign-in: the organisation's OpenID Connect provider and the claim mapping (HUB_IDP_*).
    identity_provider: IdentityProviderSettings = Field(default_factory=IdentityProviderSettings)

    # Consumers: bounded retries with exponential backoff before dead-lettering.
    consumer_max_attempts: int = Field(4, validation_alias=AliasChoices("HUB_CONSUMER_MAX_ATTEMPTS"))
    consumer_backoff_seconds: float = Field(0.2, validation_alias=AliasChoices("HUB_CONSUMER_BACKOFF_SECONDS"))
    # The consume process serves /healthz, /readyz and /metrics here when set (service prefix).
    consumer_health_port: int | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        # Accept the plain URLs operators paste; the services talk async.
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
        return url
