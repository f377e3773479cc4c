"""Demo feedback for the demo ICS, posted through feedback-intake's public API exactly as
a place's system would post it."""

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hub_shared.events import Channel, FftAnswer, ServiceArea
from hub_shared.organisations import Kind, Organisations

ICB_CODE = "QZZ"

COMMENTS = [
    "Reception staff were friendly and helpful.",
    "Waited a long time on the phone to book an appointment.",
    "The nurse explained everything clearly.",
    "Online booking was easy to use.",
    "Could not get a same-day appointment for my child.",
    "The waiting room was clean and calm.",
    "My repeat prescription was ready on time.",
    "I felt listened to by the doctor.",
]
# Roughly the national shape of FFT answers: mostly positive.
ANSWER_WEIGHTS = {
    FftAnswer.VERY_GOOD: 55,
    FftAnswer.GOOD: 25,
    FftAnswer.NEITHER: 7,
    FftAnswer.POOR: 5,
    FftAnswer.VERY_POOR: 5,
    FftAnswer.DONT_KNOW: 3,
}


def demo_feedback(organisations: Organisations, per_practice: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    practices = [o for o in organisations if o.kind is Kind.PRACTICE and o.closed_on is None]
    for practice in practices:
        for _ in range(per_practice):
            channel = rng.choice([Channel.FFT_SMS, Channel.FFT_ONLINE, Channel.FFT_PAPER, Channel.ONLINE_COMMENT])
            body: dict[str, Any] = {
                "organisation_code": practice.code,
                "service_area": ServiceArea.GENERAL_PRACTICE.value,
                "channel": channel.value,
                "occurred_at": (now - timedelta(days=rng.randint(1, 90))).isoformat(),
            }
            if channel is not Channel.ONLINE_COMMENT:
                body["fft_answer"] = rng.choices(list(ANSWER_WEIGHTS), weights=list(ANSWER_WEIGHTS.values()))[0].value
            if channel is Channel.ONLINE_COMMENT or rng.random() < 0.4:
                body["text"] = rng.choice(COMMENTS)
            yield body


def post_all(
    intake_url: str, token: str, bodies: list[dict[str, Any]], progress: Callable[[int], None]
) -> tuple[int, list[str]]:
    """Post each body; return how many were accepted and the problems of those refused."""
    accepted, problems = 0, []
    with httpx.Client(base_url=intake_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for n, body in enumerate(bodies, 1):
            response = client.post("/v1/feedback", json=body)
            if response.status_code == 201:
                accepted += 1
            else:
                problems.append(f"{body['organisation_code']}: {response.status_code} {response.text[:200]}")
            progress(n)
    return accepted, problems


# ---- membership: groups, patient partners and an opportunity ----

DEMO_PEOPLE = [
    ("Amara Okafor", "P81001", "25_34", "female", "black_african", ["musculoskeletal", "general_practice"]),
    ("Ben Hughes", "P81001", "65_74", "male", "white_british", ["musculoskeletal"]),
    ("Chloe Evans", "P81002", "45_54", "female", "white_british", ["dermatology"]),
    ("Dev Patel", "P81003", "35_44", "male", "asian_indian", ["musculoskeletal", "mental_health"]),
    ("Ewa Nowak", "P81004", "55_64", "female", "white_other", ["ophthalmology"]),
    ("Farah Hussain", "P81005", "16_24", "female", "asian_pakistani", ["maternity", "mental_health"]),
    ("George Brown", "P81006", "75_84", "male", "white_british", ["musculoskeletal", "ophthalmology"]),
    ("Hannah Lee", "P81007", "25_34", "female", "asian_chinese", ["dermatology"]),
    ("Ibrahim Said", "P82001", "45_54", "male", "other_arab", ["urgent_care"]),
    ("Jade Williams", "P82002", "16_24", "female", "mixed_white_and_black_caribbean", ["mental_health"]),
]
DEMO_PPG_CSV = (
    "name,email,phone,postcode,practice_code,consent_basis,role\n"
    "Kath Morris,ppg-chair@example.org,,LS1 4AP,P81001,signed paper form 2025,chair\n"
    "Liam Carter,ppg-liam@example.org,,LS6 2QT,P81001,signed paper form 2025,member\n"
    "Maya Singh,ppg-maya@example.org,,LS2 9JT,P81001,emailed consent 2024,member\n"
)


def demo_email(name: str) -> str:
    return "demo-" + name.lower().replace(" ", ".") + "@example.org"


def seed_membership(
    membership_url: str,
    token_for: Callable[[str], str],
    confirm_links: Callable[[set[str]], dict[str, str]],
    progress: Callable[[str], None] = lambda _s: None,
) -> dict[str, Any]:
    """Groups, members (joined through the public API and confirmed with the link from
    the contacts topic, as a person would from their email), a PPG list import (its
    welcomes accepted likewise) and an opportunity, all through membership's API."""
    summary: dict[str, Any] = {}
    with httpx.Client(base_url=membership_url, timeout=30) as client:

        def as_org(org: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token_for(org)}"}

        def group(org: str, body: dict[str, Any]) -> str:
            existing = client.get("/v1/groups", headers=as_org(org)).json()
            for g in existing:
                # A practice has one PPG: an existing one (whatever its name) is the one to use.
                same_ppg = body["kind"] == "ppg" and g["kind"] == "ppg" and g["organisation_code"] == org
                if g["name"] == body["name"] or same_ppg:
                    return str(g["id"])
            response = client.post("/v1/groups", json={"organisation_code": org, **body}, headers=as_org(org))
            response.raise_for_status()
            return str(response.json()["id"])

        scheme = group("QZZ", {"kind": "patient_partners", "name": "Patient Partners scheme"})
        msk = group(
            "01A",
            {"kind": "coproduction", "name": "Northvale MSK co-production group", "service_area": "musculoskeletal"},
        )
        ppg = group("P81001", {"kind": "ppg", "name": "Church Street Surgery PPG"})
        progress("groups")
        emails: set[str] = set()
        for name, practice, age, sex, ethnic, interests in DEMO_PEOPLE:
            groups = [scheme] + ([msk] if "musculoskeletal" in interests and practice.startswith("P81") else [])
            body = {
                "name": name,
                "email": demo_email(name),
                "postcode": "LS1 4AP",
                "practice_code": practice,
                "interests": interests,
                "group_ids": groups + ([ppg] if practice == "P81001" else []),
                "demographics": {"age_band": age, "sex": sex, "ethnic_group": ethnic},
                "consent_to_contact": True,
            }
            client.post("/v1/join", json=body).raise_for_status()
            emails.add(demo_email(name))
        progress("joined")
        confirmed = 0
        for link in confirm_links(emails).values():
            token = link.split("token=", 1)[1]
            if client.post("/v1/confirm", json={"token": token}).status_code == 200:
                confirmed += 1
        summary["members_confirmed"] = confirmed
        progress("confirmed")
        imported = client.post(
            f"/v1/groups/{ppg}/import",
            content=DEMO_PPG_CSV,
            headers={**as_org("P81001"), "Content-Type": "text/csv"},
        )
        imported.raise_for_status()
        summary["ppg_import"] = {k: imported.json()[k] for k in ("imported", "rejected")}
        # Each person on the list joins the PPG when they accept the welcome from their email.
        listed = {line.split(",")[1] for line in DEMO_PPG_CSV.splitlines()[1:]}
        accepted = 0
        for link in confirm_links(listed).values():
            if client.post("/v1/welcome", json={"token": link.split("token=", 1)[1]}).status_code == 200:
                accepted += 1
        summary["ppg_import"]["accepted"] = accepted
        now = datetime.now(UTC)
        opportunity = client.post(
            "/v1/opportunities",
            headers=as_org("01A"),
            json={
                "organisation_code": "01A",
                "kind": "coproduction_session",
                "title": "Redesigning MSK physiotherapy in Northvale",
                "description": "Patients and physiotherapists redesign how people are referred and seen.",
                "starts_at": (now + timedelta(days=21)).isoformat(),
                "closes_at": (now + timedelta(days=14)).isoformat(),
                "location": "Northvale Community Centre",
                "capacity": 3,
                "targeting": {"interests": ["musculoskeletal"], "group_ids": [msk], "age_bands": ["16_24"]},
            },
        )
        opportunity.raise_for_status()
        summary["opportunity"] = {k: opportunity.json()[k] for k in ("id", "title", "invited")}
        summary["groups"] = {"scheme": scheme, "msk": msk, "ppg": ppg}
    return summary
