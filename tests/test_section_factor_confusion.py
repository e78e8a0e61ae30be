"""factor_confusion: per-factor matrices and accuracies against scikit-learn on labels mapped to factor levels,
the sorted full matrix, single-factor error shares, the generated text, classes without factors, the layout."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from reportgen.config.specs import SectionSpec
from reportgen.figures.factors import layout
from reportgen.render.env import make_env
from reportgen.sections import SECTIONS, SectionContext
from reportgen.sections.factor_confusion import ordered_levels, parse_factors
from reportgen.training.result import RunFailure, RunResult
from tests.support import tiny_group
from tests.test_sections import draw_all, group

KIND = "factor_confusion"
# 2 lengths × 2 widths × 3 angles × 2 colours, in a class order that is *not* the factor order (colour first),
# so that sorting the full matrix is visible.
FACTORS = [(c, n, w, a) for c in ("red", "blue") for n in (15, 7) for w in (1, 3) for a in (0, 15, 30)]
CLASSES = tuple(f"length={n} width={w} angle={a} colour={c}" for c, n, w, a in FACTORS)
K = len(CLASSES)


def result_from(y_true, y_pred, classes=CLASSES, seed: int = 0) -> RunResult:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    prob = np.eye(len(classes), dtype=np.float32)[y_pred]
    return RunResult(key=f"{seed:020d}", spec={}, history={}, test_true=y_true, test_prob=prob,
                     test_features=np.zeros((len(y_true), 2), np.float32), classes=tuple(classes), params=1, macs=1,
                     train_seconds=1.0)


def noisy(seed: int, per_class: int = 10) -> RunResult:
    """Each image is right ~70 % of the time, else a random other class."""
    rng = np.random.default_rng(seed)
    y_true = np.repeat(np.arange(K), per_class)
    wrong = rng.random(y_true.size) > 0.7
    y_pred = np.where(wrong, (y_true + rng.integers(1, K, y_true.size)) % K, y_true)
    return result_from(y_true, y_pred, seed=seed)


def compute(groups, **options):
    spec = SectionSpec(id="q", type=KIND, title="Factors", question="?", marks=1, runs=tuple(g.name for g in groups),
                       options=options)
    impl = SECTIONS.get(KIND)(spec)
    return impl, impl.compute(SectionContext(spec, groups))


def factor_of(name: str) -> np.ndarray:
    """Oracle: class index → value of factor ``name``, parsed independently of the section."""
    return np.array([dict(p.split("=") for p in c.split())[name] for c in CLASSES])


def test_parse_factors_and_level_order():
    assert parse_factors(["a=1 b=x", "a=2 b=y"]) == [{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]
    for bad in (["0", "1"], ["a=1", "b=1"], ["a=1 a=2"], ["a="], ["a=1 b=2", "a=1"]):
        assert parse_factors(bad) is None, bad
    assert ordered_levels(["15", "7", "15", "30"]) == ["7", "15", "30"]
    assert ordered_levels(["red", "blue", "red"]) == ["red", "blue"]


def test_factor_matrices_and_accuracies_equal_sklearn():
    runs = [noisy(0), noisy(1)]
    impl, result = compute([group("a", runs)])
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    entry = result["runs"][0]
    assert [f["name"] for f in entry["factors"]] == ["length", "width", "angle", "colour"]
    for f in entry["factors"]:
        values = factor_of(f["name"])
        levels = ordered_levels(list(values))
        t, p = values[runs[0].test_true], values[runs[0].test_pred]
        assert f["matrix"] == confusion_matrix(t, p, labels=levels).tolist()
        accs = [float((values[r.test_true] == values[r.test_pred]).mean()) for r in runs]
        assert f["accuracy"]["values"] == pytest.approx(accs)
        assert f["accuracy"]["std"] == pytest.approx(np.std(accs, ddof=1))
    assert [f["levels"] for f in entry["factors"]] == [["7", "15"], ["1", "3"], ["0°", "15°", "30°"], ["red", "blue"]]
    assert entry["accuracy"]["values"] == pytest.approx([r.test_accuracy for r in runs])
    assert [f.name for f in draw_all(impl, result)] == ["factors-a", "full-a"]


def test_full_matrix_is_sorted_by_the_factors():
    r = noisy(2)
    _, result = compute([group("a", [r])])
    full = result["runs"][0]["full"]
    order = full["order"]
    expected = confusion_matrix(r.test_true, r.test_pred, labels=list(range(K)))
    assert full["matrix"] == expected[np.ix_(order, order)].tolist()
    assert full["classes"] == [CLASSES[i] for i in order]
    keys = [(int(n), int(w), int(a), ("red", "blue").index(c)) for c, n, w, a in (FACTORS[i] for i in order)]
    assert keys == sorted(keys)
    outer = full["groups"][0]
    assert outer["factor"] == "length"
    assert outer["spans"] == [[0, 12, "length=7"], [12, 24, "length=15"]]
    assert full["groups"][1]["spans"][1] == [6, 12, "length=7, width=3"]


def test_factors_option_sets_the_outer_factor_and_unknown_factors_are_named():
    _, result = compute([group("a", [noisy(3)])], factors=["colour", "size"])
    entry = result["runs"][0]
    assert [f["name"] for f in entry["factors"]] == ["colour", "length", "width", "angle"]
    assert entry["full"]["groups"][0]["spans"] == [[0, 12, "colour=red"], [12, 24, "colour=blue"]]
    assert result["analysis"][0] == "Factor size is not in the class names (they have length, width, angle, colour)."


def test_single_factor_errors_and_the_most_common_confusion():
    """Hand-made: 20 images of each class; in every class with angle 15°, 5 are read as angle 30° (one factor
    wrong) and 1 as the other colour *and* width (two factors wrong)."""
    index = {f: i for i, f in enumerate(FACTORS)}
    y_true, y_pred = [], []
    for i, (c, n, w, a) in enumerate(FACTORS):
        y_true += [i] * 20
        if a == 15:
            other = index[({"red": "blue", "blue": "red"}[c], n, 4 - w, a)]
            y_pred += [i] * 14 + [index[(c, n, w, 30)]] * 5 + [other]
        else:
            y_pred += [i] * 20
    _, result = compute([group("a", [result_from(y_true, y_pred)], label="Net")])
    entry = result["runs"][0]
    err = entry["errors"]
    assert err["mistakes"]["mean"] == 8 * 6
    assert err["by_count"][0]["mean"] == pytest.approx(5 / 6) and err["by_count"][1]["mean"] == pytest.approx(1 / 6)
    assert err["single_by_factor"]["angle"]["mean"] == 1.0
    angle = next(f for f in entry["factors"] if f["name"] == "angle")
    assert angle["top"]["true"] == "15°" and angle["top"]["pred"] == "30°"
    assert angle["top"]["rate"]["mean"] == pytest.approx(5 / 20)
    assert len(result["analysis"]) == 1  # one paragraph per run
    text = result["analysis"][0]
    assert (" Angle is confused most (91.7 % right, against 33.3 % for always answering its commonest level), 6.7 "
            "points below width; the gap is not tested (one seed on a side gives no estimate of seed-to-seed "
            "noise)") in text
    assert (" The most common factor-level confusion is angle 15° read as 30°, in 25.0 % of the test images with "
            "angle 15°. ") in text
    assert text.endswith(" Of the mistakes (48 per seed), 83.3 % differ from the true class in exactly one factor, "
                         "16.7 % in two: mostly single-factor errors; 100.0 % of the single-factor mistakes are in "
                         "angle.")


def test_two_runs_are_compared_against_seed_noise():
    a = group("a", [noisy(10), noisy(11), noisy(12)])
    b = group("b", [noisy(20), noisy(21), noisy(22)])
    _, result = compute([a, b])
    last = result["analysis"][-1]
    assert last.startswith("A and B differ most on ")
    assert "p = " in last and "not tested" not in last
    assert "better" not in last.replace("neither run is shown to be better", "")


def test_classes_without_factors_show_the_full_matrix_only():
    conv = tiny_group("conv")
    impl, result = compute([conv])
    entry = result["runs"][0]
    r = conv.results[0]
    assert entry["factors"] is None
    assert entry["full"]["matrix"] == confusion_matrix(r.test_true, r.test_pred, labels=list(range(10))).tolist()
    assert result["analysis"] == [entry["note"]]
    assert entry["note"].startswith("The class names are not key=value pairs (e.g. '0')")
    assert [f.name for f in draw_all(impl, result)] == ["full-conv"]
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": []})
    assert "factor-accuracy" not in html


def test_96_classes_draw_and_render():
    factors = list(itertools.product((7, 15), (1, 3), range(0, 180, 15), ("red", "blue")))
    classes = [f"length={n} width={w} angle={a} colour={c}" for n, w, a, c in factors]
    rng = np.random.default_rng(0)
    y_true = np.repeat(np.arange(96), 4)
    y_pred = np.where(rng.random(y_true.size) < 0.8, y_true, rng.integers(0, 96, y_true.size))
    g = group("lines", [result_from(y_true, y_pred, classes), RunFailure("f" * 20, {}, "boom")])
    impl, result = compute([g])
    full = result["runs"][0]["full"]
    assert [len(gr["spans"]) for gr in full["groups"]] == [2, 4, 48]
    draw_all(impl, result)
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": []})
    assert html.count("<caption>") == 1 and "seed 1: failed: boom" in html
    assert re.search(r'<th scope="row">angle</th>\s*<td>12</td>', html)


def test_layout_gives_factors_with_many_levels_a_larger_panel():
    assert layout([2, 3]) == [["0", "1"]]
    assert layout([2, 2, 12, 2]) == [["0", "1", "2", "2"], ["3", ".", "2", "2"]]
    assert layout([2, 2, 2, 2, 2]) == [["0", "1", "4", "."], ["2", "3", ".", "."]]


def test_a_factor_near_its_baseline_is_named():
    """Length right 52 % of the time (baseline 50 %), angle 45 % (baseline 33 %): angle has the lowest accuracy,
    length the least above its baseline."""
    index = {f: i for i, f in enumerate(FACTORS)}
    y_true, y_pred = [], []
    for i, (c, n, w, a) in enumerate(FACTORS):
        for k in range(100):
            y_true.append(i)
            y_pred.append(index[(c, 22 - n if k < 48 else n, w, (a + 15) % 45 if k % 20 < 11 else a)])
    _, result = compute([group("a", [result_from(y_true, y_pred)])])
    text = result["analysis"][0]
    assert " Angle is confused most (45.0 % right" in text
    assert (" Measured against that baseline, though, length is the weakest: 52.0 % right where always "
            "answering its commonest level gives 50.0 %. ") in text
