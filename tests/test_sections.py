"""Section types on synthetic runs: JSON-able results, figures that draw, numbers equal to scikit-learn's,
and generated text that never claims more than the seeds support.

The contract tests are parametrized over ``SECTIONS.names()``, so a newly registered type is covered at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, precision_recall_fscore_support

from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.sections import SECTIONS, Figure, RunGroup, SectionContext
from reportgen.training.result import RunFailure, RunResult
from tests import support

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
N, K = 200, 10
CLASSES = tuple(str(i) for i in range(K))


def make_result(seed: int, *, accuracy: float | None = None, n: int = N, params: int = 1000, macs: int = 20000,
                train_seconds: float = 2.0, key: str | None = None) -> RunResult:
    """Predictions over ``K`` classes that are right ~80 % of the time, or exactly ``accuracy`` of the time."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, K, size=n).astype(np.int64)
    if accuracy is None:
        correct = rng.random(n) < 0.8
    else:
        correct = np.zeros(n, dtype=bool)
        correct[rng.choice(n, size=round(accuracy * n), replace=False)] = True
    y_pred = np.where(correct, y_true, (y_true + rng.integers(1, K, size=n)) % K)
    prob = rng.random((n, K)) * 0.5
    prob[np.arange(n), y_pred] += 2.0
    prob = (prob / prob.sum(axis=1, keepdims=True)).astype(np.float32)
    history = {
        "train_loss": [2.0, 1.0, 0.5 + 0.01 * seed],
        "val_loss": [2.1, 1.2, 0.7],
        "train_acc": [0.4, 0.7, 0.85],
        "val_acc": [0.35, 0.65, 0.8 - 0.01 * seed],
        "epoch_seconds": [0.6, 0.7, 0.7],
    }
    return RunResult(
        key=key or f"{seed:020d}",
        spec={"seed": seed},
        history=history,
        test_true=y_true,
        test_prob=prob,
        test_features=rng.standard_normal((n, 4)).astype(np.float32),
        classes=CLASSES,
        params=params,
        macs=macs,
        train_seconds=train_seconds,
        provenance={"device": "cpu"},
    )


def run_spec(name: str, label: str | None = None) -> RunSpec:
    return RunSpec(name, label or name.upper(), "digits", "mlp", {}, TrainConfig(epochs=3))


def group(name: str, outcomes: list, seeds: list[int] | None = None, label: str | None = None) -> RunGroup:
    return RunGroup(name, run_spec(name, label), seeds or list(range(len(outcomes))), outcomes)


def section_spec(kind: str, groups: list[RunGroup], **options) -> SectionSpec:
    return SectionSpec(id=f"q_{kind}", type=kind, title=f"A {kind} question", question="Why?", marks=1.0,
                       runs=tuple(g.name for g in groups), options=options)


def compute(kind: str, groups: list[RunGroup], **options):
    spec = section_spec(kind, groups, **options)
    impl = SECTIONS.get(kind)(spec)
    return impl, impl.compute(SectionContext(spec, groups))


def run_count_for(kind: str) -> int:
    low, high = SECTIONS.get(kind).run_count
    n = max(low, 2)
    return n if high is None else min(n, high)


def synthetic_groups(kind: str, n_seeds: int) -> list[RunGroup]:
    groups = []
    for i in range(run_count_for(kind)):
        seeds = list(range(n_seeds))
        outcomes = [make_result(100 * i + s, params=1000 * (i + 1), train_seconds=1.0 + i) for s in seeds]
        groups.append(group(f"run{i}", outcomes, seeds))
    return groups


def draw_all(impl, result) -> list[Figure]:
    figures = impl.figures(result)
    for f in figures:
        assert isinstance(f, Figure)
        assert f.caption.strip() and f.alt.strip(), f.name
        fig = f.draw()
        try:
            assert isinstance(fig, matplotlib.figure.Figure), f.name
            assert fig.axes, f.name
            fig.canvas.draw()  # render for real, as savefig would
        finally:
            plt.close(fig)
    assert len({f.name for f in figures}) == len(figures), "figure names must be unique within a section"
    for f in figures:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", f.name), f"{f.name!r} becomes a file name"
    return figures


