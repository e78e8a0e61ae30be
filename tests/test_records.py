"""Typed per-run records between sections: keyed by run name, never by label; stale or failed results never read."""

from __future__ import annotations

import json

from reportgen.config.specs import SectionSpec
from reportgen.grade.reference import load_reference
from reportgen.sections.base import SectionContext
from reportgen.sections.conclusions import ConclusionsSection
from reportgen.sections.records import RECORD_VERSION, collect_records


def _summary(values):
    import numpy as np

    return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)), "n": len(values), "values": values}


def _output(sid, rows, **flags):
    return {"id": sid, "type": "compare", "result": {"rows": rows, "analysis": []}, "figures": [],
            "spec": {"title": sid}, **flags}


def _row(run, label, values, dataset="digits"):
    return {"run": run, "label": label, "dataset": dataset, "accuracy": _summary(values), "params": 100, "macs": 10}


def test_two_runs_with_one_label_stay_two_runs():
    outputs = {"a": _output("a", [_row("c4", "C4", [0.9, 0.91])]),
               "b": _output("b", [_row("c4_wide", "C4", [0.8, 0.81])])}
    records = collect_records(outputs)
    assert list(records.runs) == ["c4", "c4_wide"]
    assert [r.label for r in records.runs.values()] == ["C4 (run c4)", "C4 (run c4_wide)"]
    assert all(r.version == RECORD_VERSION for r in records.runs.values())
    result = ConclusionsSection(SectionSpec("conclusions", "conclusions", "C", "", 0, ())).compute(
        SectionContext(SectionSpec("conclusions", "conclusions", "C", "", 0, ()), [], outputs))
    assert [row["run"] for row in result["ranking"]] == ["c4", "c4_wide"]
    assert "C4 (run c4) has the highest" in " ".join(result["analysis"])


def test_stale_failed_and_missing_results_are_left_out_and_said_so():
    outputs = {"fresh": _output("fresh", [_row("a", "A", [0.5, 0.52]), _row("b", "B", [0.6, 0.61])]),
               "old": _output("old", [_row("c", "C", [0.99, 0.99])], stale=True),
               "broken": _output("broken", [], error="my.py:3: ZeroDivisionError: division by zero"),
               "never": {"id": "never", "type": "compare", "missing": True, "result": {}, "figures": []}}
    records = collect_records(outputs)
    assert set(records.runs) == {"a", "b"}
    assert records.left_out == {"old": "stale", "broken": "failed", "never": "missing"}
    spec = SectionSpec("conclusions", "conclusions", "C", "", 0, ())
    result = ConclusionsSection(spec).compute(SectionContext(spec, [], outputs))
    text = " ".join(result["analysis"])
    assert "old (stale)" in text and "broken (failed)" in text and "C " not in text.replace("Conclusions", "")
    assert result["ranking"][0]["run"] == "b"


def test_grading_reference_never_reads_a_stale_section(tmp_path):
    results = {"sections": {
        "fresh": {"status": "ok", "result": {"rows": [_row("a", "A", [0.5, 0.52])]}},
        "old": {"status": "stale", "result": {"rows": [_row("a", "A", [0.99, 0.99]), _row("z", "Z", [0.1, 0.1])]}},
    }}
    (tmp_path / "results.json").write_text(json.dumps(results), encoding="utf-8")
    reference = load_reference(tmp_path)
    assert set(reference.runs) == {"a"}
    assert reference.runs["a"].metrics["accuracy"]["mean"] == 0.51


def test_only_types_that_declare_records_feed_the_conclusions():
    # A plugin's rows may carry an "accuracy" that is not the run's test accuracy (say, on its confident images).
    outputs = {"mine": {**_output("mine", [_row("a", "A", [0.99, 0.99])]), "type": "confident"},
               "fresh": _output("fresh", [_row("a", "A", [0.5, 0.52])])}
    assert collect_records(outputs).runs["a"].accuracy["mean"] == 0.51


def test_a_run_with_one_surviving_seed_is_never_called_worse():
    from reportgen.sections.conclusions import ranking

    runs = {"best": {"label": "Best", "accuracy": _summary([0.95, 0.951, 0.952]), "params": 1, "macs": 1},
            "worse": {"label": "Worse", "accuracy": _summary([0.80, 0.81, 0.805]), "params": 1, "macs": 1},
            "broke": {"label": "Broke", "accuracy": {"mean": 0.5, "std": 0.0, "n": 1, "values": [0.5]},
                      "params": 1, "macs": 1}}  # diverged on 2 of its 3 seeds
    _, text = ranking(runs)
    joined = " ".join(text)
    assert "Every other configuration" not in joined
    assert "Below it by more than seed-to-seed noise" in joined and "Worse" in joined
    assert "Not tested against it" in joined and "Broke (1 finished seed)" in joined
    _, text = ranking({k: runs[k] for k in ("best", "worse")})
    assert "Every other configuration is below it by more than seed-to-seed noise" in " ".join(text)


def test_a_consistent_gain_over_the_same_seeds_is_tested_paired():
    import numpy as np
    from scipy.stats import ttest_rel

    from reportgen.sections.stats import compare_paired, compare_seeds

    early = [0.20, 0.50, 0.80]  # seeds differ a lot...
    late = [0.25, 0.56, 0.84]  # ...but each gains about 5 points
    gains = list(np.subtract(late, early))
    paired = compare_paired(gains)
    assert paired["p"] == ttest_rel(late, early).pvalue and paired["significant"]
    assert not compare_seeds(late, early)["significant"]  # Welch's unpaired test misses it
    assert compare_paired([0.05, 0.05, 0.05])["testable"] is False  # no spread: untested, not p = 0
    assert compare_paired([0.05])["testable"] is False


def test_no_spread_or_an_undefined_test_is_untested_never_p_0_or_1():
    from reportgen.sections.stats import compare_seeds, verdict

    same = compare_seeds([0.9, 0.9, 0.9], [0.8, 0.8, 0.8])  # identical seeds on both sides: nothing to test against
    assert same["testable"] is False and same["p"] is None and "no spread" in verdict(same)
    one = compare_seeds([0.9], [0.8, 0.81])
    assert one["testable"] is False and "one seed" in verdict(one)
    real = compare_seeds([0.90, 0.91, 0.92], [0.80, 0.81, 0.79])
    assert real["testable"] and real["significant"] and real["p"] < 0.05
