from pathlib import Path

from fastapi import APIRouter

router = APIRouter()
STATIC = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
