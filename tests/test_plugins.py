"""Plugins (``[report] plugins``): a course's own section type and grading check, from a file beside the manifest,
appear in a built report (HTML and PDF) and on a grade sheet; their mistakes are located errors, not crashes.

The plugin under test is the documented example, ``examples/plugins/my_sections.py`` (its template beside it), copied
next to each test's manifest; the smaller plugins written by the tests below exercise the error paths.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from reportgen.config.errors import ManifestError, RenderError
from reportgen.config.manifest import load_manifest
from reportgen.config.plugins import unload
from reportgen.grade.checks import CHECKS
from reportgen.sections import SECTIONS, SectionContext
from reportgen.training.result import RunResult
from tests import grade_support
from tests.conftest import edit

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugins"
PLUGINS = 'seeds = [0]\nplugins = ["my_sections.py"]\n'

CONFIDENT = """
[sections.confidence]
type = "confident"
title = "Confident predictions"
question = "What share of the test set does each model predict with at least 50 % confidence?"
marks = 2
runs = ["conv", "mobilenet"]
threshold = 0.5
"""

# A second plugin: a section whose compute fails (line 9) and one without a template (shown generically).
EXTRA = """\
from reportgen.sections import SECTIONS, Section


@SECTIONS.register("broken")
class Broken(Section):
    run_count = (1, 1)

    def compute(self, ctx):
        return {"mean": len(ctx.groups) / 0}


@SECTIONS.register("plain_summary")
class PlainSummary(Section):
    def compute(self, ctx):
        return {"runs": len(ctx.groups), "verdict": "all trained",
                "per_run": [{"run": g.label, "seeds": len(g.results)} for g in ctx.groups],
                "nested": [[1, 2], [3]]}
"""

EXTRA_SECTIONS = """
[sections.broken]
type = "broken"
runs = ["conv"]

[sections.plain]
type = "plain_summary"
title = "Plain summary"
runs = ["conv", "mobilenet"]
"""


ONE_RUN_SECTIONS = """
[sections.confusion]
type = "confusion"
title = "Confusion matrix"
runs = ["conv"]
""" + CONFIDENT + EXTRA_SECTIONS


@pytest.fixture(autouse=True)
def _unload_plugins(tmp_path):
    """What a test's plugin files registered goes with the test (registries are per process)."""
    yield
    for path in tmp_path.rglob("*.py"):
        unload(path)
    assert "confident" not in SECTIONS and "PERFECT_TEST_ACCURACY" not in CHECKS


@pytest.fixture
def course(tmp_path, tiny_manifest_text, monkeypatch):
    """``course(sections=CONFIDENT, plugins=PLUGINS) -> Path("experiments.toml")``: the tiny manifest using the
    example plugin (copied beside it), in the current folder, as ``reportgen build experiments.toml`` reads it."""
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)

    def write(sections: str = CONFIDENT, plugins: str = PLUGINS) -> Path:
        path = tmp_path / "experiments.toml"
        path.write_text(edit(tiny_manifest_text, "seeds = [0]\n", plugins) + sections, encoding="utf-8")
        return Path(path.name)

    return write


def load_error(path: Path) -> str:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    return str(info.value)


def test_a_plugin_section_builds_into_the_html_and_pdf_and_a_failing_one_fails_alone(course, tmp_path):
    from reportgen.build import build

    (tmp_path / "extra.py").write_text(EXTRA, encoding="utf-8")
    path = course(CONFIDENT + EXTRA_SECTIONS, 'seeds = [0]\nplugins = ["my_sections.py", "extra.py"]\n')
    # One run trains (the tiny manifest's first), for a built-in section and the plugins' three.
    text = path.read_text().split("[runs.mobilenet]")[0] + ONE_RUN_SECTIONS
    path.write_text(text.replace('runs = ["conv", "mobilenet"]', 'runs = ["conv"]'), encoding="utf-8")
    summary = build(path, quiet=True)

    results = json.loads(summary.results.read_text())["sections"]
    assert {sid: s["status"] for sid, s in results.items()} == {
        "confusion": "ok", "confidence": "ok", "broken": "failed", "plain": "ok"}
    (row,) = results["confidence"]["result"]["rows"]
    assert row["label"] == "C2" and 0 <= row["coverage"]["mean"] <= 1
    assert results["confidence"]["figures"] == ["figures/confidence-coverage.png"]

    html = summary.html.read_text()
    confidence = html.split('id="confidence"')[1].split("</section>")[0]
    assert "Confident share" in confidence and "predicted with a probability of at least 0.5" in confidence
    assert f"{100 * row['coverage']['mean']:.1f}\u00a0%" in confidence
    assert '<img src="data:image/png;base64,' in confidence and "Accuracy against coverage" in confidence
    broken = html.split('id="broken"')[1].split("</section>")[0]
    assert "extra.py:9: ZeroDivisionError: division by zero" in broken
    plain = html.split('id="plain"')[1].split("</section>")[0]
    assert "all trained" in plain and "<th>seeds</th>" in plain and "nested" in plain  # generic: values, table

    pdf = "\n".join(page.extract_text() for page in PdfReader(summary.pdf).pages)
    assert "Confident predictions" in pdf and "Confident share" in pdf
    assert "ZeroDivisionError" in pdf

    # The same manifest again in the same process: the plugins are not imported (or registered) twice.
    again = build(path, quiet=True, pdf=False)
    assert json.loads(again.results.read_text())["sections"]["confidence"]["status"] == "ok"


