"""The README tells the truth about the people-facing pages: every page membership and
notification serve to patients and the public (``@router.get`` in their ``pages/``) has its
address in the README, beside the OpenAPI documents, and no service is described as a
placeholder. The source is read, not run."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def page_addresses() -> list[str]:
    found = []
    for module in sorted(REPO.glob("services/*/src/*/pages/*.py")):
        if module.parts[-3] not in ("membership", "notification"):  # the console is staff's
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "get"
                    and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                ):
                    found.append(str(decorator.args[0].value))
    return found


def test_every_page_has_its_address_in_the_readme() -> None:
    addresses = page_addresses()
    assert "/join" in addresses and "/unsubscribe" in addresses  # the scan finds the pages
    # "/preferences/{action}" is listed as the addresses people follow: /preferences/leave…
    missing = [a for a in addresses if a.split("{")[0].rstrip("/") + ("/" if "{" in a else "") not in README]
    assert missing == []


def test_no_service_is_described_as_a_placeholder() -> None:
    for stale in ("(later issue)", "serve\nhealth, readiness and their documents", "Until\nnotification sends them"):
        assert stale not in README
