"""Settings common to every service. Each service subclasses ``ServiceSettings`` with its
own env prefix for what is its own (database, port); what the whole hub shares (broker,
token issuer) is read from unprefixed variables so one environment configures all four.

**Secrets have no default.** A service names its secrets in ``SECRETS``; each is read from
its variable (``MEMBERSHIP_LINK_SECRET``) or from the file its ``_FILE`` variable names
(``MEMBERSHIP_LINK_SECRET_FILE=/run/secrets/membership_link_secret``, as container secrets
are mounted), and must be a random string of at least 32 characters. Without it the service
does not start, and says which variable to set — unless ``HUB_DEVELOPMENT_MODE=1`` (set by
``make run``, the tests and the benchmarks only), where a random secret is made once per
machine and kept in ``.state/secrets/`` (mode 600), so every process of the hub on this
machine shares it and nobody else can know it.

**Rotation.** ``<SECRET>_PREVIOUS`` (one or more old secrets, comma-separated) keeps
verifying what was signed before, until ``<SECRET>_PREVIOUS_UNTIL`` (an ISO 8601 time with
its zone); the current secret alone signs. Set the previous secret to the old one, the secret
to the new one and the time to when the longest-lived link signed with the old one expires;
remove both once it has passed."""

import os
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub_shared.identity import IdentityProviderSettings
from hub_shared.links import SignedLinks
from hub_shared.topics import REFERENCE_ORGANISATIONS, REFERENCE_STATISTICS

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "password"}
MIN_SECRET_LENGTH = 32
DEVELOPMENT_MODE = "HUB_DEVELOPMENT_MODE"
DEVELOPMENT_SECRETS_DIR = Path(".state") / "secrets"


class MissingSecret(ValueError):
    """A secret the service needs was not given."""


def development_mode() -> bool:
    """``HUB_DEVELOPMENT_MODE=1``: only ``make run``, the tests and the benchmarks set it."""
    return os.environ.get(DEVELOPMENT_MODE, "").strip().lower() in {"1", "true", "yes", "on"}


def development_secret(name: str, directory: Path = DEVELOPMENT_SECRETS_DIR) -> str:
    """This machine's random secret ``name`` for development, made on first use and kept in
    ``directory`` (mode 600). Safe when several processes start at once: one file wins and
    every process reads it."""
    path = directory / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    candidate = directory / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(candidate, path)  # atomic, and fails if another process made it first
    except FileExistsError:
        pass
    finally:
        candidate.unlink(missing_ok=True)
    return path.read_text().strip()


