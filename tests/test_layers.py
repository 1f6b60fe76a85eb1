"""The layers hold: every import in app code (inside functions too) goes down, never up.

import-linter checks the same contract in CI (`lint-imports`); this test reads the contract
from pyproject.toml and scans the source itself, so a cycle cannot hide behind a tool's setting.
"""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    level = {}
    for depth, layer in enumerate(reversed(layers)):
        for package in layer.split("|"):
            level[package.strip()] = depth
    return config["root_packages"], level


def _imports(package):
    """``(file, line, imported top-level package)`` for every absolute import in ``package``."""
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                yield path.relative_to(ROOT), node.lineno, name.split(".")[0]


def test_every_app_is_in_the_contract():
    roots, level = _contract()
    apps = {
        path.parent.name
        for path in ROOT.glob("*/apps.py")
        if (path.parent / "__init__.py").exists()
    }
    assert apps == set(roots) == set(level)


def test_apps_import_only_downward_even_inside_functions():
    roots, level = _contract()
    upward = [
        f"{path}:{line} {package} imports {imported}"
        for package in roots
        for path, line, imported in _imports(package)
        if imported in level and imported != package and level[imported] >= level[package]
    ]
    assert upward == []


def test_no_cycle_between_top_level_packages():
    roots, _level = _contract()
    graph = {package: set() for package in roots}
    for package in roots:
        for _path, _line, imported in _imports(package):
            if imported in graph and imported != package:
                graph[package].add(imported)
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                raise AssertionError(" -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for package in roots:
        if package not in state:
            visit(package, [])


def test_no_app_imports_the_project_package():
    roots, _level = _contract()
    offenders = [
        f"{path}:{line}"
        for package in roots
        if package != "govshare"
        for path, line, imported in _imports(package)
        if imported == "govshare"
    ]
    assert offenders == []
