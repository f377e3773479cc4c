"""Every console page authorises as the APIs do: a practice sees its own, a place its
practices, the ICB all (and a group is also visible, read only, to the organisations under
its holder). Each demo user signs in once through the real provider in Chromium; then the
matrix runs through the console's pages over HTTP with that session (its cookie, the
console's own Origin and the session's form token, as the pages send them): every page and
action on each organisation's groups, opportunities, feedback, responses, reports and
emails, across the
demo ICS's ICB, two places and a practice under each.

A page the person may not see answers 404 (the API's "not found") or 403; an action they may
not take answers 403 or 404 and changes nothing (read back through the APIs); their own, and
those under them, are shown and done. The analyst's role reads only: every action is refused
for every organisation, their own too."""

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from hub_shared.console_testing import DEMO_USERS, Console, Provider, needs_chromium, running_console, sign_in

from .conftest import Hub
from .test_console_journeys import group, transports

pytestmark = [needs_chromium, pytest.mark.long(seconds=33)]

STAMP = int(time.time() * 1000)
ICB, PLACES, PRACTICES = "QZZ", ("01A", "02B"), ("P81001", "P81002", "P82001")
ORGANISATIONS = (ICB, *PLACES, *PRACTICES)
GROUP_KINDS = {"QZZ": "patient_partners", "01A": "coproduction", "02B": "coproduction"}
# What each demo user's organisation may see and act for (reference data: 01A holds P81001
# and P81002, 02B holds P82001).
SEES = {
    "QZZ": set(ORGANISATIONS),
    "01A": {"01A", "P81001", "P81002"},
    "P81001": {"P81001"},
}
# Groups are also shown to the organisations under their holder (read only).
SEES_GROUPS = {
    "QZZ": set(ORGANISATIONS),
    "01A": {"QZZ", "01A", "P81001", "P81002"},
    "P81001": {"QZZ", "01A", "P81001"},
}
ACTS = {"QZZ": set(), "01A": SEES["01A"], "P81001": SEES["P81001"]}  # the analyst only reads
REFUSED = {403, 404}
REFUSAL_HEADINGS = {"Page not found", "You cannot see or change this"}
USERS = {username: code for username, (_name, code, _org) in DEMO_USERS.items()}


@pytest_asyncio.fixture(scope="module")
async def console(hub: Hub, provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Any:
    async with running_console(provider, tmp_path_factory.mktemp("console"), transports(hub)) as running:
        yield running


@dataclass
class World:
    """Each organisation's things, made by its own machine client."""

    groups: dict[str, str] = field(default_factory=dict)
    opportunities: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)
    flagged: dict[tuple[str, str], str] = field(default_factory=dict)  # (user's org, practice)
    responses: dict[tuple[str, str], str] = field(default_factory=dict)  # (user's org, org)


async def created(response: Awaitable[httpx.Response]) -> str:
    r = await response
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest_asyncio.fixture(scope="module")
async def world(hub: Hub) -> World:
    w = World()
    for org in ORGANISATIONS:
        kind = GROUP_KINDS.get(org, "ppg")
        extra = {"service_area": "musculoskeletal"} if kind == "coproduction" else {}
        w.groups[org] = await group(hub, org, kind, f"{org} group {STAMP}", **extra)
    starts = datetime.now(UTC) + timedelta(days=400)  # after everything else: the list's first page
    for org in ORGANISATIONS:
        w.titles[org] = f"{org} seminar {STAMP}"
        w.opportunities[org] = await created(
            hub.membership.post(
                "/v1/opportunities",
                headers=hub.token(org),
                json={
                    "organisation_code": org,
                    "kind": "seminar",
                    "title": w.titles[org],
                    "description": "For the matrix.",
                    "online": True,
                    "starts_at": starts.isoformat(),
                    "closes_at": (starts - timedelta(days=5)).isoformat(),
                    "targeting": {"group_ids": [w.groups[org]]},
                },
            )
        )
    for practice in PRACTICES:
        w.feedback[practice] = await created(
            hub.post_feedback(practice, channel="online_comment", text=f"Parking is hard at {practice} {STAMP}.")
        )
        for user_org in SEES:
            w.flagged[(user_org, practice)] = await created(
                hub.post_feedback(
                    practice,
                    channel="online_comment",
                    text=f"I want to make a formal complaint about {practice} ({user_org} {STAMP}).",
                )
            )
    for org in ORGANISATIONS:
        for user_org in SEES:
            w.responses[(user_org, org)] = await created(
                hub.intake.post(
                    "/v1/responses",
                    headers=hub.token(org),
                    json={
                        "organisation_code": org,
                        "theme": "parking",
                        "you_said": f"Parking is hard ({org}).",
                        "we_did": "We are talking to the council.",
                        "status": "planned",
                    },
                )
            )
    return w


