"""Intake's HTTP routes, one module a resource, each under ``/v1`` (declared on the
resource's own router, so a route's template, as metrics label it, is its whole path)."""

from fastapi import APIRouter

from feedback_intake.api import feedback, fft_returns, ingress, responses, reviews

router = APIRouter()
router.include_router(feedback.router)
router.include_router(reviews.router)
router.include_router(responses.router)
router.include_router(ingress.router)
router.include_router(fft_returns.router)