def test_the_example_section_computes_coverage_and_accuracy_when_confident():
    from reportgen.config.plugins import load_file_module

    load_file_module(EXAMPLE / "my_sections.py", "test")
    try:
        # top probabilities 0.9, 0.6, 0.7, 0.55; predictions 0, 0, 1, 1 against 0, 1, 1, 0
        prob = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]], dtype=np.float32)
        result = RunResult("k", {}, {}, np.array([0, 1, 1, 0]), prob, np.zeros((4, 1)), ("a", "b"), 1, 1, 0.0)
        from tests.test_sections import group, section_spec

        runs = [group("m", [result])]
        section = SECTIONS.get("confident")(section_spec("confident", runs, threshold=0.65))
        out = section.compute(SectionContext(section.spec, runs))
        assert out["rows"][0]["coverage"]["mean"] == 0.5  # 0.9 and 0.7 reach 0.65
        assert out["rows"][0]["accuracy"]["mean"] == 1.0  # both of those are right
        assert out["rows"][0]["curve"] == [1.0, 1.0, 2 / 3, 0.5]
    finally:
        unload(EXAMPLE / "my_sections.py")


def test_a_plugin_check_flags_a_report_on_the_grade_sheet(course, tmp_path, capsys):
    from reportgen.cli import main

    path = course()
    report = tmp_path / "student.md"
    report.write_text("# Conv vs MobileNet\n\nC2 reaches a test accuracy of 100 % and C1+M1 a test accuracy of "
                      "91.2 %, so the plain convolutions win on these digits with fewer multiply-adds.\n",
                      encoding="utf-8")
    assert "PERFECT_TEST_ACCURACY" not in CHECKS  # the grade command's own manifest load registers it
    assert main(["grade", str(report), "--manifest", str(path), "--out", str(tmp_path / "grades"), "--no-pdf"]) == 0
    sheet = json.loads((tmp_path / "grades" / "student.json").read_text())
    (found,) = [f for f in sheet["flags"] if f["code"] == "PERFECT_TEST_ACCURACY"]
    assert found["severity"] == "warning" and "accuracy of 100" in found["message"] and found["location"] == "line 3"
    html = (tmp_path / "grades" / "student.html").read_text()
    assert "PERFECT_TEST_ACCURACY" in html and "test images were kept out of training" in html

    # Still registered in this process, the check grades only for manifests that load its plugin.
    (tmp_path / "other").mkdir()
    other = grade_support.course(tmp_path / "other")
    assert "PERFECT_TEST_ACCURACY" in CHECKS
    assert not grade_support.flags_of(grade_support.grade(report.read_text(), other), "PERFECT_TEST_ACCURACY")


def test_loading_the_same_plugin_twice_reuses_it_and_an_edited_one_is_loaded_afresh(course, tmp_path):
    path = course()
    first = load_manifest(path)
    assert load_manifest(path).sections["confidence"].options == first.sections["confidence"].options
    plugin = tmp_path / "my_sections.py"
    original = plugin.read_text()

    # Edited: the new version replaces what the old one registered (the old type is gone, not left behind).
    plugin.write_text(original.replace('"confident"', '"confident_share"'))
    message = load_error(path)
    assert 'sections.confidence.type: unknown section type "confident"; did you mean "confident_share"?' in message
    assert "confident_share" in SECTIONS and "confident" not in SECTIONS

    # An edit that does not import keeps what the last good version registered.
    plugin.write_text(original.replace("import numpy as np", "import numpy as np +"))
    line = original.splitlines().index("import numpy as np") + 1
    assert f"my_sections.py:{line}: SyntaxError" in load_error(path)
    assert "confident_share" in SECTIONS and "PERFECT_TEST_ACCURACY" in CHECKS


