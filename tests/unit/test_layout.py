"""The shape of the tree: libs/ is what services import, apps/ sit over both, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {f"dubset_{p.name}" for p in (ROOT / "services").iterdir() if (p / "src").is_dir()}
APPS = {p.name for p in (ROOT / "apps").iterdir() if (p / "src").is_dir()}
MAX_MODULE_LINES = 400


def _sources(*folders: str) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).glob("*/src/**/*.py")
        if "_pb2" not in path.name
    )


def imported(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_tree_has_services_and_apps() -> None:
    assert {"dubset_alignment", "dubset_jobs", "dubset_tts"} <= SERVICES
    assert {"dubset_cli", "dubset_sample", "dubset_eval"} == APPS


@pytest.mark.parametrize("path", _sources("libs"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_library_imports_a_service_or_an_app(path: Path) -> None:
    assert imported(path) & (SERVICES | APPS) == set()


@pytest.mark.parametrize("path", _sources("services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_service_imports_an_app(path: Path) -> None:
    assert imported(path) & APPS == set()


def test_no_module_is_over_400_lines() -> None:
    big = {
        str(p.relative_to(ROOT)): n
        for p in _sources("libs", "services", "apps")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert big == {}


def test_imported_sees_absolute_imports_only(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import a.b\nfrom c.d import e\nfrom . import f\nfrom .g import h\n")
    assert imported(module) == {"a", "c"}