def check_secret(variable: str, value: str) -> str:
    if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"{variable} must be a random string of at least {MIN_SECRET_LENGTH} characters")
    return value


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None, populate_by_name=True)

    service_name: str = "hub"
    database_url: str = "sqlite+aiosqlite:///.state/hub.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # API worker processes (uvicorn --workers). Per-process state (the rate limiter's
    # memory:// store) is then per worker: give it a shared store.
    http_workers: int = 1
    # The proxies whose X-Forwarded-For (and -Proto) the HTTP server believes: addresses or
    # networks, comma-separated. None by default, so a client cannot choose the address its
    # rate limits count under by sending the header itself.
    trusted_proxies: str = Field("", validation_alias=AliasChoices("HUB_TRUSTED_PROXIES"))
    # Public forms (no token): per client address.
    public_rate_limit: str = "20/minute"
    # Public answers that must not tell whether an address is known take at least this long
    # either way (the known-address path does different work).
    public_response_floor_ms: int = 250

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"))
    jwt_issuer: str = Field("https://auth.ics-hub.local", validation_alias=AliasChoices("HUB_JWT_ISSUER"))
    jwt_audience: str = Field("ics-engagement-hub", validation_alias=AliasChoices("HUB_JWT_AUDIENCE"))
    jwks_path: Path | None = Field(None, validation_alias=AliasChoices("HUB_JWKS_PATH"))
    jwks_url: str | None = Field(None, validation_alias=AliasChoices("HUB_JWKS_URL"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("HUB_LOG_LEVEL"))
    # Staff sign-in: the organisation's OpenID Connect provider and the claim mapping (HUB_IDP_*).
    identity_provider: IdentityProviderSettings = Field(default_factory=IdentityProviderSettings)

    # Organisations: the compacted topic every process follows (hub reference import publishes
    # on it), and how long a starting process waits to have read it to its end.
    reference_topic: str = Field(REFERENCE_ORGANISATIONS.name, validation_alias=AliasChoices("HUB_REFERENCE_TOPIC"))
    statistics_topic: str = Field(REFERENCE_STATISTICS.name, validation_alias=AliasChoices("HUB_STATISTICS_TOPIC"))
    reference_wait_seconds: float = Field(15.0, validation_alias=AliasChoices("HUB_REFERENCE_WAIT_SECONDS"))

    # Consumers: bounded retries with exponential backoff before dead-lettering.
    consumer_max_attempts: int = Field(4, validation_alias=AliasChoices("HUB_CONSUMER_MAX_ATTEMPTS"))
    consumer_backoff_seconds: float = Field(0.2, validation_alias=AliasChoices("HUB_CONSUMER_BACKOFF_SECONDS"))
    # The consume process serves /healthz, /readyz and /metrics here when set (service prefix).
    consumer_health_port: int | None = None

    # The service's secrets (field names, each a ``SecretStr | None`` with no default);
    # ``<name>_previous`` and ``<name>_previous_until`` fields, where declared, rotate it.
    SECRETS: ClassVar[tuple[str, ...]] = ()
    # Those of ``SECRETS`` that two services must hold alike (one signs, the other checks):
    # in development mode both read one file, named by the field alone.
    SHARED_SECRETS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def env_name(cls, field: str) -> str:
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @model_validator(mode="before")
    @classmethod
    def _secret_files(cls, data: Any) -> Any:
        """``<VARIABLE>_FILE`` names a file holding the secret (container secrets)."""
        if not isinstance(data, dict):
            return data
        for field, info in cls.model_fields.items():
            if info.annotation is None or "SecretStr" not in str(info.annotation):
                continue
            file = os.environ.get(f"{cls.env_name(field)}_FILE")
            if file and data.get(field) is None:
                try:
                    data[field] = Path(file).read_text().strip()
                except OSError as exc:
                    raise ValueError(f"{cls.env_name(field)}_FILE={file}: cannot read it ({exc.strerror})") from exc
        return data

    @model_validator(mode="after")
    def _secrets_given(self) -> "ServiceSettings":
        for field in self.SECRETS:
            variable = self.env_name(field)
            value: SecretStr | None = getattr(self, field)
            if value is None:
                if not development_mode():
                    raise MissingSecret(
                        f"{variable} is not set: give a random string of at least {MIN_SECRET_LENGTH} characters "
                        f"in {variable} or in a file named by {variable}_FILE "
                        f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'); "
                        f"{DEVELOPMENT_MODE}=1 makes one for this machine, for development only"
                    )
                name = field if field in self.SHARED_SECRETS else f"{self.service_name}-{field}"
                value = SecretStr(development_secret(name.replace("_", "-")))
                setattr(self, field, value)
            check_secret(variable, value.get_secret_value())
            previous: SecretStr | None = getattr(self, f"{field}_previous", None)
            until: datetime | None = getattr(self, f"{field}_previous_until", None)
            if previous is not None:
                if until is None:
                    raise ValueError(f"{variable}_PREVIOUS is set without {variable}_PREVIOUS_UNTIL: until when?")
                if until.tzinfo is None:
                    raise ValueError(f"{variable}_PREVIOUS_UNTIL needs a time zone, e.g. 2027-01-31T00:00:00Z")
                for old in _split(previous.get_secret_value()):
                    check_secret(f"{variable}_PREVIOUS", old)
        return self

    def signed_links(self, field: str, base_url: str, namespace: str) -> SignedLinks:
        """Links signed with the secret ``field``; its previous secrets verify until their time."""
        current: SecretStr = getattr(self, field)
        previous: SecretStr | None = getattr(self, f"{field}_previous", None)
        return SignedLinks(
            [current.get_secret_value()],
            base_url,
            namespace,
            retiring=tuple(_split(previous.get_secret_value())) if previous else (),
            retiring_until=getattr(self, f"{field}_previous_until", None),
        )


S = TypeVar("S", bound=ServiceSettings)


def load(factory: Callable[[], S]) -> S:
    """The settings from the environment; a process that cannot have them (a secret not
    given, a value that does not parse) stops here, saying which variable and why."""
    try:
        return factory()
    except ValidationError as exc:
        reasons = "\n".join(
            f"  {_variable(error)}{error['msg'].removeprefix('Value error, ')}" for error in exc.errors()
        )
        raise SystemExit(f"cannot start: the configuration is incomplete or invalid\n{reasons}") from None


def _variable(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()))
    return f"{location.upper()}: " if location else ""


def _split(values: str) -> Iterable[str]:
    return [v.strip() for v in values.split(",") if v.strip()]
