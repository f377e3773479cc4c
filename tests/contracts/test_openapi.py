"""Every service's OpenAPI document is a true contract: schemathesis runs over it as its command
line does with `--checks all --mode all` (every phase: examples, coverage, fuzzing, stateful;
valid and invalid data; every built-in check, positive_data_acceptance and
negative_data_rejection included), once as each role, against a store seeded through the
service's own API, so that the happy paths are reached too.

`make test` runs a small budget per operation (HUB_CONTRACT_EXAMPLES, default 8, the same
cases every run) without the coverage phase; `make fuzz` runs every phase with many more,
randomised (HUB_CONTRACT_EXAMPLES=300, HUB_CONTRACT_RANDOM=1);
HUB_CONTRACT_SERVICES=membership,notification picks services.
feedback-intake is also served on SQLite, the `make run` default."""

import asyncio
import json
import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.modes import GenerationMode

from hub_shared import kafka_admin
from hub_shared.testing import KafkaUnderTest

from .seeds import SEEDS
from .services import ALL, ROLES, SERVICES, LiveService, keys_in, live_service, token_for

pytestmark = pytest.mark.long(seconds=60)

# 8 cases of each kind per operation: 12 took 65 CPU seconds of a run's ~600 (on two cores,
# what a run waits for), 8 took 37; `make fuzz` is where the many cases are.
EXAMPLES = int(os.environ.get("HUB_CONTRACT_EXAMPLES", "8"))
RANDOM = os.environ.get("HUB_CONTRACT_RANDOM") == "1"
PICKED = [name for name in os.environ.get("HUB_CONTRACT_SERVICES", "").split(",") if name]
# `make fuzz` runs the engine as every role (the ICB, a place, a practice, a read-only client);
# `make test` as a place only (its own data and its practices', other places' refused with 403).
ROLES_RUN = [org for org, _ in ROLES] if RANDOM else ["01A"]
TARGETS = [(name, "postgresql") for name in SERVICES if not PICKED or name in PICKED]
if not PICKED or "feedback-intake" in PICKED:
    TARGETS.append(("feedback-intake", "sqlite"))


def config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            **({} if RANDOM else {"seed": 1}),
            # The coverage phase (every boundary of every field, whatever the budget) is most of
            # the time a run takes: `make fuzz` runs it, `make test` keeps to the other phases.
            "phases": {"coverage": {"enabled": RANDOM}},
            # Each run starts from fresh stores: nothing learnt by an earlier one applies.
            "cache": {"enabled": False},
            # Health checks judge how fast data is generated (slow, filtered), not the API.
            "suppress-health-check": ["all"],
            "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": not RANDOM, "database": "none"},
            # 413 is a refusal of invalid data too: a body over the route's documented size limit.
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428"]
                }
            },
            "operations": [
                {
                    # The one check that cannot apply: a CSV body is a `string` to JSON Schema, which
                    # cannot say which columns a header must name, so most "valid" strings are a
                    # 422 (missing columns, empty file). What the CSV must hold is documented in
                    # the operation's description; its refusals are checked (negative data).
                    "include-path": "/v1/fft-returns/uploads",
                    "include-method": "POST",
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                }
            ],
        }
    )


