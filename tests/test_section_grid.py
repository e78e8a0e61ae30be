"""``grid``: derived runs and their cost at manifest load, the max_runs refusal, choosing on validation and reporting
on test (a test-set winner is never called best), marginal means against numpy, figures, and one tiny build."""

from __future__ import annotations

import json
from dataclasses import replace

import matplotlib
import numpy as np
import pytest

from reportgen.config.errors import ManifestError
from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.grid import cost_text
from reportgen.training.result import RunFailure, RunResult
from tests.conftest import edit

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GRID = """
[sections.search]
type = "grid"
title = "Search"
question = "Tune the network."
marks = 2
runs = ["conv"]
factors = FACTORS
"""


def with_grid(text: str, factors: str, **options) -> str:
    extra = "".join(f"{k} = {v}\n" for k, v in options.items())
    return text + GRID.replace("FACTORS", factors) + extra


# --- manifest: derived runs, cost, located errors ------------------------------------------------------------


def test_every_combination_is_a_run_and_the_baseline_combination_is_the_baseline(load_ok, tiny_manifest_text):
    # The tiny "conv" run: lr = 0.01, batch_size = 32, channels = 8.
    factors = '{ lr = [0.01, 0.03], batch_size = [32, 64], "model.channels" = [8, 16] }'
    m = load_ok(with_grid(tiny_manifest_text, factors))
    section = m.sections["search"]
    names = [f"search:lr={lr},batch_size={bs},model.channels={ch}"
             for lr in ("0.01", "0.03") for bs in (32, 64) for ch in (8, 16)]
    assert section.derived == tuple(names[1:])  # lr = 0.01, batch_size = 32, channels = 8 is the baseline run
    assert section.all_runs == ("conv", *names[1:])
    base = m.runs["conv"]
    run = m.runs["search:lr=0.03,batch_size=64,model.channels=16"]
    assert run.label == "lr = 0.03, batch_size = 64, model.channels = 16"
    assert run.train == replace(base.train, lr=0.03, batch_size=64)
    assert run.model_options == {**base.model_options, "channels": 16} and run.dataset == base.dataset


def test_a_grid_above_max_runs_is_refused_with_its_cost(load_error, load_ok, tiny_manifest_text):
    factors = "{ lr = [0.001, 0.003, 0.01, 0.03], batch_size = [16, 32, 64], epochs = [1, 2, 3] }"
    seeds = edit(tiny_manifest_text, "seeds = [0]", "seeds = [0, 1, 2]")
    message = load_error(with_grid(seeds, factors, max_runs=32))
    where = "experiments.toml: sections.search.factors: "
    # The cost names the trainings when the manifest hands the report's seeds to derive_runs, and says "once per
    # seed" when it does not.
    assert message in (where + "4 × 3 × 3 = 36 configurations × 3 seeds = 108 trainings; raise max_runs to allow it",
                       where + "4 × 3 × 3 = 36 configurations, each trained once per seed; raise max_runs to allow it")
    assert len(load_ok(with_grid(seeds, factors, max_runs=36)).sections["search"].derived) == 35


def test_the_refusal_counts_the_seeds_it_is_given():
    cls = SECTIONS.get("grid")
    spec = SectionSpec(id="search", type="grid", title="S", question="", marks=1, runs=("base",),
                       options={"factors": {"lr": [0.001, 0.003, 0.01, 0.03], "batch_size": [16, 32, 64],
                                            "epochs": [1, 2, 3]}, "max_runs": 32})
    base = RunSpec("base", "Base", "mnist5k", "mlp", {}, TrainConfig())
    with pytest.raises(ManifestError) as err:
        cls.derive_runs(spec, {"base": base}, {}, seeds=(0, 1, 2))
    assert str(err.value) == ("sections.search.factors: 4 × 3 × 3 = 36 configurations × 3 seeds = 108 trainings; "
                              "raise max_runs to allow it")
    assert cost_text([5], 1) == "5 configurations × 1 seed = 5 trainings"
    assert cost_text([50, 40], 3) == "50 × 40 = 2,000 configurations × 3 seeds = 6,000 trainings"


@pytest.mark.parametrize(("factors", "message"), [
    ("{ lerning_rate = [0.1] }", 'sections.search.factors.lerning_rate: unknown factor "lerning_rate"; did you mean '
                                 '"lr"?'),
    ("{ channels = [8] }", 'sections.search.factors.channels: unknown factor "channels"; did you mean '
                           '"model.channels"?'),
    ("{ lr = [0.01, -1] }", "sections.search.factors.lr[1]: must be > 0, got -1"),
    ("{ batch_size = [32, 32] }", "sections.search.factors.batch_size[1]: 32 is listed twice"),
    ("{ epochs = [] }", "sections.search.factors.epochs: needs at least one value"),
    ("{}", "sections.search.factors: needs at least one factor"),
    ('{ loss = ["cross_entropy", "mse"], label_smoothing = [0.0, 0.1] }',
     'sections.search.factors: at loss = mse, label_smoothing = 0.1: label_smoothing = 0.1 applies to loss '
     '"cross_entropy" only'),
])
def test_bad_factors_are_located(load_error, tiny_manifest_text, factors, message):
    assert message in load_error(with_grid(tiny_manifest_text, factors))