# --- the contract, for every registered section type -------------------------------------------------------


def test_builtin_types_are_registered():
    assert {"compare", "confusion"} <= set(SECTIONS.names())


@pytest.mark.parametrize("kind", SECTIONS.names())
def test_declaration(kind):
    cls = SECTIONS.get(kind)
    low, high = cls.run_count
    assert low >= 0 and (high is None or high >= low)
    assert cls.template and (TEMPLATES / cls.template).is_file()
    cls.Options(**cls.example_options)  # the documented example is a valid set of options


def real_groups(kind: str, seeds: tuple[int, ...] = (0, 1), models: tuple[str, str] = ("conv", "mobilenet")
                ) -> tuple[SectionSpec, list[RunGroup], dict]:
    """Real tiny trained groups for ``kind``: its declared runs (of ``models``, names in support.TINY_MODELS), any
    runs it derives, and for a section that summarises others, the outputs of compare and confusion on the same
    runs."""
    cls = SECTIONS.get(kind)
    low, high = cls.run_count
    n = max(low, min(2, high if high is not None else 2))
    specs = {name: support.tiny_spec(name) for name in models[:n]}
    spec = SectionSpec(id=f"q_{kind}", type=kind, title=f"A {kind} question", question="Why?", marks=1.0,
                       runs=tuple(specs), options=dict(cls.example_options))
    derived = cls.derive_runs(spec, specs, {})
    spec = replace(spec, derived=tuple(derived))
    specs.update(derived)
    groups = [support.group_for(specs[name], seeds) for name in spec.all_runs]
    outputs = {}
    if cls.summarises:
        basis = [support.group_for(support.tiny_spec(name), seeds) for name in ("conv", "mobilenet")]
        for other in ("compare", "confusion"):
            other_spec = SectionSpec(id=other, type=other, title=other.title(), question="", marks=1.0,
                                     runs=tuple(g.name for g in basis))
            result = SECTIONS.get(other)(other_spec).compute(SectionContext(other_spec, basis))
            outputs[other] = {"id": other, "type": other, "result": json.loads(json.dumps(result)),
                              "spec": asdict(other_spec)}
    return spec, groups, outputs


def compute_real(kind: str, spec: SectionSpec, groups: list[RunGroup], outputs: dict):
    impl = SECTIONS.get(kind)(spec)
    return impl, impl.compute(SectionContext(spec, groups, outputs))


@pytest.mark.parametrize("n_seeds", [1, 2])
@pytest.mark.parametrize("kind", SECTIONS.names())
def test_compute_is_json_and_figures_draw(kind, n_seeds):
    spec, groups, outputs = real_groups(kind, tuple(range(n_seeds)))
    impl, result = compute_real(kind, spec, groups, outputs)
    assert isinstance(result, dict)
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text) == result  # plain data only: no tuples, numpy scalars or arrays
    assert isinstance(result.get("analysis"), list)
    draw_all(impl, result)


@pytest.mark.parametrize("kind", SECTIONS.names())
def test_compute_does_not_modify_the_runs(kind):
    spec, groups, outputs = real_groups(kind)
    before = [(r.test_true.copy(), r.test_prob.copy(), json.dumps(r.history)) for g in groups for r in g.results]
    weights = [{k: v.clone() for k, v in r.state_dict.items()} for g in groups for r in g.results]
    compute_real(kind, spec, groups, outputs)
    after = [(r.test_true, r.test_prob, json.dumps(r.history)) for g in groups for r in g.results]
    for (t0, p0, h0), (t1, p1, h1) in zip(before, after, strict=True):
        np.testing.assert_array_equal(t0, t1)
        np.testing.assert_array_equal(p0, p1)
        assert h0 == h1
    for w0, r in zip(weights, [r for g in groups for r in g.results], strict=True):
        assert all(torch.equal(w0[k], r.state_dict[k]) for k in w0)


def runs_kind(kind: str) -> bool:
    return SECTIONS.get(kind).run_count != (0, 0)


