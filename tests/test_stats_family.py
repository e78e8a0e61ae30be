"""Many comparisons, one answer; like with like (issue 15, items 2 and 4; item 11's n in table cells).

References: statsmodels' ``multipletests(method="holm")`` for the correction, scipy's Welch ``ttest_ind`` confidence
interval for the 95 % CI.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.stats import ttest_ind
from statsmodels.stats.multitest import multipletests

from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.data.base import DatasetSplits, Split
from reportgen.render.env import make_env, mean_std
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.compare import analysis as compare_analysis
from reportgen.sections.conclusions import ranking
from reportgen.sections.stats import Family, compare_seeds, corrected, holm, power_note, rule, summarize, verdict
from tests.test_section_sweeps import fake

A = [0.90, 0.91, 0.92]
B = [0.85, 0.86, 0.88]
C = [0.90, 0.905, 0.915]
D = [0.80, 0.84, 0.79]


def test_welch_interval_matches_scipy():
    test = compare_seeds(A, B)
    reference = ttest_ind(A, B, equal_var=False).confidence_interval(0.95)
    assert test["ci"] == pytest.approx([reference.low, reference.high])
    assert test["ci"][0] < test["diff"] < test["ci"][1]


def test_holm_matches_statsmodels_and_keeps_the_raw_p():
    tests = [compare_seeds(A, B), compare_seeds(A, C), compare_seeds(A, D), compare_seeds([0.5], [0.6])]
    raw = [t["p"] for t in tests[:3]]
    holm(tests)
    reject, adjusted, _, _ = multipletests(raw, alpha=0.05, method="holm")
    assert [t["p"] for t in tests[:3]] == pytest.approx(list(adjusted))
    assert [t["p_raw"] for t in tests[:3]] == pytest.approx(raw)
    assert [t["significant"] for t in tests[:3]] == list(reject)
    assert {t["family"] for t in tests[:3]} == {3}
    assert tests[3]["testable"] is False and "p_raw" not in tests[3]  # untested: not part of the family
    assert "Holm-adjusted over 3" in verdict(tests[0]) and "95 % CI" in verdict(tests[0])


def test_one_test_listed_twice_counts_once():
    t = compare_seeds(A, B)
    p = t["p"]
    holm([t, t])
    assert t["p"] == p and "family" not in t


def test_holm_can_turn_a_lone_significant_gap_into_noise():
    # p ≈ 0.016 alone; with four other null comparisons Holm multiplies the smallest p by 5.
    tests = [compare_seeds(A, B)] + [compare_seeds(C, [0.9, 0.91, 0.905]) for _ in range(4)]
    assert tests[0]["significant"]
    holm(tests)
    assert not tests[0]["significant"] and tests[0]["p"] == pytest.approx(min(1.0, 5 * tests[0]["p_raw"]))


def test_corrected_replays_the_same_comparisons_after_the_correction():
    def write(family: Family) -> list[str]:
        return [verdict(family.compare(A, B)), verdict(family.compare(A, D))]

    text, family = corrected(write)
    assert family.size() == 2 and all("Holm-adjusted over 2" in t for t in text)
    assert "Holm-corrected for the 2 comparisons" in family.rule()


def test_rule_and_power_note():
    assert rule(1) == "Welch's t-test over seeds at the 5 % level"
    assert "Holm-corrected for the 4 comparisons" in rule(4)
    assert "little power" in power_note(3) and "3 seeds" in power_note(3)
    assert power_note(1) == "" and power_note(5) == ""


def test_conclusions_ranking_corrects_its_family_and_keeps_the_three_groups():
    runs = {name: {"label": name, "accuracy": summarize(v), "params": 1000, "macs": 1000}
            for name, v in {"a": A, "b": B, "c": C, "d": D, "one": [0.7]}.items()}
    table, text = ranking(runs)
    joined = " ".join(text)
    assert "Holm-corrected over 3 comparisons" in joined
    # "one" is a run that diverged on 2 of its 3 seeds: far below the best, but never called worse untested.
    assert "one (1 finished seed)" in joined and "Not tested against it" in joined
    below = next(t for t in text if t.startswith("Below it"))
    listed = below.rsplit(":", 1)[1].strip(" .").split(", ")
    assert "one" not in listed and "d" in listed
    rows = {r["run"]: r for r in table}
    assert rows["d"]["ci"] is not None and rows["one"]["ci"] is None


# --- like with like ------------------------------------------------------------------------------------------------


def _row(label, acc, setup):
    return {"label": label, "dataset": "digits", "accuracy": summarize(acc), "params": 10, "macs": 10,
            "train_seconds": summarize([1.0 if label == "fast" else 5.0] * 3), "other_tests": [], "timing": setup}


def test_training_times_are_compared_only_on_one_setup():
    same = {"device": "cpu", "device_name": "x", "threads": 2, "jobs": 1}
    text, family = compare_analysis([_row("fast", A, same), _row("slow", B, same)])
    assert any("fast trained fastest" in t for t in text) and family == 1
    text, _ = compare_analysis([_row("fast", A, same), _row("slow", B, {**same, "jobs": 2})])
    assert not any("fastest" in t for t in text)
    assert any("Training times are not compared" in t and "2 trainings at once" in t for t in text)


def _splits(n_test: int) -> DatasetSplits:
    g = torch.Generator().manual_seed(n_test)

    def split(n):
        return Split(torch.randint(0, 255, (n, 1, 4, 4), generator=g, dtype=torch.uint8), torch.arange(n) % 10)

    return DatasetSplits(split(40), split(10), split(n_test), tuple("0123456789"))


def _sweep(factor: str, values: list, outcomes: dict, data_of=None, datasets=None) -> dict:
    cls = SECTIONS.get("sweeps")
    base = RunSpec("base", "Base", "mnist5k", "mlp", {}, TrainConfig(lr=0.003))
    spec = SectionSpec(id="sw", type="sweeps", title="S", question="", marks=1, runs=("base",),
                       options={"factors": {factor: values}})
    derived = cls.derive_runs(spec, {"base": base}, datasets or {})
    spec = replace(spec, derived=tuple(derived))
    specs = {"base": base, **derived}
    groups = [RunGroup(name, specs[name], [0, 1, 2], [fake(7 * i + j, a) for j, a in enumerate(outcomes.get(name, A))],
                       data=data_of(name) if data_of else None)
              for i, name in enumerate(spec.all_runs)]
    return cls(spec).compute(SectionContext(spec, groups))


def test_a_split_sweep_does_not_rank_values_scored_on_different_test_sets():
    result = _sweep("split", [[0.7, 0.1, 0.2]], {"sw:split=[0.7, 0.1, 0.2]": D},
                    data_of=lambda name: _splits(20 if name == "base" else 10))
    factor = result["factors"][0]
    assert factor["best"] is None and factor["best_vs_worst"] is None and factor["spread"] is None
    assert "own test set (" in factor["not_comparable"] and "20" in factor["not_comparable"]
    assert any("shown in the table but not ranked" in t for t in result["analysis"])
    assert not any("moves validation accuracy the most" in t for t in result["analysis"])


def test_the_same_test_set_is_comparable():
    result = _sweep("split", [[0.7, 0.1, 0.2]], {"sw:split=[0.7, 0.1, 0.2]": D}, data_of=lambda name: _splits(20))
    assert result["factors"][0]["not_comparable"] == "" and result["factors"][0]["best"] is not None


def test_an_optimizer_sweep_at_the_baselines_rate_names_the_confound():
    result = _sweep("optimizer", ["adam", "sgd"], {"base": A, "sw:optimizer=sgd": D})
    factor = result["factors"][0]
    assert "every optimizer runs at the baseline's lr (0.003)" in factor["confound"]
    text = " ".join(result["analysis"])
    assert "not ranked against the others" in text and "moves validation accuracy the most" not in text


# --- table cells from fewer seeds ----------------------------------------------------------------------------------


def test_a_cell_from_fewer_seeds_than_asked_shows_its_n():
    assert mean_std(summarize([0.9, 0.92]), asked=3) == "91.0\u00a0±\u00a01.4\u00a0% (n\u00a0=\u00a02)"
    assert "(n" not in mean_std(summarize(A), asked=3)
    env = make_env()
    cell = env.from_string("{% set r = s.result %}{{ r.acc|mean_std }}")
    two = cell.render(s={"result": {"seeds": [0, 1, 2], "acc": summarize([0.9, 0.92])}})
    assert two.endswith("(n\u00a0=\u00a02)")
    three = cell.render(s={"result": {"seeds": [0, 1, 2], "acc": summarize(A)}})
    assert "n\u00a0=" not in three
    assert np.isfinite(summarize(A)["mean"])
