"""`--reference`: results.json records each run's dataset, a reference tested on another test set is refused (or
used with --reference-anyway, and the grades say so), VS_REFERENCE's prediction interval over the seeds, and the
Gradescope visibility. References are hand-written results.json files; only the first test loads data (no training).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from scipy import stats

from reportgen.build import results_document, run_data
from reportgen.cli import build_parser, main
from reportgen.config.errors import ManifestError
from reportgen.config.manifest import load_manifest
from reportgen.grade.checks.vs_reference import UNMATCHED, prediction_interval, vs_reference
from reportgen.grade.model import Claim, Location
from reportgen.grade.reference import ReferenceMismatchError, check_reference, load_reference
from reportgen.grade.rubric import GradingSpec, grading_of
from reportgen.grade.sheet import VISIBILITIES
from tests.conftest import TINY_MANIFEST
from tests.grade_support import (
    ALIASES,
    COURSE,
    GRADING,
    REFERENCE_ROWS,
    TWO_TEST_SETS,
    course,
    flags_of,
    grade,
    reference,
)

COMPARE = "# 1 Conv blocks vs MobileNet blocks\n\n"


def runs_block(test_size: int = 100, classes: int = 3, dataset: str = "d", fingerprint: str = "0123456789abcdef",
               runs=("c4", "c1m3")) -> dict:
    return {run: {"label": run.upper(), "dataset": dataset, "fingerprint": fingerprint, "test_size": test_size,
                  "classes": classes, "variation": False} for run in runs}


def write_reference(folder: Path, runs: dict | None, rows: list[dict] = REFERENCE_ROWS) -> Path:
    """A reproduction's results.json in ``folder``: ``runs`` is its top-level "runs" block (None: an older build)."""
    folder.mkdir(parents=True, exist_ok=True)
    data: dict = {"sections": {"compare": {"result": {"rows": rows}}}}
    if runs is not None:
        data["runs"] = runs
    (folder / "results.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


# --- what the build records ----------------------------------------------------------------------------------


def test_results_json_records_every_runs_dataset_fingerprint_test_size_and_classes(write_manifest):
    text = TINY_MANIFEST + """
[sections.sweeps]
type = "sweeps"
title = "Split"
question = "Change the split."
marks = 1
runs = ["conv"]
[sections.sweeps.factors]
split = [[0.9, 0.05, 0.05]]
"""
    manifest = load_manifest(write_manifest(text))
    data = run_data(manifest)  # loads the (tiny) data, trains nothing
    runs = data["runs"]
    variation = next(name for name in runs if name not in ("conv", "mobilenet"))
    assert list(runs) == ["conv", "mobilenet", variation]
    conv = runs["conv"]
    assert conv == {"label": "C2", "dataset": "digits", "fingerprint": conv["fingerprint"], "test_size": 200,
                    "classes": 10, "variation": False}
    assert len(conv["fingerprint"]) == 16 and runs["mobilenet"]["fingerprint"] == conv["fingerprint"]
    assert runs[variation]["variation"] is True and "split" in runs[variation]["dataset"]
    assert runs[variation]["fingerprint"] != conv["fingerprint"]
    digits = data["datasets"][conv["fingerprint"]]
    assert digits["test_size"] == 200 and digits["classes"] == 10 and digits["runs"] == ["conv", "mobilenet"]
    assert digits["sizes"] == {"train": 200, "val": 200, "test": 200} and digits["class_names"][0] == "0"
    document = results_document(manifest, [], {}, data)
    assert document["runs"] == runs and document["datasets"] == data["datasets"]
    # ... and grading reads them back.
    (Path(manifest.path).parent / "results.json").write_text(json.dumps(
        {**document, "sections": {"compare": {"result": {"rows": [
            {"run": "conv", "label": "C2", "accuracy": {"mean": 0.9, "std": 0.01, "n": 3}}]}}}}))
    ref = load_reference(Path(manifest.path).parent)
    assert ref.data["conv"].test_size == 200 and ref.data["conv"].fingerprint == conv["fingerprint"]


# --- matching the reference to the course's test set ---------------------------------------------------------


def test_a_reference_on_the_course_test_set_is_accepted(tmp_path):
    ref = load_reference(write_reference(tmp_path / "out", runs_block(100, 3)))
    manifest = course(tmp_path)
    assert check_reference(ref, grading_of(manifest), manifest.path, known_runs=set(manifest.runs)).differs == ""


@pytest.mark.parametrize(("size", "classes"), [(1000, 3), (100, 10)])
def test_a_reference_on_another_test_set_is_refused_naming_both_sizes_and_files(tmp_path, size, classes):
    ref = load_reference(write_reference(tmp_path / "out", runs_block(size, classes)))
    manifest = course(tmp_path)
    with pytest.raises(ReferenceMismatchError) as info:
        check_reference(ref, grading_of(manifest), manifest.path, known_runs=set(manifest.runs))
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "out" / "results.json") in message and str(manifest.path) in message
    assert f"{size:,} test images, {classes} classes" in message and "[grading] test_size 100 (3 classes)" in message
    assert "--reference-anyway" in message


