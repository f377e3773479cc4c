"""`make run`'s membership seed works against the real API and broker: groups, members
confirmed with the links from the contacts topic (opened as ``hub seed`` and ``hub contacts
links`` open them), a PPG import and an opportunity."""

import asyncio
import functools
import socket
from collections import Counter

import pytest
import uvicorn

from hub_shared import cli, demo
from membership.main import create_app

from .conftest import Hub


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_demo_seed_makes_groups_confirmed_members_and_an_opportunity(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub.membership_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())

    url = f"http://127.0.0.1:{port}"
    # hub seed's own way to the confirmation links: the cards, opened with keys from membership.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", hub.kafka.bootstrap_servers)
    confirm_links = functools.partial(cli._confirm_links, membership_url=url)

    def token_for(org: str) -> str:
        return hub.token(org)["Authorization"].split()[1]

    groups = (await hub.membership.get("/v1/groups", headers=hub.token("P81001"))).json()
    before = {
        m["member_id"]
        for g in groups
        if g["kind"] == "ppg" and g["organisation_code"] == "P81001"
        for m in (await hub.membership.get(f"/v1/groups/{g['id']}/members", headers=hub.token("P81001"))).json()
    }
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        summary = await asyncio.to_thread(demo.seed_membership, url, token_for, confirm_links)
    finally:
        server.should_exit = True
        await serving
    assert summary["members_confirmed"] == len(demo.DEMO_PEOPLE)
    assert summary["ppg_import"] == {"imported": 3, "rejected": 0, "accepted": 3}
    # MSK interest, the MSK group or aged 16-24, registered in Northvale: Amara, Ben, Dev,
    # Farah and George (Jade is 16-24 but registered in another place).
    assert summary["opportunity"]["invited"] == 5
    ppg = await hub.membership.get(f"/v1/groups/{summary['groups']['ppg']}/members", headers=hub.token("P81001"))
    # The practice's one PPG may hold members another test of this hub added: the seed adds these.
    added = Counter(m["role"] for m in ppg.json() if m["member_id"] not in before)
    assert added == Counter({"member": 4, "chair": 1})
