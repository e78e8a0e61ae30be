"""The README documents every registered thing and every command (sqlite-utils' test_docs habit), and its
first lines hold the two set-up commands that CI runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.cli import build_parser
from reportgen.data import DATASETS
from reportgen.grade.checks import CHECKS
from reportgen.models import MODELS
from reportgen.sections import SECTIONS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sorted(subparsers.choices)


REGISTERED = [f"`{n}`" for n in (*SECTIONS.names(), *MODELS.names(), *DATASETS.names(), *CHECKS.names())]


@pytest.mark.parametrize("name", REGISTERED + [f"reportgen {c}" for c in commands()])
def test_readme_documents(name):
    assert name in README


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    first = README.split("```")[1]
    install, tests = [line.split("#")[0].strip() for line in first.strip().splitlines()[1:3]]
    assert "reportgen build experiments.toml" in install
    test_command = tests.split("&&")[-1].strip()
    assert test_command.startswith("python -m pytest")
    assert test_command.replace("python ", "python3 ") in (ROOT / ".ci" / "run").read_text()
