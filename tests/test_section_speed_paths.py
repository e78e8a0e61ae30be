"""Where a user waits: ``--section`` from cached runs reads no data and imports no torch, recomputes a summary only
when what it reads changed, and writes the same results.json as a full build; the metrics that replaced scikit-learn's
agree with scikit-learn (the oracle)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from reportgen.build import build
from reportgen.sections import metrics
from reportgen.training import train as train_module
from tests.conftest import TINY_MANIFEST

CONCLUSIONS = """
[sections.conclusions]
type = "conclusions"
title = "Conclusions"
question = "What did you learn?"
marks = 1
"""

# Runs `reportgen ARGV` in this interpreter's stead and records which heavy modules it imported, and its stdout.
PROBE = """
import json, sys
from reportgen.cli import main
code = main(sys.argv[2:])
json.dump({"code": code, "heavy": [m for m in ("torch", "mlxtend", "sklearn") if m in sys.modules]},
          open(sys.argv[1], "w"))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speed")
    manifest = folder / "experiments.toml"
    manifest.write_text(TINY_MANIFEST + CONCLUSIONS, encoding="utf-8")
    summary = build(manifest, quiet=True, device="cpu", pdf=False)
    assert summary.trained == 2
    return manifest, summary.out


def section_process(manifest, *argv: str) -> tuple[dict, str]:
    found = manifest.parent / "probe.json"
    done = subprocess.run([sys.executable, "-c", PROBE, str(found), "build", str(manifest), "--quiet", *argv],
                          capture_output=True, text=True, timeout=300, cwd=manifest.parent)
    assert done.returncode == 0 and found.is_file(), done.stderr
    return json.loads(found.read_text()), done.stdout


def test_section_from_cached_runs_reads_no_data_and_imports_no_torch(built):
    manifest, out = built
    before = json.loads((out / "results.json").read_text())
    html_before = (out / "report.html").stat().st_mtime_ns
    probe, stdout = section_process(manifest, "--section", "confusion")
    assert probe == {"code": 0, "heavy": []}
    assert "sections computed: confusion;" in stdout  # conclusions reads nothing that changed: kept
    assert (out / "report.html").stat().st_mtime_ns != html_before
    after = json.loads((out / "results.json").read_text())
    # The data of every run, taken over from the previous results.json without loading it, is what a load gave.
    assert after["runs"] == before["runs"] and after["datasets"] == before["datasets"]
    assert after["sections"]["confusion"] == before["sections"]["confusion"]
    assert after["provenance"]["device"].startswith("none needed")


def test_section_writes_no_pdf_unless_asked_and_says_so(built):
    manifest, out = built
    (out / "report.pdf").write_bytes(b"%PDF-1.4 an older report")
    _, stdout = section_process(manifest, "--section", "compare")
    assert (out / "report.pdf").read_bytes() == b"%PDF-1.4 an older report"
    assert f"not re-rendered: {out / 'report.pdf'} still shows the report before this --section build" in stdout
    probe, stdout = section_process(manifest, "--section", "compare", "--pdf")
    assert probe["code"] == 0 and "report.pdf" in stdout.splitlines()[0] and "not re-rendered" not in stdout
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF-1.") and (out / "report.pdf").stat().st_size > 10_000


def test_pdf_and_no_pdf_together_are_an_error(built, capsys):
    from reportgen.cli import main

    manifest, _ = built
    assert main(["build", str(manifest), "--section", "compare", "--pdf", "--no-pdf"]) == 1
    assert "Error: --pdf and --no-pdf contradict each other" in capsys.readouterr().err


def test_a_summary_is_recomputed_only_when_what_it_reads_changed(built, monkeypatch):
    manifest, out = built
    monkeypatch.setattr(train_module, "train", lambda *a, **k: pytest.fail("retrained"))
    assert build(manifest, quiet=True, device="cpu", pdf=False).sections_built == []  # warm: nothing changed
    again = build(manifest, sections=["confusion"], quiet=True, device="cpu", pdf=False)
    assert again.sections_built == ["confusion"]  # same numbers: conclusions kept
    compare = out / "sections" / "compare.json"
    stored = json.loads(compare.read_text())
    stored["result"]["rows"][0]["accuracy"]["mean"] = 0.123  # what compare would say after a change of its code
    compare.write_text(json.dumps(stored))
    assert build(manifest, quiet=True, device="cpu", pdf=False).sections_built == ["conclusions"]
    named = build(manifest, sections=["conclusions"], quiet=True, device="cpu", pdf=False)
    assert named.sections_built == ["conclusions"]  # asked for by name: recomputed although unchanged
    build(manifest, sections=["compare"], quiet=True, device="cpu", pdf=False)  # restore compare's own numbers


