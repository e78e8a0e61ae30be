"""conclusions: generated from other sections' stored results; claims only what the seeds support."""

from __future__ import annotations

import json

import pytest

from reportgen.config.specs import SectionSpec
from reportgen.sections import SECTIONS, SectionContext
from reportgen.sections.stats import summarize


def row(label: str, accs: list[float], params: int, macs: int = 1000) -> dict:
    return {"label": label, "accuracy": summarize(accs), "params": params, "macs": macs}


def output(sid: str, kind: str, result: dict) -> dict:
    return {"id": sid, "type": kind, "result": result, "spec": {"title": sid.title()}}


def conclude(outputs: dict) -> dict:
    spec = SectionSpec(id="conclusions", type="conclusions", title="Conclusions", question="", marks=5, runs=())
    result = SECTIONS.get("conclusions")(spec).compute(SectionContext(spec, [], outputs))
    json.dumps(result, allow_nan=False)
    return result


def per_class(label: str, recalls: list[float]) -> dict:
    return {"label": label, "per_class": [{"class": str(i), "recall": summarize([r])} for i, r in enumerate(recalls)]}


def test_ranking_tests_every_gap_against_seed_noise():
    result = conclude({
        "compare": output("compare", "compare", {"rows": [
            row("C4", [0.97, 0.975, 0.972], 28000),
            row("C1+M3", [0.971, 0.96, 0.975], 5000),   # overlaps C4: within noise
            row("M4", [0.90, 0.905, 0.902], 2000),      # clearly below
        ], "analysis": ["C4 leads."]}),
    })
    ranking = {r["label"]: r for r in result["ranking"]}
    assert [r["label"] for r in result["ranking"]] == ["C4", "C1+M3", "M4"]
    assert ranking["C1+M3"]["significant"] is False and ranking["M4"]["significant"] is True
    text = " ".join(result["analysis"])
    assert "C4 has the highest mean test accuracy (97.2 %)" in text
    assert "Within seed-to-seed noise of it" in text and "C1+M3" in text
    assert "better" not in text


def test_one_seed_means_nothing_is_tested():
    result = conclude({"compare": output("compare", "compare", {"rows": [
        row("A", [0.9], 100), row("B", [0.8], 50)]})})
    assert "no difference between them is tested" in " ".join(result["analysis"])
    assert all(r["p"] is None for r in result["ranking"])


def test_runs_in_several_sections_are_counted_once_and_size_is_related_to_accuracy():
    rows = [row("C4", [0.97, 0.971], 28000), row("C1+M3", [0.95, 0.951], 5000), row("C3+M5", [0.96, 0.962], 20000)]
    result = conclude({
        "compare": output("compare", "compare", {"rows": rows[:2]}),
        "block_mix": output("block_mix", "block_mix", {"rows": rows}),
    })
    assert len(result["ranking"]) == 3
    size = " ".join(result["findings"]["size"])
    assert "Spearman's ρ = 1.00 over 3 runs" in size
    assert "C1+M3, has 5.6× fewer parameters than C4" in size


def test_recall_collapse_on_under_represented_classes_is_noticed():
    recalls = [0.98, 0.97, 0.99, 0.96, 0.40, 0.97, 0.98, 0.55, 0.97, 0.96]
    result = conclude({
        "data": output("data", "data", {"datasets": [{"under_represented": [
            {"class": "4", "count": 25, "share": 0.08}, {"class": "7", "count": 25, "share": 0.08}]}]}),
        "confusion": output("confusion", "confusion", {"runs": [per_class("C4", recalls)]}),
    })
    classes = result["findings"]["classes"]
    assert classes[0] == "The training data under-represents classes 4 and 7."
    assert "C4's recall collapses on class 4 (40.0 %), 7 (55.0 %)" in classes[1]


def test_no_collapse_is_said_when_classes_are_scarce_but_recall_holds():
    result = conclude({
        "data": output("data", "data", {"datasets": [{"under_represented": ["0"]}]}),
        "confusion": output("confusion", "confusion", {"runs": [per_class("C4", [0.95] * 10)]}),
    })
    assert result["findings"]["classes"][-1] == "No run's recall collapses on any class despite that."


@pytest.mark.parametrize("outputs", [{}, {"x": output("x", "predictions", {"analysis": []})}])
def test_nothing_to_conclude_from(outputs):
    result = conclude(outputs)
    assert result["ranking"] == [] and result["analysis"] == []


def test_sweeps_are_ranked_by_how_far_they_move_accuracy():
    sweep = {"baseline": {"label": "C1+M3"}, "factors": [
        {"factor": "epochs", "spread": 0.02, "rows": [{"label": "epochs = 2", "status": "ok"}]},
        {"factor": "lr", "spread": 0.31, "rows": [{"label": "lr = 10", "status": "diverged"}]},
    ]}
    result = conclude({"sweeps": output("sweeps", "sweeps", sweep)})
    assert result["findings"]["sweeps"] == [
        "Changing one factor at a time from C1+M3, accuracy moved most with: lr (31.0 points), epochs (2.0 points) "
        "(test accuracy of the best minus the worst value, both chosen on validation).",
        "Runs that did not train: lr = 10 (diverged).",
    ]


def test_runs_on_different_data_are_ranked_separately():
    lines = [dict(row("big (lines)", [0.55, 0.54], 6_500_000), dataset="lines"),
             dict(row("small (lines)", [0.96, 0.965], 36_000), dataset="lines")]
    digits = [dict(row("big (digits)", [0.954, 0.955], 6_500_000), dataset="digits"),
              dict(row("small (digits)", [0.96, 0.961], 36_000), dataset="digits")]
    result = conclude({"a": output("a", "compare", {"rows": lines}), "b": output("b", "compare", {"rows": digits})})
    assert [(r["dataset"], r["label"]) for r in result["ranking"]] == [
        ("digits", "small (digits)"), ("digits", "big (digits)"), ("lines", "small (lines)"), ("lines", "big (lines)")]
    text = result["findings"]["ranking"]
    assert text[0] == "On digits: of the 2 configurations in this report, small (digits) has the highest mean test " \
                      "accuracy (96.0 %)."
    assert any(t.startswith("On lines: of the 2 configurations") for t in text)