@pytest.mark.parametrize("kind", [k for k in SECTIONS.names() if runs_kind(k)])
def test_failed_seed_is_reported(kind):
    spec, groups, outputs = real_groups(kind)
    groups[0].outcomes[1] = RunFailure("f" * 20, {}, "TrainingError: loss is nan")
    impl, result = compute_real(kind, spec, groups, outputs)
    text = json.dumps(result, allow_nan=False)
    assert "seed 1: failed: TrainingError: loss is nan" in text
    draw_all(impl, result)


@pytest.mark.parametrize("kind", [k for k in SECTIONS.names() if runs_kind(k)])
def test_diverged_seed_is_reported_not_used(kind):
    spec, groups, outputs = real_groups(kind)
    diverged = replace(groups[0].outcomes[1], status="diverged", reason="training loss became nan in epoch 2")
    diverged.test_prob = np.full_like(diverged.test_prob, np.nan)  # what NaN weights predict
    groups[0].outcomes[1] = diverged
    impl, result = compute_real(kind, spec, groups, outputs)
    text = json.dumps(result, allow_nan=False)  # no NaN leaked into the numbers
    assert "seed 1: diverged: training loss became nan in epoch 2" in text
    draw_all(impl, result)


@pytest.mark.parametrize("kind", [k for k in SECTIONS.names() if runs_kind(k)])
def test_run_with_every_seed_failed(kind):
    spec, groups, outputs = real_groups(kind)
    groups[0].outcomes[:] = [RunFailure("e" * 20, {}, "boom 0"), RunFailure("f" * 20, {}, "boom 1")]
    impl, result = compute_real(kind, spec, groups, outputs)
    text = json.dumps(result, allow_nan=False)
    assert "seed 0: failed: boom 0" in text and "seed 1: failed: boom 1" in text
    draw_all(impl, result)


# --- compare: numbers against scikit-learn -----------------------------------------------------------------


def sklearn_metrics(r: RunResult) -> dict[str, float]:
    pred = r.test_prob.argmax(axis=1)
    p, rc, f1, _ = precision_recall_fscore_support(r.test_true, pred, average="macro", zero_division=0)
    return {"accuracy": accuracy_score(r.test_true, pred), "precision_macro": p, "recall_macro": rc, "f1_macro": f1}


def test_compare_metrics_equal_sklearn_one_seed():
    a, b = make_result(1, params=5000, macs=70000, train_seconds=3.5), make_result(2)
    _, result = compute("compare", [group("a", [a]), group("b", [b])])
    for row, r in zip(result["rows"], (a, b), strict=True):
        expected = sklearn_metrics(r)
        for metric, value in expected.items():
            assert row[metric]["mean"] == pytest.approx(value, abs=1e-12), metric
            assert row[metric]["std"] == 0.0
            assert row[metric]["n"] == 1
    row = result["rows"][0]
    assert (row["run"], row["label"], row["params"], row["macs"], row["epochs"]) == ("a", "A", 5000, 70000, 3)
    assert row["train_seconds"]["mean"] == 3.5
    assert row["status"] == "ok" and row["failures"] == []
    assert result["seeds"] == [0]
    assert 0.7 < row["accuracy"]["mean"] < 0.9  # the synthetic runs are right about 80 % of the time


def test_compare_mean_and_std_over_two_seeds():
    runs = [make_result(11), make_result(12)]
    other = [make_result(13), make_result(14)]
    _, result = compute("compare", [group("a", runs), group("b", other)])
    row = result["rows"][0]
    for metric in ("accuracy", "precision_macro", "recall_macro", "f1_macro"):
        values = [sklearn_metrics(r)[metric] for r in runs]
        assert row[metric]["values"] == pytest.approx(values)
        assert row[metric]["mean"] == pytest.approx(np.mean(values))
        assert row[metric]["std"] == pytest.approx(np.std(values, ddof=1))
        assert row[metric]["n"] == 2
    assert result["seeds"] == [0, 1]


def test_compare_curves_are_means_over_seeds():
    runs = [make_result(0), make_result(1)]
    _, result = compute("compare", [group("a", runs), group("b", [make_result(2), make_result(3)])])
    curves = result["curves"]["A"]
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        assert curves[key] == pytest.approx(np.mean([r.history[key] for r in runs], axis=0).tolist())