@dataclass
class Check:
    """One cell of the matrix: a page or an action of one organisation's, and what the person
    should get; ``state`` reads back (as the ICB's machine client) what a refused action must
    leave as it was."""

    name: str
    org: str
    allowed: bool
    method: str
    path: str
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    allowed_status: int = 200
    state: Callable[[], Awaitable[Any]] | None = None
    hidden: str | None = None  # text of theirs a refused page must not show


def checks(hub: Hub, w: World, user_org: str) -> list[Check]:
    icb = hub.token("QZZ")

    async def read(client: httpx.AsyncClient, path: str, pick: Callable[[Any], Any]) -> Any:
        r = await client.get(path, headers=icb)
        assert r.status_code == 200, r.text
        return pick(r.json())

    out: list[Check] = []
    for org in ORGANISATIONS:
        sees, group_seen, acts = org in SEES[user_org], org in SEES_GROUPS[user_org], org in ACTS[user_org]
        g, o = w.groups[org], w.opportunities[org]
        members_of = f"/v1/groups/{g}/members"
        response = w.responses[(user_org, org)]

        def members(path: str = members_of) -> Awaitable[Any]:
            return read(hub.membership, path, len)

        def response_state(rid: str = response) -> Awaitable[Any]:
            return read(hub.intake, f"/v1/responses/{rid}", lambda r: (r["status"], r["status_reason"]))

        def responses_of(code: str = org) -> Awaitable[Any]:
            return read(
                hub.intake, "/v1/responses?limit=500", lambda rs: sum(r["organisation_code"] == code for r in rs)
            )

        def attended(oid: str = o) -> Awaitable[Any]:
            return read(hub.membership, f"/v1/opportunities/{oid}", lambda x: x["attended"])

        out += [
            Check("group page", org, group_seen, "GET", f"/groups/{g}", hidden=f"{org} group {STAMP}"),
            Check("group import page", org, group_seen, "GET", f"/groups/{g}/import", hidden=f"{org} group {STAMP}"),
            Check(
                "import a list into the group",
                org,
                acts,
                "POST",
                f"/groups/{g}/import",
                files={
                    "file": (
                        "list.csv",
                        "name,email,phone,postcode,practice_code,consent_basis,role\n"
                        f"Matrix Person,m.{user_org}.{org}.{STAMP}@example.org,,LS1 4AP,"
                        f"{org if org in PRACTICES else 'P82001' if org == '02B' else 'P81001'},Signed form,member\n",
                        "text/csv",
                    )
                },
                allowed_status=303,
                state=members,
            ),
            Check("opportunity page", org, sees, "GET", f"/opportunities/{o}", hidden=w.titles[org]),
            Check(
                "record attendance",
                org,
                acts,
                "POST",
                f"/opportunities/{o}/attendance",
                data={"member_ids": str(uuid.uuid4())},
                allowed_status=422,  # reached the opportunity: that member was not invited
                state=attended,
            ),
            Check(
                "response page", org, sees, "GET", f"/feedback/responses/{response}", hidden=f"Parking is hard ({org})"
            ),
            Check(
                "move a response on",
                org,
                acts,
                "POST",
                f"/feedback/responses/{response}",
                data={"status": "not_possible", "status_reason": "The council said no."},
                allowed_status=303,
                state=response_state,
            ),
            Check(
                "write a response for the organisation",
                org,
                acts,
                "POST",
                "/feedback/responses/new",
                data={
                    "organisation_code": org,
                    "theme": "parking",
                    "you_said": "Parking is hard.",
                    "we_did": f"We asked the council ({user_org}).",
                    "status": "planned",
                },
                allowed_status=303,
                state=responses_of,
            ),
            Check("feedback filtered to the organisation", org, sees, "GET", f"/feedback?organisation_code={org}"),
            Check("FFT report", org, sees, "GET", f"/reports/fft?organisation={org}"),
            Check("FFT report as CSV", org, sees, "GET", f"/reports/fft.csv?organisation={org}"),
            Check("trend", org, sees, "GET", f"/reports/trend?organisation={org}"),
            Check("email ledger", org, sees, "GET", f"/emails/ledger?organisation={org}"),
        ]
        if org in PLACES:
            name = f"Group by {user_org} for {org} {STAMP}"
            out.append(
                Check(
                    "create a group for the organisation",
                    org,
                    acts,
                    "POST",
                    "/groups/new",
                    data={"kind": "coproduction", "name": name, "organisation_code": org, "service_area": "maternity"},
                    allowed_status=303,
                    state=lambda name=name: read(
                        hub.membership, "/v1/groups", lambda gs: [x for x in gs if x["name"] == name]
                    ),
                )
            )
        if org in PRACTICES:
            item, flagged = w.feedback[org], w.flagged[(user_org, org)]

            def review(sid: str = flagged) -> Awaitable[Any]:
                return read(hub.intake, f"/v1/feedback/{sid}", lambda x: x["review_status"])

            out += [
                Check("feedback item page", org, sees, "GET", f"/feedback/{item}", hidden=f"Parking is hard at {org}"),
                Check("decision page", org, sees, "GET", f"/feedback/triage/{flagged}", hidden="formal complaint"),
                Check(
                    "decide on flagged feedback",
                    org,
                    acts,
                    "POST",
                    f"/feedback/triage/{flagged}",
                    data={"decision": "cleared"},
                    allowed_status=303,
                    state=review,
                ),
                Check(
                    "response form for the feedback",
                    org,
                    sees,
                    "GET",
                    f"/feedback/responses/new?submission={item}",
                    hidden=f"Parking is hard at {org}",
                ),
            ]
    return out


