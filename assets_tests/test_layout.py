"""The package's shape: pure domain, one direction of imports, no cycle, small modules, empty package
files, and a served model that loads neither Dagster nor the asset modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wholesaler_assets"
MAX_LINES = 300
LONGER_ALLOWED: set[str] = set()  # none: a module over the limit is split, not listed here
NOT_IN_DOMAIN = ("dagster", "mlflow", "wholesaler_assets.io", "wholesaler_assets.assets",
                 "wholesaler_assets.resources", "wholesaler_assets.definitions", "wholesaler_assets.automation")
# Parsing bytes already read (pl.read_csv(io.BytesIO(...))) is domain work; reaching for a path is not.
FILE_IO_CALLS = {"open", "write_parquet", "write_csv", "write_text", "write_bytes", "read_text", "read_bytes",
                 "scan_parquet", "scan_csv", "mkdir", "unlink", "rglob", "glob"}


def _modules() -> dict[str, Path]:
    return {".".join(("wholesaler_assets", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): p
            for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules `path` imports (at module level only, when asked: imports inside functions run late)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_the_domain_imports_no_dagster_mlflow_or_io_and_touches_no_files():
    for name, path in _modules().items():
        if not name.startswith("wholesaler_assets.domain"):
            continue
        bad = sorted(i for i in _imports(path, top_level_only=False) if i.startswith(NOT_IN_DOMAIN))
        assert not bad, f"{name} imports {bad}"
        calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
                 for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)}
        assert not calls & FILE_IO_CALLS, f"{name} calls {sorted(calls & FILE_IO_CALLS)}: file IO belongs in io/"


def test_no_import_cycle_between_modules():
    modules = _modules()
    graph = {name: {i if i in modules else i.rsplit(".", 1)[0] for i in _imports(path, top_level_only=True)}
             & set(modules) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                pytest.fail(f"import cycle: {' -> '.join([*path[path.index(nxt):], nxt])}")
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_modules_stay_under_300_lines_but_the_listed_few():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert set(long) <= LONGER_ALLOWED, f"over {MAX_LINES} lines: {long}"


def test_package_files_hold_nothing_but_a_docstring():
    for path in PACKAGE.rglob("__init__.py"):
        body = ast.parse(path.read_text()).body
        assert all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body), path


def test_the_served_model_loads_neither_dagster_nor_the_assets():
    code = ("import sys; import wholesaler_assets.serving.pyfunc, wholesaler_assets.domain.scoring.scorer; "
            "bad = sorted(m for m in sys.modules if m == 'dagster' or m.startswith(('dagster.', "
            "'wholesaler_assets.assets', 'wholesaler_assets.definitions', 'wholesaler_assets.resources'))); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