# --- compute on synthetic runs ---------------------------------------------------------------------------------


def fake(seed: int, test: float, val: float, n: int = 200) -> RunResult:
    """A run right exactly ``test`` of the time on ``n`` test images whose final validation accuracy is ``val``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    correct = np.zeros(n, bool)
    correct[rng.choice(n, round(test * n), replace=False)] = True
    prob = np.eye(10, dtype=np.float32)[np.where(correct, y, (y + 1) % 10)]
    history = {"train_loss": [2.0, 1.0], "val_loss": [1.5, 1.0], "val_acc": [0.1, val]}
    return RunResult(f"{seed:020d}", {}, history, y, prob, np.zeros((n, 2), np.float32), tuple("0123456789"), 10, 10,
                     1.0)


def grid(factors: dict, outcomes, seeds=(0, 1, 2), **options):
    """Derive a grid from an MLP baseline (lr = 0.01, batch_size = 32, adam) and compute it; ``outcomes(point)`` gives
    a configuration's (test, validation) accuracy, or "diverged" / "failed"."""
    cls = SECTIONS.get("grid")
    base = RunSpec("base", "Base", "mnist5k", "mlp", {}, TrainConfig(lr=0.01, batch_size=32))
    spec = SectionSpec(id="g", type="grid", title="G", question="", marks=1, runs=("base",),
                       options={"factors": factors, **options})
    derived = cls.derive_runs(spec, {"base": base}, {})
    spec = replace(spec, derived=tuple(derived))
    specs = {"base": base, **derived}
    groups = []
    for k, name in enumerate(spec.all_runs):
        run = specs[name]
        point = {"lr": run.train.lr, "batch_size": run.train.batch_size, "optimizer": run.train.optimizer}
        given = outcomes(point)
        if given == "failed":
            outs = [RunFailure("f" * 20, {}, "CUDA out of memory") for _ in seeds]
        elif given == "diverged":
            outs = [replace(fake(100 * k + s, 0.1, 0.1), status="diverged", reason="training loss became nan in "
                            "epoch 2") for s in seeds]
        else:
            outs = [fake(100 * k + s, given[0] + 0.01 * (s - 1), given[1] + 0.01 * (s - 1)) for s in seeds]
        groups.append(RunGroup(name, run, list(seeds), outs))
    impl = cls(spec)
    result = impl.compute(SectionContext(spec, groups))
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    return impl, result


ACCURACY = {  # (lr, batch_size): (test, validation)
    (0.001, 32): (0.70, 0.72),
    (0.001, 64): (0.90, 0.80),  # the best on test, not on validation
    (0.01, 32): (0.80, 0.85),  # the baseline: the best on validation
    (0.01, 64): (0.75, 0.78),
}


def by_point(point):
    return ACCURACY[point["lr"], point["batch_size"]]


def test_the_validation_winner_is_best_even_where_another_wins_on_test():
    _, result = grid({"lr": [0.001, 0.01], "batch_size": [32, 64]}, by_point)
    configs = result["configs"]
    best, winner = configs[result["best"]], configs[result["test_winner"]]
    assert best["values"] == {"lr": 0.01, "batch_size": 32} and best["run"] == "base" and best["baseline"]
    assert winner["values"] == {"lr": 0.001, "batch_size": 64}
    assert best["accuracy"]["mean"] == pytest.approx(0.80) and best["val_accuracy"]["mean"] == pytest.approx(0.85)
    assert result["optimism"] == pytest.approx(0.10)
    assert [configs[i]["text"] for i in result["ranking"]] == [
        "lr = 0.01, batch_size = 32", "lr = 0.001, batch_size = 64", "lr = 0.01, batch_size = 64",
        "lr = 0.001, batch_size = 32"]
    assert result["cost"] == {"shape": [2, 2], "configurations": 4, "seeds": 3, "trainings": 12,
                              "text": "2 × 2 = 4 configurations × 3 seeds = 12 trainings", "derived": 3,
                              "baseline_in_grid": True}
    text = " ".join(result["analysis"])
    assert text.startswith("The grid tried 2 × 2 = 4 configurations × 3 seeds = 12 trainings.")
    assert ("Chosen on validation accuracy, the best configuration is lr = 0.01, batch_size = 32: validation "
            "85.0 ± 1.0 %, test 80.0 ± 1.0 % (mean ± std over 3 seeds).") in text
    assert ("Chosen on test accuracy instead, lr = 0.001, batch_size = 64 would have won with 90.0 % on test "
            "(validation 80.0 %); reporting that number would have been optimistic by 10.0 points") in text
    assert "larger than seed-to-seed noise" in text  # the validation lead over the runner-up (85 vs 80 %)


