"""`make run`'s membership seed works against the real API and broker: groups, members
confirmed with the links from the contacts topic, a PPG import and an opportunity."""

import asyncio
import json
import socket

import uvicorn

from hub_shared import demo, kafka_admin
from hub_shared.events import ContactDetails, MemberContactV2
from hub_shared.sealing import NAMESPACE, ContactKeys
from hub_shared.topics import MEMBERSHIP_CONTACTS
from membership.main import create_app
from notification.settings import NotificationSettings

from .conftest import Hub


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_demo_seed_makes_groups_confirmed_members_and_an_opportunity(hub: Hub) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub.membership_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())

    settings = NotificationSettings()
    url = f"http://127.0.0.1:{port}"
    keys = ContactKeys(url, settings.signed_links("contact_keys_secret", url, NAMESPACE))

    async def opened_cards() -> list[ContactDetails]:
        records = await kafka_admin.read_all(hub.kafka.bootstrap_servers, MEMBERSHIP_CONTACTS.name)
        events = [json.loads(r.value) for r in records if r.value]
        cards = [MemberContactV2.model_validate(e["data"]) for e in events if e["type"] == MemberContactV2.event_type]
        return [d for d in [await keys.open(c) for c in cards] if d is not None]

    def confirm_links(emails: set[str]) -> dict[str, str]:
        """As ``hub seed`` finds them: the cards opened with keys from membership's API."""
        links: dict[str, str] = {}
        for _ in range(60):
            for data in asyncio.run(opened_cards()):
                if data.email in emails and data.message is not None and "confirm" in data.message.links:
                    links[data.email] = data.message.links["confirm"]
            if set(links) >= emails:
                break
            __import__("time").sleep(0.5)
        return links

    def token_for(org: str) -> str:
        return hub.token(org)["Authorization"].split()[1]

    try:
        while not server.started:
            await asyncio.sleep(0.05)
        summary = await asyncio.to_thread(demo.seed_membership, f"http://127.0.0.1:{port}", token_for, confirm_links)
    finally:
        server.should_exit = True
        await serving
    assert summary["members_confirmed"] == len(demo.DEMO_PEOPLE)
    assert summary["ppg_import"] == {"imported": 3, "rejected": 0}
    # MSK interest, the MSK group or aged 16-24, registered in Northvale: Amara, Ben, Dev,
    # Farah and George (Jade is 16-24 but registered in another place).
    assert summary["opportunity"]["invited"] == 5
    ppg = await hub.membership.get(f"/v1/groups/{summary['groups']['ppg']}/members", headers=hub.token("P81001"))
    roles = sorted(m["role"] for m in ppg.json())
    assert roles == ["chair", "member", "member", "member", "member"]
