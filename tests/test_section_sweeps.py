"""``sweeps``: derived runs and their located errors, numbers against scikit-learn on real tiny runs, diverged
and failed values kept in view, text that never claims more than the seeds support, and the panels."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import parse_manifest
from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.training.result import RunFailure, RunResult
from tests import support

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def manifest(factors: dict, **run) -> dict:
    """A parsed-TOML manifest: baseline ``base`` (C1+M3 on a named mnist5k dataset) and a sweeps section."""
    base = {"label": "Base", "dataset": "digits", "epochs": 2, "lr": 0.003,
            "model": {"arch": "conv_mobilenet", "conv_blocks": 1, "mobilenet_blocks": 3, "channels": 8}, **run}
    return {
        "report": {"title": "T"},
        "datasets": {"digits": {"kind": "mnist5k", "split": [0.6, 0.2, 0.2]}},
        "runs": {"base": base, "other": {"extends": "base", "label": "Other", "lr": 0.03}},
        "sections": {"sw": {"type": "sweeps", "runs": ["base"], "factors": factors}},
    }


def parse(factors: dict, **run):
    return parse_manifest(manifest(factors, **run), path=Path("/tmp/m.toml"))


def error_of(factors: dict, **run) -> str:
    with pytest.raises(ManifestError) as err:
        parse(factors, **run)
    return str(err.value)


# --- derive_runs --------------------------------------------------------------------------------------------


def test_derived_runs_vary_one_factor_and_skip_the_baseline_value():
    m = parse({"lr": [0.0003, 0.003, 0.03], "loss": ["focal"], "split": [[0.8, 0.1, 0.1]],
               "model.channels": [16], "epochs": [1, 2]})
    section = m.sections["sw"]
    assert section.derived == ("sw:lr=0.0003", "sw:lr=0.03", "sw:loss=focal", "sw:split=[0.8, 0.1, 0.1]",
                               "sw:model.channels=16", "sw:epochs=1")
    assert section.all_runs == ("base", *section.derived)
    base = m.runs["base"]
    lr = m.runs["sw:lr=0.03"]
    assert lr.label == "lr = 0.03" and lr.train == replace(base.train, lr=0.03)
    assert (lr.arch, lr.model_options, lr.dataset, lr.dataset_overrides) == (base.arch, base.model_options,
                                                                             "digits", {})
    assert m.runs["sw:loss=focal"].train.loss == "focal"
    split = m.runs["sw:split=[0.8, 0.1, 0.1]"]
    assert split.dataset_overrides == {"split": (0.8, 0.1, 0.1)} and split.train == base.train
    assert m.runs["sw:model.channels=16"].model_options == {**base.model_options, "channels": 16}


def test_a_derived_run_equal_to_a_manifest_run_shares_its_training():
    from reportgen.runs.plan import dataset_of, make_plan

    data = manifest({"lr": [0.03], "split": [[0.8, 0.1, 0.1]]})
    data["sections"]["cmp"] = {"type": "compare", "runs": ["base", "other"]}
    m = parse_manifest(data, path=Path("/tmp/m.toml"))
    plan = make_plan(m)
    assert plan.by_name["sw:lr=0.03"][0].key == plan.by_name["other"][0].key
    assert dataset_of(m, m.runs["sw:split=[0.8, 0.1, 0.1]"]) == ("mnist5k", {"split": (0.8, 0.1, 0.1)})
    assert plan.by_name["sw:split=[0.8, 0.1, 0.1]"][0].key != plan.by_name["base"][0].key


@pytest.mark.parametrize(("factors", "run", "message"), [
    ({"lr": [0.01, 0.1, -1]}, {}, "sections.sw.factors.lr[2]: must be > 0, got -1"),
    ({"lerning_rate": [0.1]}, {}, 'sections.sw.factors.lerning_rate: unknown factor "lerning_rate"; did you mean '
                                  '"lr"?'),
    ({"channels": [8]}, {}, 'sections.sw.factors.channels: unknown factor "channels"; did you mean '
                            '"model.channels"?'),
    ({"model.chanels": [8]}, {}, 'did you mean "model.channels"?'),
    ({"optimizer": ["adam", "sgdd"]}, {}, 'sections.sw.factors.optimizer[1]: unknown value "sgdd"; did you mean '
                                          '"sgd"?'),
    ({"split": [[0.5, 0.5, 0.5]]}, {}, "sections.sw.factors.split[0]: must add up to 1"),
    ({"batch_size": [32, 32]}, {}, "sections.sw.factors.batch_size[1]: 32 is listed twice"),
    ({"epochs": []}, {}, "sections.sw.factors.epochs: needs at least one value"),
    ({}, {}, "sections.sw.factors: needs at least one factor"),
    ({"loss": ["cross_entropy", "mse"]}, {"label_smoothing": 0.1},
     'sections.sw.factors.loss[1]: label_smoothing = 0.1 applies to loss "cross_entropy" only, not "mse"'),
    ({"label_smoothing": [0.1]}, {"loss": "focal"},
     'sections.sw.factors.label_smoothing[0]: label_smoothing = 0.1 applies to loss "cross_entropy" only'),
])
def test_bad_factors_are_located(factors, run, message):
    assert message in error_of(factors, **run)


def test_missing_factors_table_is_an_error():
    data = manifest({})
    del data["sections"]["sw"]["factors"]
    with pytest.raises(ManifestError, match='sections.sw: missing required key "factors"'):
        parse_manifest(data, path=Path("/tmp/m.toml"))


def test_split_needs_a_dataset_kind_with_a_split():
    from reportgen.sections.sweeps import factor_table

    spec = RunSpec("b", "B", "mnist5k", "mlp", {}, TrainConfig())
    assert "split" in factor_table(spec, {}) and "model.hidden" in factor_table(spec, {})
    assert "model.channels" not in factor_table(spec, {})


# --- compute on real tiny runs ------------------------------------------------------------------------------


def sweep(factors: dict, baseline: RunSpec, seeds=(0,), replace_outcomes=None):
    """Derive, train (tiny, memoised) and compute a sweeps section like a build would."""
    cls = SECTIONS.get("sweeps")
    spec = SectionSpec(id="sw", type="sweeps", title="S", question="", marks=5, runs=("base",),
                       options={"factors": factors})
    derived = cls.derive_runs(spec, {"base": baseline}, {})
    spec = replace(spec, derived=tuple(derived))
    specs = {"base": baseline, **derived}
    groups = [support.group_for(specs[n], seeds) for n in spec.all_runs]
    for name, outcomes in (replace_outcomes or {}).items():
        groups = [replace(g, outcomes=outcomes) if g.name == name else g for g in groups]
    impl = cls(spec)
    return impl, impl.compute(SectionContext(spec, groups)), groups


def test_rows_equal_sklearn_and_the_baseline_is_inserted_in_order():
    baseline = replace(support.tiny_spec("mlp", epochs=1), name="base")
    impl, result, groups = sweep({"lr": [0.001, 0.1]}, baseline)
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    (factor,) = result["factors"]
    assert [r["value"] for r in factor["rows"]] == [0.001, 0.01, 0.1]
    assert [r["baseline"] for r in factor["rows"]] == [False, True, False]
    assert [r["run"] for r in factor["rows"]] == ["sw:lr=0.001", "base", "sw:lr=0.1"]
    by_name = {g.name: g for g in groups}
    for row in factor["rows"]:
        (r,) = by_name[row["run"]].results
        assert row["accuracy"]["mean"] == pytest.approx(accuracy_score(r.test_true, r.test_pred))
        assert row["f1_macro"]["mean"] == pytest.approx(f1_score(r.test_true, r.test_pred, average="macro"))
        assert row["final_train_loss"]["mean"] == r.history["train_loss"][-1]
        assert row["val_accuracy"]["mean"] == r.history["val_acc"][-1]
        assert row["status"] == "ok"
    val = [r["val_accuracy"]["mean"] for r in factor["rows"]]
    test = [r["accuracy"]["mean"] for r in factor["rows"]]
    assert factor["best"] == int(np.argmax(val)) and factor["worst"] == int(np.argmin(val))
    assert factor["val_spread"] == pytest.approx(max(val) - min(val))
    assert factor["spread"] == pytest.approx(test[factor["best"]] - test[factor["worst"]])
    assert factor["log_x"] and factor["numeric"]
    text = " ".join(result["analysis"])
    assert "lr moves validation accuracy the most" in text and "not tested against seed-to-seed noise" in text
    assert "beats" not in text  # one seed: no gap is tested, so nothing beats anything
    draw(impl, result)


def test_baseline_value_listed_is_the_baseline_run():
    baseline = replace(support.tiny_spec("mlp", epochs=1), name="base")
    _, result, _ = sweep({"optimizer": ["sgd", "adam"], "split": [[0.6, 0.2, 0.2], [0.8, 0.1, 0.1]]}, baseline)
    opt, split = result["factors"]
    assert [(r["text"], r["run"]) for r in opt["rows"]] == [("sgd", "sw:optimizer=sgd"), ("adam", "base")]
    assert [(r["text"], r["baseline"]) for r in split["rows"]] == [("[0.6, 0.2, 0.2]", True),
                                                                    ("[0.8, 0.1, 0.1]", False)]
    assert not opt["numeric"] and not split["numeric"]


# --- diverged and failed values, and the text ----------------------------------------------------------------


def fake(seed: int, accuracy: float, status: str = "ok", n: int = 200, val: float | None = None) -> RunResult:
    """A run right ``accuracy`` of the time on test (about), whose last validation accuracy is ``val`` (default: its
    test accuracy)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    pred = np.where(rng.random(n) < accuracy, y, (y + 1) % 10)
    prob = np.eye(10, dtype=np.float32)[pred]
    if status != "ok":
        prob[:] = np.nan
    val = float((pred == y).mean()) if val is None else val
    history = {"train_loss": [2.0, 1.0 if status == "ok" else float("nan")], "val_acc": [0.1, val]}
    return RunResult(f"{seed:020d}", {}, history, y, prob, np.zeros((n, 2), np.float32), tuple("0123456789"), 10, 10,
                     1.0, status=status, reason="training loss became nan in epoch 2" if status != "ok" else "")


