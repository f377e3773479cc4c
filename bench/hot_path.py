"""CPU per response of intake's per-event work, in this process, each beside the way it
replaced measured in the same run:

* sentiment: VADER's package (``polarity_scores``) against the one-pass scorer, on varied
  comments built from the national-month benchmark's phrases (several clauses each, so few
  repeat) and the sentiment test's rule words;
* feedback.received.v1: built, encoded and read back as the pydantic model against the
  msgspec struct.

    .venv/bin/python -m bench.hot_path [--comments 5000]

CPU time (``time.process_time``); prints figures, never fails on them."""

import argparse
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson
from vaderSentiment import vaderSentiment as vader

from bench.national_month import ENDINGS, MIDDLES, OPENINGS
from feedback_intake.rules.sentiment import sentiment
from hub_shared.events import Channel, FeedbackReceived, FeedbackReceivedV1, FftAnswer, ServiceArea
from hub_shared.events.received import received_from

MORE = ["but", "not", "never so", "kind of", "very", "at least", "really", "no", "extremely", "!!", "??"]


def comments(n: int) -> list[str]:
    rng = random.Random(19)
    out = []
    for _ in range(n):
        parts = [f"{rng.choice(OPENINGS)} {rng.choice(MIDDLES)}."]
        for _ in range(rng.randint(0, 3)):
            parts.append(f"{rng.choice(MORE)} {rng.choice(MIDDLES)}{rng.choice(ENDINGS)}")
        out.append(" ".join(parts))
    return out


def cpu_us(work: Callable[[Any], object], items: list[Any]) -> float:
    started = time.process_time()
    for item in items:
        work(item)
    return 1e6 * (time.process_time() - started) / len(items)


def received_fields(i: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "submission_id": uuid.uuid4(),
        "organisation_code": "P81001",
        "counts_for": "P81001",
        "place_code": "01A",
        "submitted_by": "P81001",
        "service_area": ServiceArea.GENERAL_PRACTICE,
        "channel": Channel.FFT_SMS,
        "fft_answer": FftAnswer.GOOD,
        "text": "The nurse was kind and explained everything clearly." if i % 3 == 0 else None,
        "occurred_at": now,
        "received_at": now,
        "sentiment": 0.7 if i % 3 == 0 else None,
        "themes": ["clinical_care", "communication"] if i % 3 == 0 else [],
        "themes_version": "themes-v1" if i % 3 == 0 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=5000)
    args = parser.parse_args()

    texts = comments(args.comments)
    package = vader.SentimentIntensityAnalyzer()
    assert all(sentiment(t) == package.polarity_scores(t)["compound"] for t in texts[:500])
    old_sentiment = cpu_us(package.polarity_scores, texts)
    new_sentiment = cpu_us(sentiment, texts)

    fields = [received_fields(i) for i in range(args.comments)]
    as_json = [orjson.loads(FeedbackReceivedV1.model_validate(f).model_dump_json()) for f in fields]
    encoder = msgspec.json.Encoder()
    models = [FeedbackReceivedV1.model_validate(f) for f in fields]
    structs = [received_from(j) for j in as_json]
    rows = [
        ("sentiment of a comment", old_sentiment, new_sentiment, f"{len(set(texts)):,} distinct comments"),
        (
            "feedback.received: build",
            cpu_us(lambda f: FeedbackReceivedV1(**f), fields),
            cpu_us(lambda f: FeedbackReceived(**f), fields),
            "pydantic validates again; intake's values are checked already",
        ),
        (
            "feedback.received: encode",
            cpu_us(lambda m: orjson.dumps(m.model_dump(mode="json")), models),
            cpu_us(encoder.encode, structs),
            "",
        ),
        (
            "feedback.received: decode + validate",
            cpu_us(FeedbackReceivedV1.model_validate, as_json),
            cpu_us(received_from, as_json),
            "",
        ),
    ]
    print(f"\nIntake's per-event work, CPU us (this process), {args.comments:,} items each")
    print(f"  {'work':38s} {'before':>9s} {'now':>9s} {'ratio':>7s}")
    for name, before, now, note in rows:
        print(f"  {name:38s} {before:9.1f} {now:9.1f} {before / now:6.1f}x  {note}")


if __name__ == "__main__":
    main()