def test_an_older_results_json_is_refused_unless_anyway_and_accepted_without_a_test_size(tmp_path):
    ref = load_reference(write_reference(tmp_path / "out", None))
    manifest = course(tmp_path)
    with pytest.raises(ReferenceMismatchError, match="older reportgen.*rebuild it"):
        check_reference(ref, grading_of(manifest), manifest.path)
    checked = check_reference(ref, grading_of(manifest), manifest.path, anyway=True)
    assert "does not record its test set" in checked.differs
    nothing_stated = course(tmp_path, grading=ALIASES)
    assert check_reference(load_reference(tmp_path / "out"), grading_of(nothing_stated), "m.toml").differs == ""


def test_named_test_sets_are_matched_by_keyword_then_class_count(tmp_path):
    manifest = course(tmp_path, grading=TWO_TEST_SETS)
    runs = {**runs_block(100, 3, dataset="digits", runs=("c4",)),
            **runs_block(40, 4, dataset="shapes", fingerprint="fedcba9876543210", runs=("c1m3",))}
    ref = load_reference(write_reference(tmp_path / "ok", runs))
    assert check_reference(ref, grading_of(manifest), manifest.path).differs == ""
    runs["c1m3"]["dataset"] = "lines"
    runs["c1m3"]["test_size"] = 400
    ref = load_reference(write_reference(tmp_path / "bad", runs))
    with pytest.raises(ReferenceMismatchError, match=r"400 test images, 4 classes \(lines.*"
                                                     r"\[grading.test_sets.lines\] size 40 \(4 classes\)"):
        check_reference(ref, grading_of(manifest), manifest.path)


def test_a_sweeps_variation_on_another_split_does_not_count(tmp_path):
    runs = {**runs_block(100, 3), "c4_split": {"dataset": "d (split = [0.8, 0.1, 0.1])", "test_size": 50,
                                               "classes": 3, "variation": True}}
    rows = [*REFERENCE_ROWS, {"run": "c4_split", "label": "split", "accuracy": {"mean": 0.9, "std": 0.0, "n": 3}}]
    ref = load_reference(write_reference(tmp_path / "out", runs, rows))
    manifest = course(tmp_path)
    assert check_reference(ref, grading_of(manifest), manifest.path, known_runs=set(manifest.runs)).differs == ""


# --- the command line ------------------------------------------------------------------------------------------


@pytest.fixture
def setup(tmp_path):
    course(tmp_path)  # writes course.toml: [grading] test_size = 100, classes = 3
    report = tmp_path / "alice.md"
    report.write_text(f"{COMPARE}## C4\nTest accuracy: 0.80\n", encoding="utf-8")
    return tmp_path / "course.toml", report


def grade_cli(manifest: Path, report: Path, out: Path, *extra: str) -> int:
    return main(["grade", str(report), "--manifest", str(manifest), "--out", str(out), "--no-pdf", "-q", *extra])


def test_cli_refuses_a_mismatched_reference_with_one_error_line_and_writes_nothing(setup, tmp_path, capsys):
    manifest, report = setup
    ref = write_reference(tmp_path / "out", runs_block(1000, 3))
    out = tmp_path / "grades"
    for command in ("grade", "compare"):
        status = main([command, str(report), "--manifest", str(manifest), "--reference", str(ref), "--out", str(out),
                       "-q"])
        err = capsys.readouterr().err
        assert status == 1
        assert len(err.strip().splitlines()) == 1 and err.startswith("Error: "), err
        assert "1,000 test images" in err and "test_size 100" in err and "--reference-anyway" in err
        assert not out.exists()