def synthetic(accuracies: dict[str, list], seeds=None) -> tuple:
    """A sweeps section over lr whose values' per-seed outcomes are given: a float (test accuracy; validation the
    same), a pair (test, validation), "diverged" or "failed"."""
    base = RunSpec("base", "Base", "mnist5k", "mlp", {}, TrainConfig(lr=0.01))
    cls = SECTIONS.get("sweeps")
    values = [float(v) for v in accuracies]
    spec = SectionSpec(id="sw", type="sweeps", title="S", question="", marks=5, runs=("base",),
                       options={"factors": {"lr": values}})
    derived = cls.derive_runs(spec, {"base": base}, {})
    spec = replace(spec, derived=tuple(derived))
    specs = {"base": base, **derived}
    by_value = {f"sw:lr={v}" if v != "0.01" else "base": outs for v, outs in accuracies.items()}
    groups = []
    for name in spec.all_runs:
        outs = by_value[name]
        seeds = list(range(len(outs)))
        outcomes = [RunFailure("f" * 20, {}, "CUDA out of memory") if a == "failed"
                    else fake(10 * i + len(name), 0.1, "diverged") if a == "diverged"
                    else fake(10 * i + len(name), a[0], val=a[1]) if isinstance(a, tuple)
                    else fake(10 * i + len(name), a) for i, a in enumerate(outs)]
        groups.append(RunGroup(name, specs[name], seeds, outcomes))
    impl = cls(spec)
    return impl, impl.compute(SectionContext(spec, groups))


