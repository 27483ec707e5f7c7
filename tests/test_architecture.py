"""The package's shape, enforced: rooms by program, arrows in one direction, no private reach-ins.

ARCHITECTURE (shared with the other engineers) draws the picture; these tests keep the code in it. A room is a
top-level folder of the package (or a top-level module such as `logs.py`); an import from one room into
another is an arrow. The allowed arrows are listed once, below, so a new one is a decision made here,
in review, not an accident.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "exporter"

# Each room and the rooms it may import from. Top-level modules count as rooms of their own.
ALLOWED: dict[str, set[str]] = {
    "logs": set(),
    "config": set(),
    "resque": {"config", "logs"},
    "conditions": {"config", "resque"},
    "metrics": {"conditions", "config", "resque"},
    "scrape": {"conditions", "config", "logs", "metrics", "resque"},
    "actions": {"conditions", "config", "logs", "resque"},
    "sidecar": {"conditions", "actions", "config", "logs", "metrics", "pages", "resque"},
    "pages": {"conditions", "actions", "config", "logs", "resque"},
    "timings": {"config", "logs", "metrics", "resque"},
    "agent": {"conditions", "config", "logs", "metrics", "resque", "timings"},
    "mixin": {"conditions", "config", "metrics", "resque"},
    "demo": {"actions", "config", "logs", "resque", "timings", "scrape", "sidecar", "pages", "agent", "cli_common"},
    "container": {"config", "demo", "logs"},
    "cli_common": {"config", "logs", "resque"},
    "cli": {"cli_common", "config", "demo", "logs", "resque", "scrape", "timings"},
    "sidecar_cli": {"actions", "cli_common", "config", "demo", "logs", "pages", "resque", "sidecar"},
    "agent_cli": {"agent", "cli_common", "config", "logs", "resque", "timings"},
    "__main__": {"cli"},
    "__init__": set(),
}
# Rooms that serve or render: they route, authenticate, render and serialize, and never talk to Redis.
WEB_MODULES = (
    "sidecar",
    "pages",
    "scrape/web.py",
    "scrape/wsgi.py",
    "scrape/landing.py",
    "scrape/serve.py",
    "agent/web.py",
    "agent/timings_ingest.py",
)
TECHNOLOGY_FOLDERS = {"http", "web", "api", "routes", "views", "models", "utils", "helpers", "common"}


@dataclass(frozen=True)
class Import:
    module: Path  # relative to the package
    line: int
    target: tuple[str, ...]  # the imported module's path inside the package, e.g. ("resque", "datastore")
    names: tuple[str, ...]


def room_of(parts: tuple[str, ...]) -> str:
    """`("resque", "datastore")` -> resque; `("logs",)` -> logs."""
    return parts[0]


def modules() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE)


def package_parts(module: Path) -> tuple[str, ...]:
    parts = module.with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports(module: Path) -> Iterator[Import]:
    """Every import of a package module from `module`, function-local ones included."""
    tree = ast.parse((PACKAGE / module).read_text())
    here = package_parts(module)
    is_package = module.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here if is_package else here[:-1]
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = (*base, *(node.module.split(".") if node.module else ()))
            names = tuple(alias.name for alias in node.names)
            if not target:  # `from .. import __version__` or `from . import x` at the top
                for name in names:
                    yield Import(module, node.lineno, (name,), ())
            else:
                yield Import(module, node.lineno, target, names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("resque_exporter"):
            target = tuple((node.module or "").split(".")[1:])
            yield Import(module, node.lineno, target, tuple(alias.name for alias in node.names))


def external_imports(module: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse((PACKAGE / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.lineno, node.module.split(".")[0]


def is_room(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def arrows() -> Iterator[tuple[str, str, Import]]:
    for module in modules():
        source = room_of(package_parts(module) or ("__init__",))
        for found in imports(module):
            target = room_of(found.target)
            if is_room(target) and target != source:
                yield source, target, found


def test_every_room_is_known_and_no_folder_is_named_after_a_technology() -> None:
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    rooms |= {p.stem for p in PACKAGE.glob("*.py")}
    assert rooms <= set(ALLOWED), f"rooms with no entry in ALLOWED: {sorted(rooms - set(ALLOWED))}"
    # Inside a program's room, `sidecar/routes/` is fine: the smell is a top-level room that several programs share.
    assert not rooms & TECHNOLOGY_FOLDERS, f"rooms named after a technology: {sorted(rooms & TECHNOLOGY_FOLDERS)}"


def test_every_arrow_between_rooms_is_an_allowed_one() -> None:
    wrong = [
        f"{found.module}:{found.line} imports {'.'.join(found.target)} ({source} -> {target})"
        for source, target, found in arrows()
        if target not in ALLOWED.get(source, set())
    ]
    assert not wrong, "imports against the allowed arrows:\n" + "\n".join(wrong)


def test_the_rooms_form_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for source, target, _ in arrows():
        graph.setdefault(source, set()).add(target)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"a cycle between rooms: {' -> '.join(exc.args[1])}")


def test_the_allowed_arrows_themselves_form_no_cycle() -> None:
    graphlib.TopologicalSorter(ALLOWED).prepare()


def test_no_module_imports_a_private_name_of_another_module() -> None:
    wrong = [
        f"{found.module}:{found.line} imports {name} from {'.'.join(found.target)}"
        for module in modules()
        for found in imports(module)
        for name in found.names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not wrong, "\n".join(wrong)


def test_no_code_outside_the_resque_room_reaches_into_private_attributes() -> None:
    """`service._redis(...)` from another object: a public door is missing. Inside `resque`, the DataStore's helpers
    share its client by design."""
    wrong = []
    for module in modules():
        if module.parts[0] == "resque":
            continue
        for node in ast.walk(ast.parse((PACKAGE / module).read_text())):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            if node.attr in ("_replace", "_asdict", "_fields", "_exit"):  # namedtuple's public API; os._exit
                continue
            wrong.append(f"{module}:{node.lineno} {ast.unparse(node)}")
    assert not wrong, "\n".join(wrong)


def test_web_rooms_never_talk_to_redis_and_metrics_stay_pure() -> None:
    wrong = []
    for module in modules():
        text = str(module)
        web = any(text == m or text.startswith(f"{m}/") for m in WEB_MODULES)
        pure = module.parts[0] == "metrics"
        for line, name in external_imports(module):
            if (web or pure) and name in ("redis", "fakeredis"):
                wrong.append(f"{module}:{line} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_checks_see_the_imports_they_judge() -> None:
    """The walker must find a known arrow, or every test above passes vacuously."""
    found = {(source, target) for source, target, _ in arrows()}
    assert ("scrape", "metrics") in found
    assert ("actions", "resque") in found
