"""Imports only go down the layers: dicom -> tables -> image / network -> lessons
(CONTRIBUTING).

Every ``import`` and ``from ... import`` of every module under ``helpers/`` (at the
top or inside a function) is read with :mod:`ast`, resolved to the ``helpers``
sub-package it names, and compared with the layer order. ``paths`` is the one
module every layer may use; ``data`` builds ``data/`` and sits beside the layers
(it may use ``paths`` and ``dicom``; only ``lessons`` may use it). ``network`` (lesson 8)
sits above ``dicom`` and ``tables`` (what it fetches becomes a header table; CONTRIBUTING)
and below ``lessons``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[2] / "helpers"
#: Each package and the packages it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "paths": set(),
    "dicom": {"paths"},
    "tables": {"paths", "dicom"},
    "image": {"paths", "dicom", "tables"},
    "network": {"paths", "dicom", "tables"},  # what it fetches becomes a header table
    "data": {"paths", "dicom"},
    "lessons": {"paths", "dicom", "tables", "image", "data", "network"},
}


def package_of(module: Path) -> str:
    rel = module.relative_to(HELPERS)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def imported_packages(module: Path) -> set[str]:
    """The ``helpers`` sub-packages ``module`` imports, relative imports resolved."""
    tree = ast.parse(module.read_text(), filename=str(module))
    here = ["helpers", *module.relative_to(HELPERS).with_suffix("").parts]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level]
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [".".join(target)] if node.module else [
                    ".".join([*target, a.name]) for a in node.names]
            elif node.module:
                names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "helpers" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in HELPERS.rglob("*.py") if p.name != "__init__.py"
                 and package_of(p) != "__main__")


def test_every_package_has_a_layer():
    assert {package_of(p) for p in MODULES} <= set(ALLOWED), "a package without a layer"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.relative_to(HELPERS).as_posix())
def test_imports_go_down_the_layers(module: Path):
    package = package_of(module)
    upward = imported_packages(module) - ALLOWED[package] - {package}
    assert not upward, f"{module.relative_to(HELPERS)} ({package}) imports {sorted(upward)}"


def test_the_reader_sees_an_upward_import(tmp_path: Path, monkeypatch):
    """The check can fail: a tables module importing the image layer is caught."""
    fake = tmp_path / "helpers" / "tables" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..image.volume import load_series\n")
    monkeypatch.setattr(__import__(__name__), "HELPERS", tmp_path / "helpers")
    assert imported_packages(fake) == {"image"}
    assert "image" not in ALLOWED[package_of(fake)]