def test_template_marks_the_chosen_configuration_and_the_test_winner():
    from reportgen.render.env import make_env

    _, result = grid({"lr": [0.001, 0.01], "batch_size": [32, 64]}, by_point, top_k=1)
    html = make_env().get_template("sections/grid.html.j2").render(s={"result": json.loads(json.dumps(result)),
                                                                      "figures": []})
    assert "2 × 2 = 4 configurations × 3 seeds = 12 trainings" in html
    assert "(chosen)" in html and "(best on test)" in html  # top_k = 1, and the test-set winner is added below it
    assert "ranked by mean validation accuracy over seeds" in html


def test_marginal_means_equal_numpy_and_broken_configurations_are_left_out():
    def outcomes(point):
        if point["lr"] == 0.1 and point["optimizer"] == "sgd":
            return "diverged"
        return (0.5 + point["lr"] + (0.1 if point["optimizer"] == "adam" else 0.0),
                0.55 + 2 * point["lr"] + (0.05 if point["batch_size"] == 64 else 0.0))

    factors = {"lr": [0.001, 0.01, 0.1], "batch_size": [32, 64], "optimizer": ["adam", "sgd"]}
    impl, result = grid(factors, outcomes)
    configs = result["configs"]
    assert len(configs) == 12 and len(result["broken"]) == 2 and len(result["ranking"]) == 10
    assert all(configs[i]["status"] == "diverged" and configs[i]["rank"] is None for i in result["broken"])
    for m in result["marginals"]:
        for entry in m["values"]:
            having = [c for c in configs if c["values"][m["factor"]] == entry["value"]]
            done = [c for c in having if c["status"] == "ok"]
            val = [np.mean([outcomes(c["values"])[1] + 0.01 * (s - 1) for s in range(3)]) for c in done]
            test = [c["accuracy"]["mean"] for c in done]
            assert entry["val"]["mean"] == pytest.approx(np.mean(val))
            assert entry["val"]["min"] == pytest.approx(np.min(val)) and entry["val"]["max"] == pytest.approx(max(val))
            assert entry["test"]["mean"] == pytest.approx(np.mean(test))
            assert entry["excluded"] == len(having) - len(done) and entry["configs"] == len(having)
    lr = next(m for m in result["marginals"] if m["factor"] == "lr")
    assert lr["numeric"] and lr["log_x"] and lr["values"][2]["excluded"] == 2
    text = " ".join(result["analysis"])
    assert "2 of 12 configurations did not finish on every seed and are left out of the ranking and of every mean" \
        in text
    assert "lr = 0.1, batch_size = 32, optimizer = sgd diverged on 3 of 3 seeds (training loss became nan" in text
    assert "Averaged over the other factors, lr moves validation accuracy the most" in text
    draw(impl, result)


def test_figures_draw_when_a_value_has_no_finished_configuration_and_everything_failed():
    impl, result = grid({"lr": [0.001, 0.01], "optimizer": ["adam", "sgd"]},
                        lambda p: "failed" if p["optimizer"] == "sgd" else (0.8, 0.8 + p["lr"]), seeds=(0,))
    optimizer = next(m for m in result["marginals"] if m["factor"] == "optimizer")
    assert not optimizer["numeric"] and optimizer["values"][1]["val"]["n"] == 0
    assert "not tested against seed-to-seed noise" in " ".join(result["analysis"])
    figures = draw(impl, result)
    assert [f.name for f in figures] == ["marginals-1", "val-test"]
    _, nothing = grid({"lr": [0.001, 0.01]}, lambda p: "failed", seeds=(0,))
    assert nothing["best"] is None and "none is chosen" in " ".join(nothing["analysis"])
    draw(impl, nothing)


def draw(impl, result):
    figures = impl.figures(result)
    for f in figures:
        fig = f.draw()
        try:
            fig.canvas.draw()
            assert fig.axes and f.caption and f.alt
        finally:
            plt.close(fig)
    return figures


# --- a tiny build --------------------------------------------------------------------------------------------

BUILD = """\
[report]
title = "Grid"
seeds = [0]

[datasets.digits]
kind = "mnist5k"
split = [0.6, 0.2, 0.2]
class_caps = {0 = 20, 1 = 20, 2 = 20, 3 = 20, 4 = 20, 5 = 20, 6 = 20, 7 = 20, 8 = 20, 9 = 20}
caps_apply_to = "all"

[runs.starter]
label = "MLP"
dataset = "digits"
model = { arch = "mlp", hidden = [16] }
epochs = 1
batch_size = 32
lr = 0.01

[sections.search]
type = "grid"
title = "Search"
question = "Tune the MLP."
marks = 2
runs = ["starter"]
factors = { lr = [0.01, 0.03], batch_size = [32, 64] }
"""


def test_build_writes_the_grid_section(write_manifest):
    from reportgen.build import build

    path = write_manifest(BUILD)
    build(path, quiet=True, pdf=False, device="cpu")
    results = json.loads((path.parent / "out" / "results.json").read_text())
    section = results["sections"]["search"]
    assert section["status"] == "ok"
    assert section["result"]["cost"]["text"] == "2 × 2 = 4 configurations × 1 seed = 4 trainings"
    assert len(section["result"]["configs"]) == 4 and section["result"]["best"] is not None
    html = (path.parent / "out" / "report.html").read_text()
    assert "4 configurations × 1 seed = 4 trainings" in html
