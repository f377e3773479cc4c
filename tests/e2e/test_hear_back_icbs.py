"""Hearing back in a hub serving two ICBs, on the whole hub (the real broker, PostgreSQL and
the emails read from the SMTP server): someone gives feedback on the page of a practice of
the second ICB (NHS Southshire, ``hub_shared.organisations_testing``) and asks to hear back;
the confirmation email arrives, and once the practice answers, the update does, filed under
Southshire's ICB and not the demo ICS's, and nothing on the way is dead-lettered."""

import re
import time
import uuid

from hub_shared import kafka_admin
from hub_shared.organisations_testing import SecondIcb
from hub_shared.references import canonical
from hub_shared.testing import eventually
from hub_shared.topics import MEMBERSHIP_CONTACTS, dead_letter

from .conftest import Hub
from .test_notification import ledger, link, mail, parts


async def test_a_contact_of_the_second_icbs_practice_gets_its_confirmation_and_update(
    hub: Hub, two_icbs: SecondIcb
) -> None:
    assert hub.membership is not None
    address = f"south.{int(time.time() * 1000)}@example.org"
    # A marker of letters only: one with digits may be shaped like a postcode ("ab12ef"), which
    # intake's de-identification removes (one run in fifty), and the text is then never found.
    marker = uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "ghijklmnop"))
    words = f"The south waiting room was cold {marker}."
    r = await hub.membership.post(
        f"/f/{two_icbs.practice}",
        data={
            "form_id": str(uuid.uuid4()),
            "fft_answer": "poor",
            "text": words,
            "hear_back": "yes",
            "email": address,
        },
    )
    assert r.status_code == 200, r.text
    shown = re.search(r'id="reference">([0-9A-Z-]+)<', r.text)
    assert shown is not None
    token = canonical(shown.group(1))

    confirm = await mail(hub, address, "Confirm you want to hear back")
    text, _ = parts(confirm)
    assert shown.group(1) in text
    r = await hub.membership.post(
        "/v1/hear-back/confirm", json={"token": link(text, "/hear-back/confirm").split("token=")[1]}
    )
    assert r.status_code == 200, r.text

    found: list[str] = []

    async def stored() -> bool:
        r = await hub.intake.get(
            "/v1/feedback",
            params={"organisation_code": two_icbs.practice, "channel": "fft_online"},
            headers=hub.token(two_icbs.practice),
        )
        found[:] = [i["id"] for i in r.json()["items"] if words in (i["text"] or "") and i["hears_back"]]
        return bool(found)

    await eventually(stored, timeout=60, what="the page's feedback in intake")
    r = await hub.intake.post(
        "/v1/responses",
        headers=hub.token(two_icbs.practice),
        json={
            "organisation_code": two_icbs.practice,
            "submission_ids": found,
            "you_said": "The waiting room was cold.",
            "we_did": "The heating now comes on an hour earlier in Southshire.",
            "status": "planned",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["hearing_back"] == 1
    update = await mail(hub, address, "You said, we did")
    assert "The heating now comes on an hour earlier in Southshire." in parts(update)[0]
    assert hub.smtp is not None and len(hub.smtp.to(address)) == 2  # the confirmation and the update

    # Filed under Southshire's ICB: its own ledger has both, the demo ICS's neither.
    south = await ledger(hub, two_icbs.icb)
    kinds = {n["kind"] for n in south if n["recipient_kind"] == "hear_back"}
    assert {"hear_back_confirmation", "update"} <= kinds, south
    demo_ids = {n["id"] for n in await ledger(hub, "QZZ")}
    assert not demo_ids & {n["id"] for n in south}
    # Nothing of theirs was dead-lettered on the way.
    letters = await kafka_admin.read_all(hub.kafka.bootstrap_servers, dead_letter(MEMBERSHIP_CONTACTS.name))
    assert not [d for d in letters if d.key == token.encode()]