@pytest.mark.parametrize(
    ("sort_by", "order"),
    [("manifest", ["a", "b", "c"]), ("accuracy", ["b", "c", "a"]), ("params", ["c", "a", "b"])],
)
def test_compare_sort_by(sort_by, order):
    groups = [
        group("a", [make_result(0, accuracy=0.6, params=200)]),
        group("b", [make_result(1, accuracy=0.9, params=300)]),
        group("c", [make_result(2, accuracy=0.75, params=100)]),
    ]
    _, result = compute("compare", groups, sort_by=sort_by)
    assert [row["run"] for row in result["rows"]] == order


def test_compare_failure_is_reported():
    groups = [group("a", [make_result(0), RunFailure("f" * 20, {}, "CUDA out of memory")]),
              group("b", [make_result(1), make_result(2)])]
    _, result = compute("compare", groups)
    row = result["rows"][0]
    assert row["failures"] == ["seed 1: failed: CUDA out of memory"]
    assert row["status"] == "incomplete"
    assert row["accuracy"]["n"] == 1
    assert result["rows"][1]["failures"] == [] and result["rows"][1]["status"] == "ok"


# --- compare: the generated analysis -----------------------------------------------------------------------


def analysis_for(acc_a: list[float], acc_b: list[float]) -> list[str]:
    seeds = list(range(len(acc_a)))
    a = group("a", [make_result(10 + s, accuracy=x, params=2000, train_seconds=1.0) for s, x in zip(seeds, acc_a,
                                                                                                     strict=True)])
    b = group("b", [make_result(20 + s, accuracy=x, params=1000, train_seconds=4.0) for s, x in zip(seeds, acc_b,
                                                                                                     strict=True)])
    _, result = compute("compare", [a, b])
    assert isinstance(result["analysis"], list) and all(isinstance(s, str) for s in result["analysis"])
    return result["analysis"]


def assert_no_unearned_better(text: str) -> None:
    rest = text.replace("do not show either run to be better", "")
    assert "better" not in rest.lower(), text


def test_analysis_one_seed_does_not_test_the_gap():
    text = " ".join(analysis_for([0.9], [0.7]))
    assert "A reaches 90.0 % test accuracy, 20.0 points above B (70.0 %)" in text
    assert "2.0× more parameters" in text
    assert "not tested" in text
    assert "seed-to-seed spread" not in text and "within seed-to-seed noise" not in text
    assert_no_unearned_better(text)
    assert "A trained fastest (1.0 s per seed), B slowest (4.0 s)." in text


def test_analysis_separated_seeds_exceed_the_spread():
    text = " ".join(analysis_for([0.9, 0.91, 0.92], [0.7, 0.715, 0.72]))
    assert "larger than the seed-to-seed spread" in text
    assert "Welch's t-test p < 0.001" in text or "Welch's t-test p = " in text
    assert "not tested" not in text and "within seed-to-seed noise" not in text
    assert_no_unearned_better(text)


def test_analysis_overlapping_seeds_are_within_noise():
    text = " ".join(analysis_for([0.8, 0.85, 0.78], [0.79, 0.83, 0.81]))
    assert "within seed-to-seed noise" in text
    assert "the data do not show either run to be better" in text
    assert "larger than the seed-to-seed spread" not in text and "not tested" not in text
    assert_no_unearned_better(text)


def test_analysis_names_the_leader_whatever_the_order():
    text = " ".join(analysis_for([0.7, 0.71, 0.72], [0.9, 0.905, 0.92]))
    assert text.startswith("B reaches ")
    assert "above A" in text


def test_analysis_with_one_finished_run():
    groups = [group("a", [make_result(0)]), group("b", [RunFailure("f" * 20, {}, "boom")])]
    _, result = compute("compare", groups)
    assert result["analysis"] == ["Fewer than two runs finished, so there is nothing to compare."]


# --- confusion: numbers against scikit-learn ---------------------------------------------------------------


def report_of(r: RunResult) -> dict:
    return classification_report(r.test_true, r.test_prob.argmax(axis=1), labels=list(range(K)),
                                 target_names=list(CLASSES), output_dict=True, zero_division=0)


