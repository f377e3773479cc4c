"""Every service's OpenAPI document is a true contract: requests generated from it by
schemathesis (valid and invalid data, as each role: the ICB, a place, a practice, a
read-only client) get no server error, no response that breaks the documented schema,
headers or content type, no undocumented status code, 405 with a correct Allow header for
undocumented methods, and 401 without a token.

`make test` runs a small budget per operation (HUB_CONTRACT_EXAMPLES, default 12, the same
examples every run); `make fuzz` runs many more, randomised (HUB_CONTRACT_EXAMPLES=300,
HUB_CONTRACT_RANDOM=1). feedback-intake is also served on SQLite, the `make run` default."""

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hub_shared.testing import KafkaUnderTest

# Not checked: that every schema-valid request succeeds. The hub's domain rules answer 422
# to data a JSON schema cannot rule out (an ODS code that is no organisation of the ICS, a
# time in the future, "an answer or a text"), and that is documented.
from .seeds import SEEDS
from .services import ALL, ROLES, SERVICES, LiveService, keys_in, live_service, token_for

# Invalid data may also be refused with 413: a body over the route's documented size limit.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                ]
            }
        }
    }
)
EXAMPLES = int(os.environ.get("HUB_CONTRACT_EXAMPLES", "12"))
RANDOM = os.environ.get("HUB_CONTRACT_RANDOM") == "1"
TARGETS = [(name, "postgresql") for name in SERVICES] + [("feedback-intake", "sqlite")]


@pytest.fixture(scope="module", params=TARGETS, ids=[f"{n}-{s}" for n, s in TARGETS])
def live(request, kafka: KafkaUnderTest, new_postgres_database, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    name, store = request.param
    directory = tmp_path_factory.mktemp(f"contract-{name}-{store}")
    keys = keys_in(directory / "keys")
    if store == "postgresql":
        database_url = new_postgres_database(f"contract_{name.replace('-', '_')}")
    else:
        database_url = f"sqlite+aiosqlite:///{directory / 'store.db'}"
    with live_service(name, database_url, kafka.bootstrap_servers, keys) as service:
        tokens = [token_for(keys, service.settings, org, scopes) for org, scopes in ROLES]
        seed = SEEDS.get(name)
        known = seed(service.base_url, lambda org: token_for(keys, service.settings, org, ALL)) if seed else {}
        yield {"service": service, "tokens": itertools.cycle(tokens), "known": known}


def failures_of(schema: Any, base_url: str, tokens: Iterator[str], known: dict[str, list[str]]) -> list[str]:
    """Run every operation's generated cases (both modes); one line per distinct failure.
    ``known``: ids of seeded resources by path-parameter name, drawn for valid cases."""
    found: dict[str, str] = {}
    session = requests.Session()

    @schema.auth(refresh_interval=None)
    class Roles:
        """A valid token for the next role in turn; left off when a case tests a missing one."""

        def get(self, case: Any, context: Any) -> str:
            return next(tokens)

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    for result in schema.get_all_operations():
        exercise(result.ok(), base_url, session, known, found)
    return [f"{what}: {example}" for what, example in found.items()]


def exercise(
    operation: Any, base_url: str, session: requests.Session, known: dict[str, list[str]], found: dict[str, str]
) -> None:
    strategy = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode))

    @given(case=strategy, data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any, data: Any) -> None:
        if case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE:
            for name in list(case.path_parameters or {}):
                if known.get(name) and data.draw(st.booleans(), label=f"seeded {name}"):
                    case.path_parameters[name] = data.draw(st.sampled_from(known[name]), label=name)
        try:
            case.call_and_validate(base_url=base_url, session=session, excluded_checks=[positive_data_acceptance])
        except requests.RequestException as error:
            found.setdefault(f"{operation.label}: no answer", f"{error!r}\n    reproduce: {case.as_curl_command()}")
        except (FailureGroup, Failure) as caught:
            group = caught.exceptions if isinstance(caught, FailureGroup) else (caught,)
            for failure in group:
                detail = " ".join(failure.message.split())[:400]
                found.setdefault(
                    f"{operation.label}: {failure.title}", f"{detail}\n    reproduce: {case.as_curl_command()}"
                )

    run()


def test_every_operation_keeps_its_documented_contract(live: dict[str, Any]) -> None:
    service: LiveService = live["service"]
    schema = schemathesis.openapi.from_url(f"{service.base_url}/openapi.json", config=CONFIG)
    failures = failures_of(schema, service.base_url, live["tokens"], live["known"])
    assert not failures, f"{service.name}: {len(failures)} contract failure(s):\n" + "\n".join(failures)
