"""block_mix: block counts from the run specs, metrics equal to scikit-learn's, the Pareto front, and conv →
MobileNet swaps at equal depth judged against seed noise."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.render.env import make_env
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.block_mix import block_counts, pareto
from tests.support import tiny_group
from tests.test_sections import draw_all, make_result

KIND = "block_mix"


def compute(groups, **options):
    spec = SectionSpec(id="q2", type=KIND, title="Q2", question="?", marks=5, runs=tuple(g.name for g in groups),
                       options=options)
    impl = SECTIONS.get(KIND)(spec)
    return impl, impl.compute(SectionContext(spec, groups))


def mix_group(conv: int, mobile: int, accuracies: list[float], params: int, macs: int = 10_000) -> RunGroup:
    """A conv_mobilenet run labelled like the handout ("C3+M1") with synthetic results of given accuracies."""
    label = "+".join(p for p in (f"C{conv}" if conv else "", f"M{mobile}" if mobile else "") if p)
    spec = RunSpec(label.lower().replace("+", ""), label, "digits", "conv_mobilenet",
                   {"conv_blocks": conv, "mobilenet_blocks": mobile}, TrainConfig(epochs=3))
    outcomes = [make_result(100 * conv + 10 * mobile + s, accuracy=a, params=params, macs=macs)
                for s, a in enumerate(accuracies)]
    return RunGroup(spec.name, spec, list(range(len(accuracies))), outcomes)


@pytest.fixture(scope="module")
def real():
    groups = [tiny_group("conv", seeds=(0, 1)), tiny_group("mobilenet", seeds=(0, 1)), tiny_group("mlp", seeds=(0, 1))]
    impl, result = compute(groups)
    return groups, impl, result


def test_rows_equal_sklearn_and_the_specs(real):
    groups, impl, result = real
    json.loads(json.dumps(result, allow_nan=False))
    for g, row in zip(groups, result["rows"], strict=True):
        accs = [accuracy_score(r.test_true, r.test_pred) for r in g.results]
        assert row["accuracy"]["values"] == pytest.approx(accs)
        assert row["params"] == g.results[0].params and row["macs"] == g.results[0].macs
        assert row["epoch_seconds"]["mean"] == pytest.approx(np.mean([np.mean(r.history["epoch_seconds"])
                                                                       for r in g.results]))
        assert row["accuracy_per_10k_params"] == pytest.approx(100 * np.mean(accs) / (row["params"] / 1e4))
    assert [(r["conv_blocks"], r["mobilenet_blocks"]) for r in result["rows"]] == [(2, 0), (1, 1), (None, None)]
    assert [f.name for f in draw_all(impl, result)] == ["tradeoff"]


def test_block_counts_fill_in_the_model_defaults():
    spec = RunSpec("c4", "C4", "digits", "conv_mobilenet", {}, TrainConfig())
    assert block_counts(spec) == (4, 0)


def test_pareto_front():
    # (accuracy, size): b is beaten by a on both; d ties a on size and is less accurate.
    points = [(0.90, 1000), (0.80, 2000), (0.95, 5000), (0.85, 1000), (0.95, 5000)]
    assert pareto(points) == [True, False, True, False, True]


def test_analysis_names_best_smallest_front_and_swaps():
    groups = [
        mix_group(4, 0, [0.96, 0.97, 0.965], 28_000, 3_000_000),
        mix_group(3, 1, [0.95, 0.96, 0.955], 20_000, 2_000_000),
        mix_group(1, 3, [0.80, 0.81, 0.805], 5_000, 600_000),
        mix_group(3, 3, [0.97, 0.965, 0.975], 40_000, 3_500_000),
    ]
    _, result = compute(groups, sort_by="accuracy")
    assert [r["label"] for r in result["rows"]] == ["C3+M3", "C4", "C3+M1", "C1+M3"]
    assert {r["label"] for r in result["rows"] if r["pareto_params"]} == {"C4", "C3+M1", "C1+M3", "C3+M3"}
    text = " ".join(result["analysis"])
    assert "C3+M3 has the highest mean test accuracy (97.0 %)" in text and "within seed-to-seed noise" in text
    assert "C1+M3 is the smallest (5 k parameters" in text
    assert "Pareto-optimal): C1+M3, C3+M1, C4, C3+M3." in text
    assert "At 4 blocks, replacing 1 conv block by MobileNet blocks (C4 → C3+M1, 1.4× fewer parameters) moved " \
           "accuracy from 96.5 % to 95.5 % (1.0 point); the change is within seed-to-seed noise (p = " in text
    assert "At 4 blocks, replacing 3 conv blocks by MobileNet blocks (C4 → C1+M3, 5.6× fewer parameters) " \
           "lowered accuracy" in text
    assert "the change is larger than seed-to-seed noise (p < 0.001)." in text
    assert "better" not in text.lower() and "worse" not in text.lower()


def test_one_seed_leaves_every_gap_untested():
    groups = [mix_group(4, 0, [0.97], 28_000), mix_group(1, 3, [0.90], 5_000)]
    text = " ".join(compute(groups)[1]["analysis"])
    assert "untested" in text and "p = " not in text
    assert "moved accuracy from 97.0 % to 90.0 % (7.0 points); the change is untested" in text


def test_no_equal_depth_pair_is_said_so():
    groups = [mix_group(4, 0, [0.97, 0.96], 28_000), mix_group(3, 3, [0.96, 0.97], 40_000)]
    text = " ".join(compute(groups)[1]["analysis"])
    assert "cannot be separated from the effect of depth" in text


def test_template_renders_dashes_for_other_architectures(real):
    _, impl, result = real
    figures = [{"name": "tradeoff", "caption": "c", "alt": "a", "src": "x.png", "number": 1, "wide": True}]
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": figures})
    assert html.count("<caption>") == 1 and html.count("<figure") == 1
    mlp_row = html[html.index(">MLP"):]
    assert mlp_row[:100].count("<td>–</td>") == 1
    assert "<td>2 + 0</td>" in html and "<td>1 + 1</td>" in html
