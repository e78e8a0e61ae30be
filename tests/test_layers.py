"""The package's stages import one way: each folder only from the stages below it (STYLE.md, "the shape of the house").

Module-level imports must follow the order strictly. Imports inside functions may too, with one documented exception:
the manifest loader looks up the registries of dataset kinds, models and section types by name to check a manifest's
keys (the registries live beside what they register), which is a lookup, not a dependency on those stages' code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import reportgen

PACKAGE = Path(reportgen.__file__).parent
# Lowest first. Utilities every stage may use sit at the bottom with config.
ORDER = ["config", "io", "text", "faults", "out_folder", "data", "models", "training", "runs", "figures", "sections",
         "render", "grade", "results", "build", "cli", "__main__"]
# (importing stage, imported stage) pairs allowed inside functions only; see the docstring.
LAZY_LOOKUPS = {("config", "data"), ("config", "models"), ("config", "sections")}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path):
    """``(imported module, at module level?)`` for each ``from reportgen… import`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_checking = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                     and getattr(node.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(node)}
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reportgen."):
            if id(node) not in type_checking:
                yield node.module, id(node) in top, node.lineno


def test_every_stage_imports_only_the_stages_below_it():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        here = _stage(".".join(relative.with_suffix("").parts))
        if here == "__init__":
            continue
        assert here in ORDER, f"{relative}: a new stage; place it in ORDER"
        for module, top_level, line in _imports(path):
            there = _stage(module)
            if there == here or ORDER.index(there) < ORDER.index(here):
                continue
            if not top_level and (here, there) in LAZY_LOOKUPS:
                continue
            wrong.append(f"{relative}:{line}: {here} imports {module}")
    assert not wrong, "imports that run upward:\n" + "\n".join(wrong)