@pytest.mark.parametrize("username", list(USERS))
async def test_each_demo_user_against_each_organisations_pages_and_actions(
    browser: Any, console: Console, hub: Hub, world: World, username: str
) -> None:
    user_org = USERS[username]
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, console, username)
    wrong: list[str] = []
    async with await console.client_of(context) as client:
        for check in checks(hub, world, user_org):
            before = await check.state() if check.state else None
            r = await client.request(check.method, check.path, data=check.data, files=check.files)
            cell = f"{username} {check.name} of {check.org} ({check.method} {check.path}): {r.status_code}"
            if check.allowed:
                if r.status_code != (check.allowed_status if check.method == "POST" else 200):
                    wrong.append(f"{cell}, expected allowed")
                continue
            if r.status_code not in REFUSED:
                wrong.append(f"{cell}, expected refused")
                continue
            heading = r.text.split("<h1", 1)[-1].split(">", 1)[-1].split("</h1>", 1)[0].strip()
            if heading not in REFUSAL_HEADINGS:
                wrong.append(f"{cell}: refused with the heading {heading!r}")
            if check.hidden and check.hidden in r.text:
                wrong.append(f"{cell}: refused but shows {check.hidden!r}")
            if check.state and (after := await check.state()) != before:
                wrong.append(f"{cell}: refused but changed {before!r} -> {after!r}")

        # The lists show exactly what is theirs.
        listed = (await client.get("/opportunities")).text
        for org, title in world.titles.items():
            if (title in listed) != (org in SEES[user_org]):
                wrong.append(f"{username} /opportunities {'lacks' if org in SEES[user_org] else 'shows'} {org}'s")
    await context.close()
    assert wrong == [], "\n".join(wrong)
