"""``predictions``: the images shown are the right ones, the counts equal scikit-learn's, the text is exact."""

from __future__ import annotations

import json
from dataclasses import replace

import matplotlib
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from reportgen.config.errors import DataError
from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.predictions import image_list
from reportgen.training.result import RunResult
from tests import support

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def compute(groups, **options):
    spec = SectionSpec(id="q4", type="predictions", title="Predictions", question="", marks=2.5,
                       runs=tuple(g.name for g in groups), options=options)
    impl = SECTIONS.get("predictions")(spec)
    result = impl.compute(SectionContext(spec, groups))
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    return impl, result


def matrix(r: RunResult) -> np.ndarray:
    return confusion_matrix(r.test_true, r.test_pred, labels=list(range(len(r.classes))))


@pytest.fixture(scope="module")
def conv():
    return support.tiny_group("conv", seeds=(0, 1))


def test_counts_equal_sklearn_over_seeds(conv):
    _, result = compute([conv])
    entry = result["runs"][0]
    matrices = [matrix(r) for r in conv.results]
    errors = [m - np.diag(np.diag(m)) for m in matrices]
    assert entry["mistakes"]["values"] == [float(e.sum()) for e in errors]
    assert entry["mistakes"]["n"] == 2
    for j, row in enumerate(entry["per_class"]):
        assert row["mistakes"]["values"] == [float(e[j].sum()) for e in errors]
        assert row["support"] == int(matrices[0][j].sum())
    total = sum(errors)
    top = entry["confusions"][0]
    i, j = np.unravel_index(total.argmax(), total.shape)
    assert total[conv.results[0].classes.index(top["true"]), conv.results[0].classes.index(top["pred"])] == total[i, j]
    assert top["count"]["values"] == [float(e[i, j]) for e in errors]


def test_confident_picks_and_their_images(conv):
    _, result = compute([conv], count=5)
    entry = result["runs"][0]
    first = conv.results[0]
    true, pred, p = first.test_true, first.test_prob.argmax(1), first.test_prob.max(1)
    # Mistakes: simply the most confident ones.
    wrong = np.flatnonzero(pred != true)
    assert [s["index"] for s in entry["shown"]["wrong"]] == wrong[np.argsort(-p[wrong], kind="stable")][:5].tolist()
    # Correct ones: the surest image of each class, then the second surest of each, ... (a tiny net gets few
    # classes right, so this goes past the first round), shown surest first.
    per_class = {}
    for i in sorted(np.flatnonzero(pred == true), key=lambda i: -p[i]):
        per_class.setdefault(true[i], []).append(i)
    rounds = [sorted((c[r] for c in per_class.values() if len(c) > r), key=lambda i: -p[i])
              for r in range(max(map(len, per_class.values())))]
    expected = sorted([i for r in rounds for i in r][:5], key=lambda i: -p[i])
    assert [s["index"] for s in entry["shown"]["correct"]] == [int(i) for i in expected]
    for kind in ("correct", "wrong"):
        for s in entry["shown"][kind]:
            i = s["index"]
            assert (s["true"], s["pred"]) == (first.classes[true[i]], first.classes[pred[i]])
            assert s["p"] == pytest.approx(p[i], abs=1e-4)
            assert s["p_true"] == pytest.approx(first.test_prob[i, true[i]], abs=1e-4)
            np.testing.assert_array_equal(np.asarray(s["image"], np.uint8), conv.data.test.x[i, 0].numpy())
    assert entry["seed"] == 0


def test_random_pick_is_seeded(conv):
    a = compute([conv], pick="random", seed=3, count=6)[1]["runs"][0]["shown"]["wrong"]
    b = compute([conv], pick="random", seed=3, count=6)[1]["runs"][0]["shown"]["wrong"]
    c = compute([conv], pick="random", seed=4, count=6)[1]["runs"][0]["shown"]["wrong"]
    first = conv.results[0]
    assert a == b and [s["index"] for s in a] != [s["index"] for s in c]
    assert all(first.test_pred[s["index"]] != first.test_true[s["index"]] for s in a)
    assert [s["index"] for s in a] == sorted(s["index"] for s in a)


