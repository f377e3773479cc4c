"""Every integer a client puts in a query string (offset, limit, page, ...) has a documented
maximum, in every service: past the database's integers it would be a server error, and
the contract tests' generated requests find it."""

from pathlib import Path
from typing import Any

import pytest

from hub_shared.auth import DevKeys

from .services import SERVICES


def integer_parameters(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                for option in [schema, *schema.get("anyOf", [])]:
                    if option.get("type") == "integer":
                        found.append((f"{method.upper()} {path}", parameter["name"], option))
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_every_integer_query_parameter_is_bounded(name: str, tmp_path: Path) -> None:
    service = SERVICES[name]
    keys = DevKeys(tmp_path / "keys").ensure()
    settings = service.settings(  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path}/store.db", HUB_JWKS_PATH=keys.jwks_path
    )
    document = service.create_app(settings).openapi()
    unbounded = [
        f"{where} ?{parameter}" for where, parameter, schema in integer_parameters(document) if "maximum" not in schema
    ]
    assert unbounded == []