def test_section_with_a_run_missing_from_the_cache_plans_from_the_data_and_trains_it(built, tmp_path):
    manifest, out = built
    copy = tmp_path / "experiments.toml"
    shutil.copy(manifest, copy)
    shutil.copytree(out / "cache", tmp_path / "out" / "cache")
    entries = sorted(p for p in (tmp_path / "out" / "cache").iterdir() if not p.name.startswith("."))
    shutil.rmtree(entries[0])
    summary = build(copy, sections=["confusion"], quiet=True, device="cpu", pdf=False)
    assert summary.trained == 1 and summary.cached == 1
    assert json.loads(summary.results.read_text())["provenance"]["device"] == "cpu"  # resolved: it trained


def test_run_data_is_loaded_again_when_the_previous_record_does_not_match(built):
    from reportgen.config.manifest import load_manifest
    from reportgen.data.loading import FingerprintStore
    from reportgen.results import run_data

    manifest, out = built
    loaded = load_manifest(manifest)
    previous = json.loads((out / "results.json").read_text())
    store = FingerprintStore(out / "cache")
    assert run_data(loaded, previous=previous, stored=store) == run_data(loaded)
    wrong = json.loads(json.dumps(previous))
    wrong["runs"]["conv"]["label"] = "renamed since"
    fingerprint = wrong["runs"]["mobilenet"]["fingerprint"]
    wrong["datasets"][fingerprint]["sizes"]["test"] = 1  # a lie about the data: never read for a mismatching run
    wrong["runs"]["mobilenet"]["fingerprint"] = "another data"
    assert run_data(loaded, previous=wrong, stored=store) == run_data(loaded)


def test_run_group_loads_its_data_on_first_use_only():
    from reportgen.sections.base import RunGroup

    calls = []
    group = RunGroup("r", None, [0], [], load_data=lambda: calls.append(1) or "data")
    assert calls == [] and "data" not in repr(group)
    assert group.data == "data" and group.data == "data" and calls == [1]
    assert RunGroup("r", None, [0], [], data="given").data == "given"


def test_torch_version_is_read_without_importing_torch(monkeypatch):
    import torch

    from reportgen.results import torch_version

    monkeypatch.delitem(sys.modules, "torch")
    assert torch_version() == torch.__version__
    assert "torch" not in sys.modules


# --- the metrics, against scikit-learn ------------------------------------------------------------------------


def cases():
    """Seeded label arrays: mostly right, some classes absent from the predictions or from the truth."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        n, k = int(rng.integers(1, 50)), int(rng.integers(2, 7))
        y_true, y_pred = rng.integers(0, k, n), rng.integers(0, k, n)
        if trial % 3:
            y_pred = np.where(rng.random(n) < 0.7, y_true, y_pred)
        y_true[0] = 0  # scikit-learn refuses labels none of which is true
        yield y_true, y_pred, list(range(k)) if trial % 2 else list(range(k - 1))


def test_metrics_agree_with_scikit_learn():
    from sklearn import metrics as oracle

    warnings.simplefilter("ignore")  # scikit-learn warns about ill-defined ratios; both give zero_division
    for y_true, y_pred, labels in cases():
        for given in (None, labels):
            np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred, labels=given),
                                          oracle.confusion_matrix(y_true, y_pred, labels=given))
            for average in (None, "macro", "weighted"):
                mine = metrics.precision_recall_fscore_support(y_true, y_pred, labels=given, average=average,
                                                               zero_division=0)
                theirs = oracle.precision_recall_fscore_support(y_true, y_pred, labels=given, average=average,
                                                                zero_division=0)
                for a, b in zip(mine, theirs, strict=True):
                    assert (a is None and b is None) or np.allclose(a, b), (average, given, mine, theirs)
        assert metrics.accuracy_score(y_true, y_pred) == pytest.approx(oracle.accuracy_score(y_true, y_pred))
        assert metrics.f1_score(y_true, y_pred, average="macro", zero_division=0) == pytest.approx(
            oracle.f1_score(y_true, y_pred, average="macro", zero_division=0))
        names = [f"class {c}" for c in labels]
        mine = metrics.classification_report(y_true, y_pred, labels=labels, target_names=names, output_dict=True,
                                             zero_division=0)
        theirs = oracle.classification_report(y_true, y_pred, labels=labels, target_names=names, output_dict=True,
                                              zero_division=0)
        assert list(mine) == list(theirs)  # "accuracy", or "micro avg" when labels leave a present class out
        for key, value in theirs.items():
            assert mine[key] == (pytest.approx(value) if not isinstance(value, dict)
                                 else {m: pytest.approx(v) for m, v in value.items()}), key



# --- reportgen sections: manifest and cache only ---------------------------------------------------------------

LOADER_MANIFEST = """\
[report]
title = "Data that goes away"
seeds = [0, 1]