def test_cli_with_reference_anyway_grades_and_says_the_reference_differs(setup, tmp_path, capsys):
    manifest, report = setup
    ref = write_reference(tmp_path / "out", runs_block(1000, 3))
    out = tmp_path / "grades"
    assert grade_cli(manifest, report, out, "--reference", str(ref), "--reference-anyway") == 0
    data = json.loads((out / "alice.json").read_text())
    notes = [f for f in data["flags"] if f["code"] == UNMATCHED]
    assert len(notes) == 1 and notes[0]["severity"] == "info"
    assert "differs from the course's" in notes[0]["message"] and "1,000 test images" in notes[0]["message"]
    assert [f["code"] for f in data["flags"] if f["code"] == "VS_REFERENCE"] == ["VS_REFERENCE"]  # still compared
    matching = write_reference(tmp_path / "matching", runs_block(100, 3))
    assert grade_cli(manifest, report, tmp_path / "g2", "--reference", str(matching)) == 0
    assert json.loads((tmp_path / "g2" / "alice.json").read_text())["score"] == data["score"]  # the note costs nothing
    assert UNMATCHED in json.loads((out / "results.json").read_text())["output"]
    assert "differs from the course" in (out / "alice.html").read_text()


def test_cli_accepts_a_matching_reference(setup, tmp_path):
    manifest, report = setup
    ref = write_reference(tmp_path / "out", runs_block(100, 3))
    out = tmp_path / "grades"
    assert grade_cli(manifest, report, out, "--reference", str(ref)) == 0
    codes = [f["code"] for f in json.loads((out / "alice.json").read_text())["flags"]]
    assert "VS_REFERENCE" in codes and UNMATCHED not in codes


def test_gradescope_visibility_defaults_to_after_published_and_the_flag_changes_it(setup, tmp_path):
    manifest, report = setup
    assert grade_cli(manifest, report, tmp_path / "a") == 0
    result = json.loads((tmp_path / "a" / "results.json").read_text())
    assert result["visibility"] == "after_published"
    assert {t["visibility"] for t in result["tests"]} == {"after_published"}
    assert grade_cli(manifest, report, tmp_path / "b", "--visibility", "hidden") == 0
    result = json.loads((tmp_path / "b" / "results.json").read_text())
    assert result["visibility"] == "hidden" and {t["visibility"] for t in result["tests"]} == {"hidden"}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["grade", str(report), "-m", str(manifest), "--visibility", "students"])
    grade_parser = build_parser()._subparsers._group_actions[0].choices["grade"]
    (visibility,) = [a for a in grade_parser._actions if a.dest == "visibility"]
    assert tuple(visibility.choices) == VISIBILITIES


# --- the prediction interval -----------------------------------------------------------------------------------


def test_prediction_interval_is_t_times_the_floored_sd_times_root_one_plus_one_over_n():
    pi = prediction_interval({"mean": 0.95, "std": 0.01, "n": 3}, 0.95, 0.002)
    half = stats.t.ppf(0.975, 2) * 0.01 * math.sqrt(1 + 1 / 3)
    assert pi.low == pytest.approx(0.95 - half) and pi.high == pytest.approx(0.95 + half) and not pi.floored
    floored = prediction_interval({"mean": 0.95, "std": 0.0, "n": 5}, 0.9, 0.002)
    assert floored.high - 0.95 == pytest.approx(stats.t.ppf(0.95, 4) * 0.002 * math.sqrt(1.2)) and floored.floored
    one = prediction_interval({"mean": 0.95, "std": None, "n": 1}, 0.95, 0.002)
    assert one.high - 0.95 == pytest.approx(stats.norm.ppf(0.975) * 0.002 * math.sqrt(2))


def test_vs_reference_fires_outside_the_interval_and_stays_quiet_inside(tmp_path):
    manifest = course(tmp_path)
    ref = reference(tmp_path)  # C4: 95.0 % ± 0.2 % over 3 seeds -> 94.0-96.0 %
    assert flags_of(grade(f"{COMPARE}## C4\nTest accuracy: 0.9595\n", manifest, ref), "VS_REFERENCE") == []
    [far] = flags_of(grade(f"{COMPARE}## C4\nTest accuracy: 97.2 %\n", manifest, ref), "VS_REFERENCE")
    assert far.message.startswith("C4: 97.2 % here; the reproduction's 95 % prediction interval over 3 seeds is "
                                  "94.0–96.0 %")
    # 96.0 written with one decimal allows 95.95-96.05: it reaches the interval.
    assert flags_of(grade(f"{COMPARE}## C4\nTest accuracy: 96.0 %\n", manifest, ref), "VS_REFERENCE") == []


