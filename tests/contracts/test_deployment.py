"""compose.yaml and the Procfile cannot run on a machine without Docker, so their
structure is checked against the code: every service built from its own Dockerfile,
healthchecked, configured with settings the service actually reads, started with
commands its CLI actually has. The local infrastructure scripts (deploy/) are run: a
PostgreSQL cluster from a clone only its owner may enter, Kafka's own tools on the broker."""

import os
import re
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from pydantic_settings import BaseSettings

import console.main
import feedback_intake.main
import membership.main
import notification.main
import reporting.main
from console.settings import ConsoleSettings
from hub_shared.settings import ServiceSettings
from hub_shared.testing import KafkaUnderTest, free_port

pytestmark = pytest.mark.long(seconds=16)

REPO = Path(__file__).resolve().parents[2]
# Each image's settings and its command-line interface (its entry point).
SETTINGS: dict[str, type[ServiceSettings]] = {
    "feedback-intake": feedback_intake.main.SERVICE.settings,
    "membership": membership.main.SERVICE.settings,
    "notification": notification.main.SERVICE.settings,
    "reporting": reporting.main.SERVICE.settings,
    "console": ConsoleSettings,
}
SERVICES = set(SETTINGS)
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
INFRASTRUCTURE = {"kafka", "postgres", "mail"}


CLIS = {
    "feedback-intake": feedback_intake.main.cli,
    "membership": membership.main.cli,
    "notification": notification.main.cli,  # adds `worker` to the common commands
    "reporting": reporting.main.cli,
    "console": console.main.cli,
}


def cli_commands(service: str) -> set[str]:
    """The commands of the service's own CLI (its entry point), common and its own."""
    return {c.name or c.callback.__name__ for c in CLIS[service].registered_commands if c.callback}


def env_names(settings_type: type[BaseSettings]) -> set[str]:
    prefix = settings_type.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings_type.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            names |= env_names(field.annotation)  # read under its own prefix (HUB_IDP_*)
            continue
        alias = field.validation_alias
        names |= {c.upper() for c in getattr(alias, "choices", [])} if alias else {f"{prefix}{name}".upper()}
        if "SecretStr" in str(field.annotation):  # a secret may come from a file instead
            names.add(f"{prefix}{name}_FILE".upper())
    return names


def service_of(compose_entry: dict) -> str:
    return Path(compose_entry["build"]["dockerfile"]).parent.name


