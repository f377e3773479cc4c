from fastapi import APIRouter
from pathlib import Path

router = APIRouter()
STATIC = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