def test_plugin_options_and_run_counts_are_checked_like_a_built_in_types(course):
    assert load_error(course(CONFIDENT.replace("threshold = 0.5", "threshold = 1.5"))) == (
        "experiments.toml: sections.confidence.threshold: must be <= 1, got 1.5")
    assert load_error(course(CONFIDENT.replace("threshold = 0.5", "treshold = 0.5"))).endswith(
        'sections.confidence.treshold: unknown key "treshold"; did you mean "threshold"?')
    assert load_error(course(CONFIDENT.replace('runs = ["conv", "mobilenet"]', "runs = []"))).endswith(
        "sections.confidence.runs: needs at least 1 run(s), got 0")
    assert load_error(course(CONFIDENT.replace('type = "confident"', 'type = "confidnt"'))).endswith(
        'sections.confidence.type: unknown section type "confidnt"; did you mean "confident"?')
    one_of = load_error(course(CONFIDENT.replace('type = "confident"\n', "")))
    assert "(one of: " in one_of and "confident" in one_of.split("(one of: ")[1]


def write_plugin(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


SECTION_NAMED = """\
from reportgen.sections import SECTIONS, Section


@SECTIONS.register("{name}")
class Mine(Section):
    pass
"""


@pytest.mark.parametrize(("plugins", "files", "expected"), [
    (["bad.py"], {"bad.py": "from reportgen.sections import SECTIONS\n\ndef broken(:\n"},
     "report.plugins[0]: {tmp}/bad.py:3: SyntaxError: "),
    (["nope.py"], {}, "report.plugins[0]: no such file {tmp}/nope.py"),
    (["clash.py"], {"clash.py": SECTION_NAMED.format(name="confusion")},
     'report.plugins[0]: {tmp}/clash.py:4: section type "confusion" is already registered (built in)'),
    (["a.py", "b.py"], {"a.py": SECTION_NAMED.format(name="twin"), "b.py": SECTION_NAMED.format(name="twin")},
     'report.plugins[1]: {tmp}/b.py:4: section type "twin" is already registered (by {tmp}/a.py)'),
    (["checks.py"], {"checks.py": "from reportgen.grade.checks import check\n\n\n"
                                  "@check('ACCURACY_MISMATCH', 'mine')\ndef mine(f):\n    return []\n"},
     'report.plugins[0]: {tmp}/checks.py:4: check "ACCURACY_MISMATCH" is already registered (built in)'),
    (["options.py"], {"options.py": SECTION_NAMED.format(name="odd") + "    Options = dict\n"},
     'report.plugins[0]: {tmp}/options.py:4: section type "odd": its Options must be a dataclass'),
    (["nosuchmodule_for_reportgen"], {}, 'report.plugins[0]: cannot import "nosuchmodule_for_reportgen"'),
], ids=["syntax-error", "missing-file", "built-in-name", "two-files-one-name", "built-in-check", "options",
        "missing-module"])
def test_plugin_mistakes_are_one_located_error(course, tmp_path, plugins, files, expected):
    for name, text in files.items():
        write_plugin(tmp_path, name, text)
    path = course(plugins=f"seeds = [0]\nplugins = {json.dumps(plugins)}\n")
    message = load_error(path)
    assert message.startswith("experiments.toml: " + expected.format(tmp=tmp_path.resolve())), message
    assert "twin" not in SECTIONS or SECTIONS.origin("twin") == str((tmp_path / "a.py").resolve())


def test_a_bad_plugin_is_one_error_line_from_the_command(course, tmp_path, capsys):
    from reportgen.cli import main

    write_plugin(tmp_path, "bad.py", "x = (\n")
    path = course(plugins='seeds = [0]\nplugins = ["bad.py"]\n')
    assert main(["build", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1
    assert "report.plugins[0]: " in err and "bad.py:1: SyntaxError" in err
    assert not (tmp_path / "out" / "report.html").exists()


def test_a_plugin_template_shadowed_by_a_built_in_one_is_an_error(course, tmp_path):
    from reportgen.render import render_html

    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "compare.html.j2").write_text("mine")
    write_plugin(tmp_path, "shadow.py", SECTION_NAMED.format(name="shadowed")
                 + '    template = "sections/compare.html.j2"\n')
    manifest = load_manifest(course('\n[sections.s]\ntype = "shadowed"\nruns = ["conv"]\n',
                                    'seeds = [0]\nplugins = ["shadow.py"]\n'))
    outputs = [{"id": sid, "type": s.type, "result": {}, "figures": [], "runs": {}, "spec": asdict(s)}
               for sid, s in manifest.sections.items() if sid == "s"]
    with pytest.raises(RenderError, match=r'section type "shadowed": its template .*shadowed by .*compare\.html\.j2'):
        render_html(manifest, outputs, {}, tmp_path)