def test_vs_reference_with_one_seed_uses_the_floor_and_says_so(tmp_path):
    rows = [{"run": "c4", "label": "C4", "accuracy": {"mean": 0.95, "std": 0.0, "n": 1, "values": [0.95]}}]
    manifest = course(tmp_path)
    ref = reference(tmp_path, rows)  # 95 % ± 1.96 · 0.2 % · √2 = 94.45-95.55 %
    assert flags_of(grade(f"{COMPARE}## C4\nTest accuracy: 0.955\n", manifest, ref), "VS_REFERENCE") == []
    [flag] = flags_of(grade(f"{COMPARE}## C4\nTest accuracy: 0.957\n", manifest, ref), "VS_REFERENCE")
    assert "over 1 seed is 94.4–95.6 %" in flag.message
    assert "one seed has no spread" in flag.message and "normal quantile" in flag.message


def _claim(value: float, *, about: str = "C4", run: str = "", approximate: bool = False,
           low: float | None = None, high: float | None = None, written: str = "") -> Claim:
    return Claim("accuracy", value, written or f"{100 * value:g}", about, Location(3), split="test", decimals=0,
                 percent=True, run=run, approximate=approximate, low=low, high=high, context=f"line: {written}")


def _findings(tmp_path, claims: list[Claim], rows: list[dict] = REFERENCE_ROWS, differs: str = ""):
    manifest = course(tmp_path)
    ref = reference(tmp_path, rows)
    ref.differs = differs
    aliases = {name: [run.label] for name, run in manifest.runs.items()}
    settings = {name: {"epochs": r.train.epochs, "lr": r.train.lr, "batch_size": r.train.batch_size}
                for name, r in manifest.runs.items()}
    return SimpleNamespace(reference=ref, claims=claims, aliases=aliases, grading=grading_of(manifest),
                           run_settings=settings)


@pytest.mark.parametrize(("claim", "fires", "shown"), [
    (_claim(0.92, approximate=True, low=0.92, written="> 92"), False, ""),  # allows 94-96 %
    (_claim(0.90, approximate=True, high=0.90, written="< 90"), True, "at most 90.0 %"),
    (_claim(0.87, approximate=True, low=0.86, high=0.88, written="~87"), True, "between 86.0 and 88.0 %"),
    (_claim(0.93, approximate=True, low=0.925, high=0.945, written="~93"), False, ""),  # reaches 94.0 %
    (_claim(0.93), True, "93.0 %"),  # the same number, exact: 92.5-93.5 % is outside
])
def test_vs_reference_honours_an_approximate_claims_bounds(tmp_path, claim, fires, shown):
    flags = vs_reference(_findings(tmp_path, [claim]))
    assert [f.code for f in flags] == (["VS_REFERENCE"] if fires else [])
    if fires:
        assert flags[0].message.startswith(f"C4: {shown} here;")


def test_vs_reference_uses_the_claims_resolved_run_before_the_aliases(tmp_path):
    unnamed = _claim(0.80, about="My network")
    assert vs_reference(_findings(tmp_path, [unnamed])) == []
    resolved = _claim(0.80, about="My network", run="c4")
    [flag] = vs_reference(_findings(tmp_path, [resolved]))
    assert flag.message.startswith("C4: 80.0 % here")
    # A run resolved to C1+M3 is compared with C1+M3 even when the heading names C4.
    assert vs_reference(_findings(tmp_path, [_claim(0.93, about="C4", run="c1m3")])) == []


def test_vs_reference_notes_a_reference_used_anyway_once_per_report(tmp_path):
    flags = vs_reference(_findings(tmp_path, [_claim(0.95)], differs="the reproduction's test set differs"))
    assert [(f.code, f.severity, f.line) for f in flags] == [(UNMATCHED, "info", None)]


# --- the [grading] keys --------------------------------------------------------------------------------------


def test_reference_sds_is_replaced_by_reference_level_with_a_located_error(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text(COURSE + GRADING + "reference_sds = 3.0\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"course.toml: grading.reference_sds: replaced by reference_level"):
        grading_of(load_manifest(path))
    path.write_text(COURSE + GRADING + "reference_level = 0.9\n", encoding="utf-8")
    assert grading_of(load_manifest(path)).reference_level == 0.9
    assert GradingSpec().reference_level == 0.95
    path.write_text(COURSE + GRADING + "reference_level = 1.5\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="grading.reference_level"):
        grading_of(load_manifest(path))
