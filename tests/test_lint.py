"""The codebase stays ruff-clean, keeps its layers and type-checks (all configured in
pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp  # import-linter's own graph library, installed with it

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


def test_the_code_passes_ruff():
    result = subprocess.run([_tool("ruff"), "check", "--quiet", str(ROOT)], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_keep_the_layers():
    """import-linter's contracts ([tool.importlinter]): no module imports from a layer above
    its own, the domain reads no settings and does no I/O."""
    result = subprocess.run([_tool("lint-imports"), "--no-cache"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_reaches_itself_through_its_imports():
    """No import cycle between modules anywhere in rma, flows, schemas and bench, imports
    inside functions included (grimp, the graph import-linter checks): the contracts above
    order layers and siblings, this closes what they do not name."""
    graph = grimp.build_graph("rma", "flows", "schemas", "bench", cache_dir=None)
    cycles = [(m, path) for m in sorted(graph.modules)
              for imported in graph.find_modules_directly_imported_by(m)
              if (path := graph.find_shortest_chain(importer=imported, imported=m))]
    assert not cycles, "\n".join(f"{m} -> {' -> '.join(path)}" for m, path in cycles[:10])


def test_the_package_type_checks():
    """mypy over rma, flows and schemas ([tool.mypy]): the domain, the schemas and the service
    with the flags of --strict, the adapters, flows and entry points with their bodies
    checked."""
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