def test_diverged_and_failed_values_are_shown_not_dropped():
    impl, result = synthetic({"0.001": [0.6], "0.01": [0.8], "10": ["diverged"], "1": ["failed"]})
    text = json.dumps(result, allow_nan=False)
    assert "seed 0: diverged: training loss became nan in epoch 2" in text
    assert "seed 0: failed: CUDA out of memory" in text
    rows = {r["text"]: r for r in result["factors"][0]["rows"]}
    assert [r for r in rows] == ["0.001", "0.01", "10", "1"]
    assert rows["10"]["status"] == "diverged" and rows["10"]["accuracy"]["n"] == 0
    assert rows["1"]["status"] == "failed"
    assert result["factors"][0]["best"] == 1  # the baseline; the broken values take no part in best or spread
    assert result["factors"][0]["spread"] == pytest.approx(rows["0.01"]["accuracy"]["mean"]
                                                         - rows["0.001"]["accuracy"]["mean"])
    analysis = " ".join(result["analysis"])
    assert "lr = 10 diverged on 1 of 1 seed (training loss became nan in epoch 2)." in analysis
    assert "lr = 1 failed on 1 of 1 seed (CUDA out of memory)." in analysis
    fig = impl.figures(result)[0].draw()
    try:
        ax = fig.axes[0]
        crosses = [line for line in ax.lines if line.get_marker() == "x"]
        assert len(crosses) == 2
        assert {t.get_text() for t in ax.texts} == {"diverged", "failed"}
        assert ax.get_xscale() == "log"
    finally:
        plt.close(fig)


def test_partly_diverged_value_is_diverged_and_not_best():
    _, result = synthetic({"0.01": [0.6, 0.62], "0.1": [0.9, "diverged"]})
    (factor,) = result["factors"]
    row = factor["rows"][1]
    assert (row["status"], row["finished"], row["broken"]) == ("diverged", 1, 1)
    assert factor["best"] == 0 and factor["spread"] is None


def test_a_gap_beyond_seed_noise_beats_the_baseline():
    _, result = synthetic({"0.01": [0.70, 0.71, 0.72], "0.1": [0.90, 0.91, 0.92]})
    text = " ".join(result["analysis"])
    assert "lr: the best value on validation, 0.1 (" in text and "beats the baseline's 0.01 on test accuracy by" in text
    assert "larger than seed-to-seed noise (Welch's t-test p = " in text
    assert result["factors"][0]["vs_baseline"]["significant"]


