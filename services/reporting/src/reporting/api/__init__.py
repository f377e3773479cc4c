"""Reporting's HTTP routes for reporting consumers, one module a resource, scoped by the
caller's authority: ``router`` holds them all, in the order they are matched."""

from fastapi import APIRouter

from reporting.api import comments, feedback_volume, fft, notifications, scorecard, snapshots, themes

router = APIRouter()
for resource in (feedback_volume, fft, themes, comments, scorecard, snapshots, notifications):
    router.include_router(resource.router)
