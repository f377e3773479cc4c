"""Reporting's OpenAPI document gives a response schema for every endpoint and text/csv for
the CSV export; reporting serves no pages (staff see its figures in the console)."""

from pathlib import Path
from typing import Any

from hub_shared.auth import DevKeys
from reporting.main import create_app
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
    paths_served = {getattr(r, "path", "") for r in app.routes}
    assert not any(p.startswith(("/dashboard", "/static")) for p in paths_served), paths_served
