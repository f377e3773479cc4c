"""Organisations imported from ODS's published files reach every running service without a
restart, and each ICB's tokens see only their own ICB.

The four services' APIs run as real processes (as `make run` runs them) on the real broker,
each following its own copy of the organisations topic; the operator's `hub reference
import` publishes fixture files in ODS's layouts (two ICBs, a merger, a closure)."""

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from hub_shared import kafka_admin
from hub_shared.auth import SCOPES, DevKeys
from hub_shared.console_testing import free_port
from hub_shared.testing import KafkaUnderTest, eventually
from hub_shared.topics import ALL_TOPICS, PREFIX, REFERENCE_ORGANISATIONS, REFERENCE_STATISTICS, Topic
from tests.stack import Forks

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "tests" / "fixtures" / "ods"
REGISTRATIONS = FIXTURES.parent / "gp_registrations"
SURVEY = FIXTURES.parent / "gp_patient_survey" / "GPPS_2026_Practice_data_weighted.csv"
SERVICES = {
    "feedback-intake": "INTAKE",
    "membership": "MEMBERSHIP",
    "notification": "NOTIFICATION",
    "reporting": "REPORTING",
}

pytestmark = pytest.mark.long(seconds=22)


@dataclass
class Running:
    urls: dict[str, str]
    keys: DevKeys
    env: dict[str, str]
    forks: Forks
    logs: Path

    def token(self, org: str) -> dict[str, str]:
        token = self.keys.issue(
            organisation=org, scopes=list(SCOPES), issuer="https://auth.ics-hub.local", audience="ics-engagement-hub"
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def reference_topics(kafka: KafkaUnderTest) -> Iterator[dict[str, str]]:
    """This test's own organisations and population topics (and the hub's others, which
    reporting's consumer also reads)."""
    run = uuid.uuid4().hex[:8]
    organisations = Topic(f"{PREFIX}reference.organisations.{run}", 1, "test", REFERENCE_ORGANISATIONS.config)
    population = Topic(f"{PREFIX}reference.statistics.{run}", 3, "test", REFERENCE_STATISTICS.config)
    asyncio.run(kafka_admin.create_topics(kafka.bootstrap_servers, (*ALL_TOPICS, organisations, population)))
    yield {"HUB_REFERENCE_TOPIC": organisations.name, "HUB_STATISTICS_TOPIC": population.name}


@pytest_asyncio.fixture
async def services(kafka: KafkaUnderTest, reference_topics: dict[str, str], tmp_path: Path) -> AsyncIterator[Running]:
    """Each service's API and reporting's consumer as its own OS process, forked from one that
    imported the hub once (``tests.stack.Forks``, as the chaos run starts its processes)."""
    keys = DevKeys(tmp_path / "keys").ensure()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "HUB_JWKS_PATH": str(keys.jwks_path),
        **reference_topics,
        "HUB_DEVELOPMENT_MODE": "1",
        "HUB_LOG_LEVEL": "WARNING",
    }
    urls: dict[str, str] = {}
    for command, prefix in SERVICES.items():
        env[f"{prefix}_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / command}.db"
        env[f"{prefix}_HTTP_PORT"] = str(free_port())
        urls[command] = f"http://127.0.0.1:{env[f'{prefix}_HTTP_PORT']}"
    logs = tmp_path / "logs"
    logs.mkdir()
    forks = await asyncio.to_thread(Forks, env)
    processes: list[int] = []
    try:
        migrating = [forks.start(command, "migrate", env, logs / f"{command}-migrate.log") for command in SERVICES]
        for command, pid in zip(SERVICES, migrating, strict=True):
            assert await asyncio.to_thread(forks.wait, pid) == 0, (logs / f"{command}-migrate.log").read_text()
        processes += [forks.start(command, "api", env, logs / f"{command}.log") for command in SERVICES]
        # Reporting's consumer too: it applies the registered population the scorecard reads.
        processes.append(forks.start("reporting", "consume", env, logs / "reporting-consume.log"))
        async with httpx.AsyncClient(timeout=5) as client:
            for command, url in urls.items():

                async def ready(url: str = url) -> bool:
                    try:
                        return (await client.get(f"{url}/healthz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await eventually(ready, timeout=90, what=f"{command} serving")
        yield Running(urls, keys, env, forks, logs)
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGTERM)
        for pid in processes:
            await asyncio.to_thread(forks.wait, pid)
        await asyncio.to_thread(forks.stop)


async def statuses(running: Running, caller: str, place: str, practice: str) -> dict[str, int]:
    """What each service answers ``caller`` about a place and a practice."""
    async with httpx.AsyncClient(timeout=10) as client:
        headers = running.token(caller)
        return {
            "intake": (
                await client.get(
                    f"{running.urls['feedback-intake']}/v1/feedback",
                    params={"organisation_code": practice},
                    headers=headers,
                )
            ).status_code,
            "membership": (
                await client.get(
                    f"{running.urls['membership']}/v1/members", params={"practice_code": practice}, headers=headers
                )
            ).status_code,
            "notification": (
                await client.get(f"{running.urls['notification']}/v1/branding/{place}", headers=headers)
            ).status_code,
            "reporting": (
                await client.get(f"{running.urls['reporting']}/v1/reports/feedback-volume/{place}", headers=headers)
            ).status_code,
        }


async def hub_reference(running: Running, *args: str) -> tuple[int, str]:
    """The operator's ``hub reference ...``: its exit code and what it printed."""
    log = running.logs / f"hub-{uuid.uuid4().hex[:8]}.log"
    pid = running.forks.start("hub", "reference", running.env, log, *args)
    code = await asyncio.to_thread(running.forks.wait, pid)
    return code, log.read_text()


IMPORT = [
    "import",
    "--practices",
    str(FIXTURES / "epraccur.csv"),
    "--sub-icb-locations",
    str(FIXTURES / "eccg.csv"),
    "--icbs",
    str(FIXTURES / "icbs.csv"),
    "--successions",
    str(FIXTURES / "succ.csv"),
]


async def test_an_import_reaches_every_running_service_and_each_icb_sees_only_its_own(services: Running) -> None:
    every = {"intake", "membership", "notification", "reporting"}
    before = await statuses(services, "QAA", "11A", "A11001")
    assert before == dict.fromkeys(every, 422)  # not organisations of the demo ICS they start with

    refused, output = await hub_reference(
        services,
        *[a if a != str(FIXTURES / "epraccur.csv") else str(FIXTURES / "epraccur_malformed.csv") for a in IMPORT],
    )
    assert refused == 1 and "epraccur_malformed.csv line 2" in output and "Traceback" not in output
    await asyncio.sleep(1)
    assert await statuses(services, "QAA", "11A", "A11001") == dict.fromkeys(every, 422)  # nothing half-applied

    code, output = await hub_reference(services, *IMPORT)
    assert code == 0, output

    async def everyone_has_it() -> bool:
        return await statuses(services, "QAA", "11A", "A11001") == dict.fromkeys(every, 200)

    await eventually(everyone_has_it, timeout=30, what="every service to know ICB QAA")
    # The other ICB's token sees nothing of the first; each sees its own.
    assert await statuses(services, "QBB", "11A", "A11001") == dict.fromkeys(every, 403)
    assert await statuses(services, "QBB", "21C", "B21001") == dict.fromkeys(every, 200)
    # A closed practice keeps its place; the demo ICS is gone.
    assert await statuses(services, "QAA", "12B", "A12002") == dict.fromkeys(every, 200)
    assert await statuses(services, "QZZ", "01A", "P81001") == dict.fromkeys(every, 422)

    code, output = await hub_reference(services, "show")
    assert code == 0 and "QAA" in output and "QBB" in output

    # A month of registered patients from NHS England's files: the scorecard's base, with its month.
    code, output = await hub_reference(
        services,
        "population",
        str(REGISTRATIONS / "gp-reg-pat-prac-sing-age-male.csv"),
        str(REGISTRATIONS / "gp-reg-pat-prac-sing-age-female.csv"),
    )
    assert code == 0 and "1 practice(s) in the files belong to no ICB the hub holds" in output, output

    async def scorecard(caller: str, org: str) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(
                f"{services.urls['reporting']}/v1/reports/scorecard/{org}", headers=services.token(caller)
            )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def population_applied() -> bool:
        return (await scorecard("QAA", "11A"))["registered_population_month"] == "2026-12"

    await eventually(population_applied, timeout=30, what="reporting to apply December's registered population")
    north = await scorecard("QAA", "11A")
    assert north["registered_patients"] == 2 * 96 * (10 + 20)  # A11001 and A11002, both sexes, every age
    south = await scorecard("QBB", "21C")
    assert south["registered_patients"] == 2 * 96 * 5 and south["registered_population_month"] == "2026-12"
    bands = {
        (b["age_band"], b["sex"]): b["registered_patients"] for b in north["membership"]["representation"]["bands"]
    }
    assert bands[("under_16", "female")] == 16 * (10 + 20) and bands[("85_plus", "male")] == 11 * (10 + 20)

    # The GP Patient Survey's results beside them, with bases, intervals and flags.
    code, output = await hub_reference(services, "survey", str(SURVEY), "--year", "2026", "--question", "Q90")
    assert code == 0, output

    async def survey_applied() -> bool:
        return (await scorecard("QAA", "A11001"))["involvement_reported_by_patients"] is not None

    await eventually(survey_applied, timeout=30, what="reporting to apply the 2026 GP Patient Survey")
    practice = (await scorecard("QAA", "A11001"))["involvement_reported_by_patients"]
    assert (practice["share"], practice["base"], practice["confidence_interval"]) == (0.9, 120, [0.85, 0.95])
    place = (await scorecard("QAA", "11A"))["involvement_reported_by_patients"]
    # A11001 (1,920 patients, 1,600 aged 16+) and A11002 (3,200 aged 16+) weighted by eligible patients.
    assert place["base"] == 180 and place["share"] == round((1600 * 0.9 + 3200 * 0.8) / 4800, 4)
    assert (await scorecard("QAA", "12B"))["involvement_reported_by_patients"]["flag"] == (
        "suppressed: fewer than 10 answers"
    )
    assert (await scorecard("QBB", "21C"))["involvement_reported_by_patients"]["base"] == 200