def test_a_gap_within_seed_noise_beats_nothing():
    _, result = synthetic({"0.01": [0.70, 0.80, 0.75], "0.1": [0.72, 0.83, 0.77]})
    text = " ".join(result["analysis"])
    assert "within seed-to-seed noise" in text and "so no value is shown to beat the baseline" in text
    assert "beats the" not in text


def test_best_and_worst_are_chosen_on_validation_and_reported_on_test():
    # lr = 0.1 leads on validation but trails on test; lr = 0.001 is the reverse: validation decides.
    _, result = synthetic({"0.001": [(0.95, 0.60), (0.95, 0.61), (0.95, 0.62)],
                           "0.01": [(0.80, 0.70), (0.80, 0.71), (0.80, 0.72)],
                           "0.1": [(0.50, 0.90), (0.50, 0.91), (0.50, 0.92)]})
    (factor,) = result["factors"]
    texts = [r["text"] for r in factor["rows"]]
    assert texts[factor["best"]] == "0.1" and texts[factor["worst"]] == "0.001"
    test = {r["text"]: r["accuracy"]["mean"] for r in factor["rows"]}
    assert factor["spread"] == pytest.approx(test["0.1"] - test["0.001"]) and factor["spread"] < 0
    assert factor["val_spread"] == pytest.approx(0.30)
    text = " ".join(result["analysis"])
    assert "lr moves validation accuracy the most: from 61.0 % (lr = 0.001) to 91.0 % (lr = 0.1)" in text
    assert "(the other way round)" in text
    assert "lr: the best value on validation, 0.1 (91.0 % vs 71.0 % validation accuracy), is " in text
    assert "below the baseline's 0.01 on test accuracy" in text and "does not carry over to the test set" in text
    assert "beats" not in text


def test_validation_accuracy_is_that_of_the_weights_kept_by_early_stopping():
    from reportgen.sections.sweeps import final_val_accuracy

    r = fake(0, 0.8)
    r.history.update(val_loss=[1.0, 0.5, 0.7, 0.9], val_acc=[0.5, 0.8, 0.75, 0.7])
    assert final_val_accuracy(r) == 0.7  # trained to the end: the last epoch's weights
    r.events = [{"epoch": 4, "kind": "early_stop", "detail": "weights of epoch 2 restored"}]
    assert final_val_accuracy(r) == 0.8
    r.history = {}
    assert final_val_accuracy(r) is None


def test_template_shows_the_diverged_value():
    from reportgen.render.env import make_env

    _, result = synthetic({"0.01": [0.8], "10": ["diverged"]})
    result = json.loads(json.dumps(result))
    html = make_env().get_template("sections/sweeps.html.j2").render(s={"result": result, "figures": []})
    assert "diverged (1 of 1)" in html
    assert "lr = 10, seed 0: diverged: training loss became nan in epoch 2" in html
    assert "<strong>0.01</strong> (baseline)" in html
    assert "Validation<br>accuracy" in html and "chosen by mean validation accuracy over seeds" in html
    assert "ok, best on validation" in html


def draw(impl, result) -> None:
    for f in impl.figures(result):
        fig = f.draw()
        try:
            fig.canvas.draw()
            assert fig.axes
        finally:
            plt.close(fig)


def test_panels_are_arranged_three_per_row_and_six_per_figure():
    from reportgen.figures.sweep import plot_sweep_grid

    row = {"value": 1, "text": "1", "baseline": True, "status": "ok",
           "accuracy": {"mean": 0.5, "std": 0.1, "n": 2, "values": [0.4, 0.6]}}
    factor = {"factor": "epochs", "numeric": True, "log_x": False, "rows": [row]}
    cls = SECTIONS.get("sweeps")
    spec = SectionSpec(id="sw", type="sweeps", title="S", question="", marks=5, runs=("base",),
                       options={"factors": {}})
    figures = cls(spec).figures({"factors": [dict(factor, factor=f"f{i}") for i in range(7)], "seeds": [0, 1]})
    assert [f.name for f in figures] == ["factors-1", "factors-2"]
    fig = plot_sweep_grid([factor] * 4)
    try:
        visible = [ax for ax in fig.axes if ax.axison]
        assert len(visible) == 4 and len(fig.axes) == 6
    finally:
        plt.close(fig)


def test_a_finished_run_at_chance_level_is_called_out():
    _, result = synthetic({"0.01": [0.8], "10": [0.1]})
    assert result["chance"] == pytest.approx(0.1)
    assert result["analysis"][-1].startswith("lr = 10 stays near chance level (under 1.5× the 10.0 % of guessing)")
