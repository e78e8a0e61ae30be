"""A section that fails because of the user's code fails alone; an exception raised by reportgen's own code is a bug:
the build stops (keeping the sections already written), the CLI prints one line and exits 70, --debug adds the
traceback."""

from __future__ import annotations

import json
import operator
import re

import pytest

from reportgen import faults
from reportgen.build import build
from reportgen.cli import EXIT_BUG, main
from reportgen.config.errors import ReportgenBug, ReportgenError
from reportgen.config.plugins import unload
from reportgen.sections import confusion as confusion_module
from tests.conftest import edit
from tests.test_out_folders import ONE_RUN

BUG_LINE = re.compile(r"internal error in reportgen \(a bug, please report it\): AttributeError: 'RunGroup' object has "
                      r"no attribute 'no_such_field' at reportgen/sections/confusion\.py:\d+")
HINT = "; run with --debug for the traceback"

# A plugin whose compute hands one of reportgen's helpers what it cannot format (line 9): the plugin's mistake.
PLUGIN = """\
from reportgen.sections import SECTIONS, Section
from reportgen.text import pct


@SECTIONS.register("shaky_share")
class ShakyShare(Section):
    def compute(self, ctx):
        share = "most"
        return {"share": pct(share)}
"""


@pytest.fixture
def manifest(write_manifest):
    return write_manifest(ONE_RUN)


def build_cli(path, *extra: str) -> int:
    return main(["build", str(path), "--no-pdf", "-q", "--device", "cpu", *extra])


def test_a_plugin_section_that_raises_fails_alone(tmp_path, write_manifest):
    (tmp_path / "shaky.py").write_text(PLUGIN, encoding="utf-8")
    text = edit(ONE_RUN, "seeds = [0]\n", 'seeds = [0]\nplugins = ["shaky.py"]\n') + """
[sections.shaky]
type = "shaky_share"
title = "Share"
question = "Which share?"
runs = ["conv"]
"""
    try:
        summary = build(write_manifest(text), quiet=True, device="cpu", pdf=False)
    finally:
        unload(tmp_path / "shaky.py")
    results = json.loads(summary.results.read_text())["sections"]
    assert {sid: s["status"] for sid, s in results.items()} == {"curves": "ok", "confusion": "ok", "shaky": "failed"}
    error = json.loads((summary.out / "sections" / "shaky.json").read_text())["error"]
    assert error.startswith(f"{tmp_path / 'shaky.py'}:9: ValueError: "), error


def test_an_exception_in_reportgens_own_section_code_stops_the_build_as_a_bug(manifest, monkeypatch, capsys):
    # A built-in section's compute fails in reportgen's own frame (a C function raises there; no test code runs).
    monkeypatch.setattr(confusion_module, "group_confusion", operator.attrgetter("no_such_field"))
    with pytest.raises(ReportgenBug, match=BUG_LINE.pattern.split(": ", 1)[1]) as info:
        build(manifest, quiet=True, device="cpu", pdf=False)
    assert not isinstance(info.value, ReportgenError)  # nothing may take it for a user's mistake

    out = manifest.parent / "out"
    curves = out / "sections" / "curves.json"
    assert curves.is_file() and not (out / "sections" / "confusion.json").exists()  # built first, kept
    assert not (out / "report.html").exists() and not (out / "results.json").exists()
    stamp = curves.stat().st_mtime_ns

    assert build_cli(manifest) == EXIT_BUG == 70
    err = capsys.readouterr().err
    assert BUG_LINE.fullmatch(err.strip().removesuffix(HINT)) and err.strip().endswith(HINT), err
    assert len(err.strip().splitlines()) == 1
    assert curves.stat().st_mtime_ns == stamp  # the section written before was reused, not recomputed

    assert build_cli(manifest, "--debug") == EXIT_BUG
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert 'reportgen/sections/confusion.py", line' in err and "in compute" in err
    assert "The above exception was the direct cause of the following exception" in err  # how the build got there
    assert BUG_LINE.fullmatch(err.strip().splitlines()[-1]) and HINT not in err


def test_an_exception_escaping_the_library_elsewhere_is_a_bug_too(manifest, monkeypatch, capsys):
    monkeypatch.setattr(faults, "_SEEN", {})
    # reportgen's own RuntimeError, raised after report.html is written and before the PDF is
    monkeypatch.setenv("REPORTGEN_RAISE_AT", "render")
    assert main(["build", str(manifest), "-q", "--device", "cpu"]) == EXIT_BUG
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"internal error in reportgen \(a bug, please report it\): RuntimeError: fault injected at "
                        r"render at reportgen/faults\.py:\d+" + re.escape(HINT), err), err