def test_figures_titles_and_caption(conv):
    impl, result = compute([conv], count=8)
    figures = impl.figures(result)
    assert [f.name for f in figures] == ["correct-0-conv", "wrong-0-conv"]
    assert "(seed 0)" in figures[1].caption and "titled in red" in figures[1].caption
    assert "the surest image of each class in turn" in figures[0].caption
    fig = figures[1].draw()
    try:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert len(axes) == 8 and fig.get_size_inches()[0] <= 6.7 + 1e-9
        w = result["runs"][0]["shown"]["wrong"][0]
        assert axes[0].get_title() == f"true {w['true']} → pred {w['pred']}\np = {w['p']:.2f}"
        assert matplotlib.colors.to_hex(axes[0].title.get_color()) == "#c0392b"
    finally:
        plt.close(fig)


def test_labels_that_do_not_line_up_are_an_error(conv):
    data = conv.data
    shuffled = replace(data, test=replace(data.test, y=data.test.y.roll(1)))
    with pytest.raises(DataError, match="do not line up"):
        compute([replace(conv, data=shuffled)])


def hand_made(y_true, y_pred, p, classes=("cat", "dog", "fox")) -> RunResult:
    prob = np.full((len(y_true), len(classes)), 0.0, np.float32)
    prob[np.arange(len(y_true)), y_pred] = p
    for i, q in enumerate(y_pred):
        prob[i, (q + 1) % len(classes)] = 1 - p[i]
    return RunResult(key="k" * 20, spec={}, history={}, test_true=np.asarray(y_true), test_prob=prob,
                     test_features=np.zeros((len(y_true), 2), np.float32), classes=classes, params=1, macs=1,
                     train_seconds=1.0)


def hand_group(r: RunResult) -> RunGroup:
    spec = RunSpec("net", "Net", "digits", "mlp", {}, TrainConfig(epochs=1))
    return RunGroup("net", spec, [0], [r])


def test_text_word_for_word():
    y_true = [0, 0, 0, 1, 1, 1, 2, 2]
    y_pred = [0, 1, 1, 1, 1, 2, 2, 2]
    p = np.array([0.9, 0.95, 0.6, 0.8, 0.7, 0.55, 0.99, 0.6], np.float32)
    _, result = compute([hand_group(hand_made(y_true, y_pred, p))])
    assert result["analysis"] == [
        "Net gets 3 of the 8 test images wrong; its most confident mistake is a cat predicted as dog with p = 0.95 "
        "(p = 0.00 for the true class). 1 of the mistakes is made with p ≥ 0.9; the mean predicted probability is "
        "0.80 on correct predictions and 0.70 on mistakes. The most frequent confusions are (true → predicted, images) "
        "cat → dog (2), dog → fox (1). Class cat has the most mistakes (2 of 3, most often taken for dog)."
    ]
    entry = result["runs"][0]
    assert entry["shown"]["wrong"][0]["image"] is None and entry["figures"] == {}


def test_no_mistakes():
    r = hand_made([0, 1, 2], [0, 1, 2], np.array([0.9, 0.8, 0.7], np.float32))
    impl, result = compute([hand_group(r)])
    assert result["analysis"] == ["Net classifies all 3 test images correctly: there is no mistake."]
    assert result["runs"][0]["confusions"] == [] and impl.figures(result) == []


def test_image_list_shapes():
    rgb = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    assert np.asarray(image_list(rgb)).shape == (4, 5, 3)
    assert np.asarray(image_list(rgb))[1, 2, 0] == rgb[0, 1, 2]
    big = np.full((1, 256, 128), 200, np.uint8)
    small = np.asarray(image_list(big))
    assert small.shape == (64, 32) and (small == 200).all()
