"""Reporting's OpenAPI document gives a response schema for every endpoint and text/csv for
the CSV export; the dashboard's chart and nested table helpers."""

from pathlib import Path
from typing import Any

from hub_shared.auth import DevKeys
from reporting.main import create_app
from reporting.pages.dashboard import line_chart, nested_rows
from reporting.settings import ReportingSettings


def test_every_report_endpoint_documents_its_response(tmp_path: Path) -> None:
    keys = DevKeys(tmp_path).ensure()
    settings = ReportingSettings(database_url="sqlite+aiosqlite:///:memory:", HUB_JWKS_PATH=str(keys.jwks_path))
    app = create_app(settings)
    paths: dict[str, Any] = app.openapi()["paths"]
    reports = {p: ops for p, ops in paths.items() if p.startswith("/v1/reports")}
    assert len(reports) >= 8
    for path, operations in reports.items():
        for method, operation in operations.items():
            ok = operation["responses"].get("200") or operation["responses"].get("201")
            content = ok["content"]
            if path.endswith(".csv"):
                assert "text/csv" in content, path
            else:
                schema = content["application/json"]["schema"]
                assert schema.get("$ref") or schema.get("items", {}).get("$ref"), (method, path, schema)
    assert not any(r for r in app.routes if getattr(r, "path", "") == "/redoc")


def test_the_line_chart_breaks_at_withheld_months_and_marks_them() -> None:
    months = ["2025-01", "2025-02", "2025-03", "2025-04"]
    points = [
        {"month": "2025-01", "pct_positive": 80},
        {"month": "2025-02", "pct_positive": "*"},
        {"month": "2025-03", "pct_positive": 90},
        {"month": "2025-04", "pct_positive": 100},
    ]
    chart = line_chart([{"label": "P", "css": "selected", "points": points}], months)
    [line] = chart["lines"]
    assert len(line["paths"]) == 2 and [w["month"] for w in line["withheld"]] == ["2025-02"]
    assert [t["label"] for t in chart["y_ticks"]] == ["0%", "25%", "50%", "75%", "100%"]
    top = next(p for p in line["points"] if p["value"] == 100)
    assert top["y"] == chart["top"] and chart["x_ticks"][0]["label"] == "Jan 25"


def test_practices_stay_under_their_place_when_sorted() -> None:
    rows = [
        {"organisation_code": "QZZ", "parent": None, "name": "ICB", "total": 30, "pct_positive": 80},
        {"organisation_code": "01A", "parent": "QZZ", "name": "North", "total": 10, "pct_positive": 70},
        {"organisation_code": "P1", "parent": "01A", "name": "Alpha", "total": 4, "pct_positive": "*"},
        {"organisation_code": "P2", "parent": "01A", "name": "Beta", "total": 6, "pct_positive": 90},
        {"organisation_code": "02B", "parent": "QZZ", "name": "South", "total": 20, "pct_positive": 85},
    ]
    by_total = [r["organisation_code"] for r in nested_rows(rows, "total", descending=True)]
    assert by_total == ["QZZ", "02B", "01A", "P2", "P1"]
    by_pct = [r["organisation_code"] for r in nested_rows(rows, "pct_positive", descending=False)]
    assert by_pct == ["QZZ", "01A", "P2", "P1", "02B"]  # withheld last
