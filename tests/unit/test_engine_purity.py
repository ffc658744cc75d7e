"""The engine and domain stay pure: no I/O framework can creep into them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stream_app.local_kafka import PROJECT_ROOT

FORBIDDEN = {"faust", "aiokafka", "prometheus_client", "asyncio", "mode", "socket", "threading"}
PURE_PACKAGES = ("stream_app/engine", "stream_app/domain")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules() -> list[Path]:
    return sorted(p for pkg in PURE_PACKAGES for p in (PROJECT_ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_pure_module_imports_no_io_framework(module: Path) -> None:
    """Engine and domain modules import none of faust, aiokafka, prometheus_client, asyncio."""
    assert not _imports(module) & FORBIDDEN


def test_pure_modules_only_import_pure_project_modules() -> None:
    """Engine and domain import, of the project, only engine and domain modules."""
    for module in _modules():
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stream_app."):
                assert node.module is not None
                assert node.module.startswith(("stream_app.engine", "stream_app.domain")), (
                    module,
                    node.module,
                )