def test_every_service_has_a_dockerfile_and_is_built_from_it() -> None:
    for name in SERVICES:
        assert (REPO / "services" / name / "Dockerfile").is_file()
    built = {service_of(entry) for entry in COMPOSE.values() if "build" in entry}
    assert built == set(SERVICES)
    for entry in COMPOSE.values():
        if "build" in entry:
            assert entry["build"]["context"] == "."
            assert (REPO / entry["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize("name", sorted(set(COMPOSE) - {"topics"}))
def test_every_long_running_container_is_healthchecked(name: str) -> None:
    assert COMPOSE[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


@pytest.mark.parametrize("name", sorted(n for n in COMPOSE if n not in INFRASTRUCTURE))
def test_hub_containers_wait_for_healthy_dependencies(name: str) -> None:
    depends = COMPOSE[name]["depends_on"]
    assert all(d["condition"] in {"service_healthy", "service_completed_successfully"} for d in depends.values())
    needed = {"kafka"} | ({"postgres"} if name != "topics" else set())
    reachable = set(depends)
    frontier = list(depends)
    while frontier:  # through the services it waits for
        for dep in COMPOSE[frontier.pop()].get("depends_on", {}):
            if dep not in reachable:
                reachable.add(dep)
                frontier.append(dep)
    assert needed <= reachable


@pytest.mark.parametrize("name", sorted(n for n in COMPOSE if "build" in COMPOSE[n]))
def test_containers_use_only_settings_and_commands_the_code_has(name: str) -> None:
    entry = COMPOSE[name]
    service = service_of(entry)
    known = env_names(SETTINGS[service])
    for variable in entry["environment"]:
        assert variable in known, f"{name}: {variable} is not a setting of {service}"
    command = " ".join(entry["command"])
    for program, sub in re.findall(r"\b([a-z-]+) ([a-z]+)\b", command):
        if program == service:
            assert sub in cli_commands(service), f"{name}: '{program} {sub}' is not a command"
        elif program == "hub":
            assert sub in {"topics", "reference"}


@pytest.mark.parametrize("name", sorted(n for n in COMPOSE if "build" in COMPOSE[n]))
def test_every_secret_comes_from_a_secret_file_never_from_compose(name: str) -> None:
    entry = COMPOSE[name]
    settings_type = SETTINGS[service_of(entry)]
    # The operator CLI (`hub topics create`, `hub reference import`, run from intake's image)
    # reads no service's settings: a container that runs no service's own command needs none.
    runs_service = re.search(rf"\b{service_of(entry)} [a-z]+", " ".join(entry["command"])) is not None
    declared = getattr(settings_type, "SECRETS", ()) if runs_service else ()
    mounted = set(entry.get("secrets", []))
    for field in declared:
        variable = f"{settings_type.model_config.get('env_prefix', '')}{field}".upper()
        assert variable not in entry["environment"], f"{name}: {variable} has a value in compose.yaml"
        path = entry["environment"].get(f"{variable}_FILE", "")
        assert path.startswith("/run/secrets/"), f"{name}: {variable}_FILE is not a container secret"
        secret = path.removeprefix("/run/secrets/")
        assert secret in mounted and "file" in yaml.safe_load((REPO / "compose.yaml").read_text())["secrets"][secret]


def test_each_service_database_is_created_and_configured() -> None:
    init_sql = (REPO / "deploy" / "postgres-init.sql").read_text()
    for name in SERVICES:
        database = name.replace("-", "_")
        assert f"CREATE DATABASE {database};" in init_sql
        urls = [
            value
            for entry in COMPOSE.values()
            if "build" in entry and service_of(entry) == name
            for key, value in entry["environment"].items()
            if key.endswith("_DATABASE_URL")
        ]
        assert urls and all(url.endswith(f"/{database}") for url in urls)


def test_procfile_runs_commands_the_services_have() -> None:
    for line in (REPO / "deploy" / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        _, command = line.split(":", 1)
        program, *args = shlex.split(command)
        if program in SERVICES:
            assert args[0] in cli_commands(program), line


def test_postgres_starts_from_a_clone_in_a_folder_other_users_cannot_enter(tmp_path: Path) -> None:
    """Cloned into a folder only its owner may enter (mode 700, as root's home or `mktemp -d`
    is), the project's PostgreSQL still starts: as root it runs as 'postgres', who cannot
    reach the clone, so the cluster is kept where 'postgres' can (and linked from the clone)."""
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    state = private / "clone" / ".state" / "postgres"
    port = free_port()
    script = str(REPO / "deploy" / "postgres.sh")
    env = {**os.environ, "PG_PORT": str(port), "PG_STATE_DIR": str(state)}
    try:
        started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=180)
        assert started.returncode == 0, started.stderr
        for database in ("feedback_intake", "membership", "notification", "reporting"):
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/{database}", connect_timeout=10) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
        assert subprocess.run([script, "status"], env=env, capture_output=True).returncode == 0
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, timeout=120)
        link = state / "cluster"
        if link.is_symlink():  # kept outside the clone: remove it with the test's folder
            shutil.rmtree(os.readlink(link), ignore_errors=True)


def test_kafkas_own_tools_work_against_the_broker(kafka: KafkaUnderTest) -> None:
    """deploy/kafka.sh topics|console-producer|console-consumer|consumer-groups run Kafka's
    tools from the broker's jars, on the project's broker unless told otherwise."""
    # The broker this run started is found from KAFKA_PORT alone; any other by the hub's setting.
    env = kafka.script_env or {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers}
    topic, group = f"ops-check-{uuid.uuid4().hex[:8]}", f"ops-readers-{uuid.uuid4().hex[:8]}"

    def tool(*args: str, stdin: str | None = None) -> str:
        script = str(REPO / "deploy" / "kafka.sh")
        done = subprocess.run([script, *args], env=env, input=stdin, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"kafka.sh {' '.join(args)}: {done.stderr}"
        return done.stdout

    tool("topics", "--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1")
    try:
        assert topic in tool("topics", "--list").split()
        tool(
            "console-producer",
            *("--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:"),
            stdin="k1:first\nk2:second\n",
        )
        consumed = tool(
            "console-consumer",
            *("--topic", topic, "--group", group, "--from-beginning", "--max-messages", "2"),
            *("--property", "print.key=true", "--timeout-ms", "60000"),
        )
        assert consumed.splitlines() == ["k1\tfirst", "k2\tsecond"]
        described = tool("consumer-groups", "--describe", "--group", group)
        assert re.search(rf"{group}\s+{topic}\s+0\s+2\s+2\s+0\b", described), described
    finally:
        tool("topics", "--delete", "--topic", topic)
