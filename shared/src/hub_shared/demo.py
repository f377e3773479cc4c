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
    practices = [o for o in organisations if o.kind is Kind.PRACTICE and o.successor is None]
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
