"""Every service has one shape (README, "Layout"), so a newcomer finds where a behaviour
lives in one guess: routes in ``api/<resource>.py``, the commands of an aggregate and the
events it consumes (``on_<event>``) in ``handlers/<aggregate>.py`` (reporting's read models
in ``projections/``), pure rules in ``rules/``, people's pages in ``pages/<flow>.py``,
long-running loops other than the API, consumer and relay in ``workers/``. The source is
read, not run: this fails the moment a service departs from the shape."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {
    "feedback-intake": "feedback_intake",
    "membership": "membership",
    "notification": "notification",
    "reporting": "reporting",
    "console": "console",
}
# The staff console is a front end, not an event service: no outbox, no consumers, no API of
# its own. It holds the sign-in session and calls the services' APIs (hub_api), so its shape
# is pages plus the web plumbing they share.
CONSOLE_REQUIRED = {"__init__.py", "settings.py", "models.py", "main.py", "pages"}
CONSOLE_ALLOWED = {"__init__", "settings", "models", "main", "pages", "hub_api", "signin", "sessions", "security"}
CONSOLE_ALLOWED |= {"pagination", "templating"}
REQUIRED = {"__init__.py", "settings.py", "models", "schemas", "publishing.py", "consumers.py", "main.py", "api"}
# A module (``x.py``) or a package (``x/``) of these names; nothing else at the top.
ALLOWED = {
    "__init__",
    "settings",
    "models",
    "schemas",
    "publishing",
    "consumers",
    "main",
    "api",
    "handlers",
    "projections",
    "queries",
    "pages",
    "rules",
    "workers",
    "links",
}
# What rules may not import: they decide, they do no I/O.
IO_LIBRARIES = ("sqlalchemy", "fastapi", "starlette", "aiokafka", "faststream", "httpx", "aiosmtplib", "psycopg")
MAX_LINES = 600


def package_dir(service: str) -> Path:
    return REPO / "services" / service / "src" / PACKAGES[service]


def modules(root: Path) -> Iterator[Path]:
    yield from sorted(root.rglob("*.py"))


def module_name(path: Path, service: str) -> str:
    parts = path.relative_to(package_dir(service).parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def entry_name(path: Path) -> str:
    return path.stem if path.is_file() else path.name


@pytest.mark.parametrize("service", PACKAGES)
def test_top_level_has_one_place_for_each_kind_of_code(service: str) -> None:
    root = package_dir(service)
    # Code only: folders of data or assets (templates, static files, reference data) hold no .py.
    entries = {p for p in root.iterdir() if p.suffix == ".py" or (p.is_dir() and any(p.rglob("*.py")))}
    names = {entry_name(p) for p in entries}
    required, allowed = (CONSOLE_REQUIRED, CONSOLE_ALLOWED) if service == "console" else (REQUIRED, ALLOWED)
    missing = {Path(r).stem for r in required} - names
    assert not missing, f"{service} lacks {sorted(missing)}"
    stray = sorted(p.name for p in entries if entry_name(p) not in allowed)
    assert not stray, (
        f"{service} has {stray} at its top level; move each to api/, handlers/, rules/, pages/ or workers/"
    )
    if service != "console":
        assert ("handlers" in names) != ("projections" in names), "commands and consumed events live in one package"


@pytest.mark.parametrize("service", PACKAGES)
def test_routes_live_in_api_and_pages(service: str) -> None:
    root = package_dir(service)
    for path in modules(root):
        relative = path.relative_to(root).parts
        if relative[0] in ("api", "pages"):
            continue
        tree = ast.parse(path.read_text())
        routers = [
            n.lineno
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "APIRouter"
        ]
        assert not routers, f"{path.relative_to(REPO)} declares routes (line {routers[0]}): move them to api/ or pages/"


@pytest.mark.parametrize("service", PACKAGES)
def test_consumed_events_are_handled_in_handlers(service: str) -> None:
    root = package_dir(service)
    for path in modules(root):
        tree = ast.parse(path.read_text())
        handlers = [
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("on_")
        ]
        place = path.relative_to(root).parts[0]
        if handlers:
            assert place in ("handlers", "projections"), (
                f"{path.relative_to(REPO)} handles events ({', '.join(handlers)}): move them to handlers/"
            )


@pytest.mark.parametrize("service", PACKAGES)
def test_rules_do_no_io(service: str) -> None:
    rules = package_dir(service) / "rules"
    for path in modules(rules) if rules.exists() else ():
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.startswith(IO_LIBRARIES), f"{path.relative_to(REPO)} imports {name}: rules do no I/O"


def imports_of(path: Path, service: str) -> tuple[set[str], list[int]]:
    """The service's own modules a module imports at its top, and the lines where a
    function imports one of them (an import hidden in a function to dodge a circle)."""
    package = PACKAGES[service]
    own = f"{package}."
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    inside: list[int] = []

    def named(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names if a.name.startswith(own)]
        if isinstance(node, ast.ImportFrom) and node.module and (node.module + ".").startswith(own):
            return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        return []

    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        top.update(named(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.extend(n.lineno for n in ast.walk(node) if named(n))
    return top, inside


@pytest.mark.parametrize("service", PACKAGES)
def test_no_import_circles_and_none_dodged(service: str) -> None:
    root = package_dir(service)
    graph: dict[str, set[str]] = {}
    for path in modules(root):
        top, inside = imports_of(path, service)
        assert not inside, f"{path.relative_to(REPO)} imports its own modules inside functions (lines {inside})"
        graph[module_name(path, service)] = top
    known = set(graph)
    edges = {m: {t for t in targets if t in known and t != m} for m, targets in graph.items()}
    # A package's __init__ importing its own modules is how a package exposes them.
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in edges.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                circle = [*path[path.index(target) :], target]
                pytest.fail(f"import circle in {service}: {' -> '.join(circle)}")
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("service", PACKAGES)
def test_no_service_imports_another(service: str) -> None:
    others = tuple(f"{p}" for s, p in PACKAGES.items() if s != service)
    for path in modules(package_dir(service)):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in others, f"{path.relative_to(REPO)} imports {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in others, f"{path.relative_to(REPO)} imports {alias.name}"


@pytest.mark.parametrize("service", PACKAGES)
def test_files_stay_small(service: str) -> None:
    for path in modules(package_dir(service)):
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines: split it by what each part is"