def test_confusion_matrix_and_report_equal_sklearn():
    a, b = make_result(3), make_result(4)
    _, result = compute("confusion", [group("a", [a]), group("b", [b])])
    for entry, r in zip(result["runs"], (a, b), strict=True):
        pred = r.test_prob.argmax(axis=1)
        assert entry["matrix"] == confusion_matrix(r.test_true, pred, labels=list(range(K))).tolist()
        assert entry["classes"] == list(CLASSES)
        assert entry["matrix_seed"] == 0
        report = report_of(r)
        assert entry["accuracy"]["mean"] == pytest.approx(report["accuracy"])
        assert entry["accuracy"]["mean"] == pytest.approx(accuracy_score(r.test_true, pred))
        assert [c["class"] for c in entry["per_class"]] == list(CLASSES)
        for c in entry["per_class"]:
            for metric in ("precision", "recall", "f1-score"):
                assert c[metric]["mean"] == pytest.approx(report[c["class"]][metric], abs=1e-12), (c, metric)
            assert c["support"] == report[c["class"]]["support"]
        for avg in ("macro avg", "weighted avg"):
            for metric in ("precision", "recall", "f1-score"):
                assert entry["averages"][avg][metric]["mean"] == pytest.approx(report[avg][metric])
        assert entry["failures"] == []


def test_confusion_mean_and_std_over_two_seeds():
    runs = [make_result(5), make_result(6)]
    _, result = compute("confusion", [group("a", runs)])
    entry = result["runs"][0]
    reports = [report_of(r) for r in runs]
    for c in entry["per_class"]:
        for metric in ("precision", "recall", "f1-score"):
            values = [rep[c["class"]][metric] for rep in reports]
            assert c[metric]["mean"] == pytest.approx(np.mean(values))
            assert c[metric]["std"] == pytest.approx(np.std(values, ddof=1))
    accuracies = [rep["accuracy"] for rep in reports]
    assert entry["accuracy"]["mean"] == pytest.approx(np.mean(accuracies))
    assert entry["accuracy"]["std"] == pytest.approx(np.std(accuracies, ddof=1))
    # the matrix shown is the first seed's
    first = runs[0]
    assert entry["matrix"] == confusion_matrix(first.test_true, first.test_pred, labels=list(range(K))).tolist()


def test_confusion_matrix_of_the_first_finished_seed():
    second = make_result(8)
    g = group("a", [RunFailure("f" * 20, {}, "killed"), second], seeds=[3, 7])
    _, result = compute("confusion", [g])
    entry = result["runs"][0]
    assert entry["matrix_seed"] == 7
    assert entry["matrix"] == confusion_matrix(second.test_true, second.test_pred, labels=list(range(K))).tolist()
    assert entry["failures"] == ["seed 3: failed: killed"]


def test_confusion_describes_the_weakest_class():
    """A hand-made 3-class case whose text can be checked word for word."""
    y_true = np.array([0] * 10 + [1] * 10 + [2] * 10)
    y_pred = np.array([0] * 10 + [1] * 4 + [2] * 5 + [0] * 1 + [2] * 9 + [1] * 1)
    prob = np.eye(3, dtype=np.float32)[y_pred]
    r = RunResult(key="k" * 20, spec={}, history={}, test_true=y_true, test_prob=prob,
                  test_features=np.zeros((30, 2), np.float32), classes=("cat", "dog", "fox"), params=1, macs=1,
                  train_seconds=1.0)
    _, result = compute("confusion", [group("a", [r], label="Net")])
    assert result["analysis"] == [
        "Net classifies 76.7 % of the 30 test images correctly; its lowest recall is class dog (40.0 %), most often "
        "mistaken for fox (5 of 10). Its most frequent confusion overall is true dog predicted as fox (5 images)."
    ]


def test_confusion_compares_the_first_two_runs():
    a, b = make_result(1), make_result(2)
    _, result = compute("confusion", [group("a", [a]), group("b", [b])])
    recalls = [{name: report_of(r)[name]["recall"] for name in CLASSES} for r in (a, b)]
    gap, cls = max((abs(recalls[0][c] - recalls[1][c]), c) for c in CLASSES)
    assert result["analysis"][-1].startswith(f"A and B differ most on class {cls}: recall ")
    assert len(result["analysis"]) == 3