@pytest.fixture(scope="module", params=TARGETS, ids=[f"{n}-{s}" for n, s in TARGETS])
def live(request, kafka: KafkaUnderTest, new_postgres_database, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    name, store = request.param
    # The hub's topics, as `make run` makes them: the service reads the organisations topic
    # before it serves, and waits out a missing one (deploy's `hub topics create` comes first).
    asyncio.run(kafka_admin.create_topics(kafka.bootstrap_servers))
    directory = tmp_path_factory.mktemp(f"contract-{name}-{store}")
    keys = keys_in(directory / "keys")
    if store == "postgresql":
        database_url = new_postgres_database(f"contract_{name.replace('-', '_')}")
    else:
        database_url = f"sqlite+aiosqlite:///{directory / 'store.db'}"
    with live_service(name, database_url, kafka.bootstrap_servers, keys) as service:
        tokens = {org: token_for(keys, service.settings, org, scopes) for org, scopes in ROLES}
        seed = SEEDS.get(name)
        known = seed(service.base_url, lambda org: token_for(keys, service.settings, org, ALL)) if seed else {}
        yield {"service": service, "tokens": tokens, "known": known}


def as_a_client_would(case: Any, role: str, known: dict[str, list[str]]) -> None:
    """What no JSON schema can state, done in valid cases as a client does: an Idempotency-Key
    or a client_reference is new for each new request (one reused with other content is
    refused, 422), submissions responded to are ones that exist and are the role's, a time
    that happened is not in the future (the limit moves with the clock), and an opportunity's
    replies close before it starts (a comparison of two fields)."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    body = case.body if isinstance(case.body, dict) else {}
    if isinstance(body.get("client_reference"), str):
        body["client_reference"] = f"{body['client_reference'][:60]}-{uuid.uuid4().hex}"
    if body.get("submission_ids"):
        body["submission_ids"] = known.get(f"submission_ids as {role}", [])[: len(body["submission_ids"])]
    if isinstance(body.get("occurred_at"), str):
        try:
            future = datetime.fromisoformat(body["occurred_at"]) > datetime.now(UTC)
        except ValueError:
            future = False
        if future:
            body["occurred_at"] = "2026-11-01T09:30:00Z"
    times = (body.get("starts_at"), body.get("closes_at"))
    if all(isinstance(t, str) for t in times):
        try:
            later = datetime.fromisoformat(times[1]) > datetime.fromisoformat(times[0])
        except ValueError:
            later = False
        if later:
            body["starts_at"], body["closes_at"] = times[1], times[0]


def failures_of(schema: Any, role: str, token: str, known: dict[str, list[str]]) -> list[str]:
    """Run the whole engine over the schema; one line per distinct failure (operation, check and
    what it said), with a curl command that reproduces it. ``known``: ids of seeded resources by
    path-parameter name, put into half the valid cases so that they reach real resources."""
    draw = random.Random(None if RANDOM else 1)

    @schema.auth(refresh_interval=None)
    class Roles:
        """The role's token; left off when a case tests a missing one."""

        def get(self, case: Any, context: Any) -> str:
            return token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    @schema.hook
    def map_case(context: Any, case: Any) -> Any:
        if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
            # A stateful step's ids are the ones its links carried: left as they are.
            for name in list(case.path_parameters or {}) if case.meta.phase.name != TestPhase.STATEFUL else []:
                if known.get(name) and draw.random() < 0.5:
                    case.path_parameters[name] = draw.choice(known[name])
            as_a_client_would(case, role, known)
        return case

    found: dict[str, str] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    detail = " ".join(failure.message.split())[:300]
                    key = f"{failure.operation or event.label}: {check.name}: {failure.title}: {detail}"
                    interaction = event.recorder.interactions.get(case_id)
                    answer = interaction.response if interaction is not None else None
                    if answer is not None and check.name == "positive_data_acceptance":
                        key += f": {answer.status_code} {refusal(answer.content)}"
                    said = f"{answer.status_code} {answer.content[:300]!r}" if answer is not None else "no answer"
                    found.setdefault(key, f"answered: {said}\n    reproduce: {check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.setdefault(f"{getattr(event, 'label', 'run')}: error", repr(getattr(event, "value", event)))
    return [f"{what}\n    {how}" for what, how in found.items()]


def refusal(content: bytes) -> str:
    """What a problem document refused (its title and the fields it names): one failure each."""
    try:
        problem = json.loads(content)
        return f"{problem.get('title')} {sorted(e.get('field') for e in problem.get('errors') or [])}"
    except (ValueError, AttributeError):
        return content[:80].decode(errors="replace")


def test_every_operation_keeps_its_documented_contract(live: dict[str, Any]) -> None:
    service: LiveService = live["service"]
    failures: list[str] = []
    for role in ROLES_RUN:
        # A fresh schema per role: each run's stateful checks read back what it created as itself.
        schema = schemathesis.openapi.from_url(f"{service.base_url}/openapi.json", config=config())
        failures += [
            f"as {role}: {failure}" for failure in failures_of(schema, role, live["tokens"][role], live["known"])
        ]
    assert not failures, f"{service.name}: {len(failures)} contract failure(s):\n" + "\n".join(failures)
