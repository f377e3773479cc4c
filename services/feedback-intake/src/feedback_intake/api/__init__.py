"""Intake's HTTP routes under ``/v1``, one module a resource."""

from fastapi import APIRouter

from feedback_intake.api import feedback, fft_returns, ingress, responses, reviews

router = APIRouter(prefix="/v1")
router.include_router(feedback.router)
router.include_router(reviews.router)
router.include_router(responses.router)
router.include_router(ingress.router)
router.include_router(fft_returns.router)