[datasets.x]
kind = "python"
loader = "data.py:load"
split = [0.6, 0.2, 0.2]

[runs.r]
dataset = "x"
model = "mlp"
epochs = 1

[sections.s]
type = "confusion"
runs = ["r"]
"""


def test_sections_counts_runs_from_the_stored_fingerprints_with_the_data_gone(tmp_path, capsys):
    from reportgen.cli import main
    from reportgen.config.manifest import load_manifest
    from reportgen.runs.plan import make_plan, remember_fingerprints
    from tests.data_files import write_python_loader

    write_python_loader(tmp_path / "data.py", n=60, shape=(6, 6, 3))
    manifest = tmp_path / "experiments.toml"
    manifest.write_text(LOADER_MANIFEST, encoding="utf-8")
    plan = make_plan(load_manifest(manifest))  # loads and fingerprints the data, as a build does
    remember_fingerprints(plan, tmp_path / "out" / "cache")
    (tmp_path / "out" / "cache" / plan.runs[0].key).mkdir()
    (tmp_path / "out" / "cache" / plan.runs[0].key / "meta.json").write_text("{}")  # present, as `has` sees it
    (tmp_path / "data.py").unlink()
    assert main(["sections", str(manifest)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:5] == ["s", "confusion", "0", "2", "1/2"]

    (tmp_path / "out" / "cache" / ".fingerprints.json").write_text("not json")
    assert main(["sections", str(manifest)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[4:7] == ["not", "yet", "known"]
    assert lines[-1].startswith(f"{tmp_path / 'out' / 'cache' / '.fingerprints.json'}: unreadable")


# --- the benchmark rows (python benchmarks/run.py --only section startup) -------------------------------------


def test_benchmark_rows_for_section_and_sections(built):
    from benchmarks.builds import SECTION_TARGET, SECTIONS_TARGET, build_rows, sections_rows
    from benchmarks.common import Settings, format_table

    manifest, out = built
    settings = Settings(manifest=manifest, report_dir=out, repeat=1, section="confusion")
    rows = {r.what: r for r in build_rows(settings, {"section"}) + sections_rows(settings, 1)}
    assert {what: rows[what].target for what in rows if rows[what].target} == {
        "--section confusion": ("<=", SECTION_TARGET), "--section confusion, figures redrawn": ("<=", SECTION_TARGET),
        "startup: reportgen sections (report's cache)": ("<=", SECTIONS_TARGET),
        "startup: reportgen sections (no cache, no data)": ("<=", SECTIONS_TARGET)}
    assert "--section confusion --pdf" in rows and "--section confusion, in-process build()" in rows
    assert all(len(r.values) == 1 and r.values[0] > 0 for r in rows.values())
    assert "cached runs counted" in rows["startup: reportgen sections (report's cache)"].note
    assert "every key not yet known" in rows["startup: reportgen sections (no cache, no data)"].note
    assert format_table(list(rows.values())).splitlines()[0].split()[6] == "ok?"
