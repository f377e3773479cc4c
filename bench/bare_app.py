"""Baseline for the intake benchmark: a bare FastAPI endpoint with the same request model
and validation as feedback-intake's POST /v1/feedback, and nothing else (no token, no
database, no outbox)."""

from fastapi import FastAPI, status

from feedback_intake.schemas import FeedbackCreate

app = FastAPI()


@app.post("/v1/feedback", status_code=status.HTTP_201_CREATED)
async def post_feedback(body: FeedbackCreate) -> FeedbackCreate:
    return body
