"""Baseline for the intake benchmark: bare FastAPI endpoints with the same request models
and validation as feedback-intake's POST /v1/feedback and /v1/feedback/batch, and nothing
else (no token, no database, no outbox, no de-identification)."""

from typing import Any

from fastapi import FastAPI, status
from pydantic import ValidationError

from feedback_intake.schemas import BatchCreate, FeedbackCreate

app = FastAPI()


@app.post("/v1/feedback", status_code=status.HTTP_201_CREATED)
async def post_feedback(body: FeedbackCreate) -> FeedbackCreate:
    return body


@app.post("/v1/feedback/batch")
async def post_batch(body: BatchCreate) -> dict[str, Any]:
    results = []
    for index, raw in enumerate(body.items):
        try:
            FeedbackCreate.model_validate(raw)
            results.append({"index": index, "status": "accepted"})
        except ValidationError as exc:
            results.append({"index": index, "status": "rejected", "errors": exc.errors(include_url=False)})
    return {"items": results}
