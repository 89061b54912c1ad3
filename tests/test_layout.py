"""The library's layout: one folder per stage, each importing only the folders below it (as
skeleton/__init__.py lists them), no import loop, and nothing outside the CLI imports the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "skeleton"
CLI = ("skeleton.cli", "skeleton.commands", "skeleton.__main__")
# stage folder -> what it may import besides itself: folders, or single modules (dotted)
ALLOWED = {
    "core": set(),
    "ntu": {"core"},
    "pose": {"core", "ntu.names"},
    "datasets": {"core", "ntu", "pose"},
    "pictures": {"core", "ntu", "pose", "datasets"},
    "release": {"core"},
    "workflow": {"core", "ntu", "pose", "datasets", "release"},  # the workflow's start
}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


def _graph() -> dict[str, set[str]]:
    """module -> the skeleton modules it imports, at any level (function-level imports too)."""
    mods = _modules()

    def owner(name: str) -> str:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps |= {owner(a.name) for a in node.names if a.name.startswith("skeleton")}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                if node.module and node.module.startswith("skeleton"):
                    for a in node.names:
                        full = f"{node.module}.{a.name}"
                        deps.add(full if full in mods else owner(node.module))
        graph[name] = deps - {name, "skeleton", ""}
    return graph


def _missing() -> list[tuple[str, str]]:
    """(module, imported name) for every skeleton import that names no module of the package."""
    mods = _modules()
    out = []
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out += [(name, a.name) for a in node.names if a.name.startswith("skeleton.")]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("skeleton"):
                    out.append((name, node.module))
    return sorted((m, i) for m, i in out if i not in mods and i != "skeleton.ntu._skelparse")


def _is_cli(name: str) -> bool:
    return any(name == c or name.startswith(c + ".") for c in CLI)


def test_library_never_imports_the_cli():
    leaks = sorted(
        (m, d) for m, deps in _graph().items() if not _is_cli(m) for d in deps if _is_cli(d)
    )
    assert leaks == []


def test_every_import_names_a_module():
    assert _missing() == []


def test_import_graph_has_no_loop():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    loops = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                loops.append(path[path.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert loops == []


def _stage(module: str) -> str | None:
    """The stage folder of a module (None for the CLI and the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and not _is_cli(module) else None


def test_every_module_lives_in_a_stage_folder():
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert folders == set(ALLOWED) | {"commands"}
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "cli.py"]


def test_stages_import_only_the_folders_below_them():
    bad = []
    for module, deps in _graph().items():
        stage = _stage(module)
        if stage is None:
            continue
        for dep in deps:
            inner = dep.removeprefix("skeleton.")
            if _stage(dep) in (stage, None) and not _is_cli(dep):
                continue
            allowed = ALLOWED[stage]
            if not any(inner == a or inner.startswith(a + ".") for a in allowed):
                bad.append((module, dep))
    assert sorted(bad) == []


def test_the_layout_is_written_down():
    import skeleton

    for folder in ALLOWED:
        assert f"`{folder}/`" in skeleton.__doc__, folder
