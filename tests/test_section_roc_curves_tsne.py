"""roc, curves and tsne, each on its own: numbers against scikit-learn (AUCs, ROC curves, silhouette, 5-NN),
curves averaged over seeds with the trainer's events, options from the manifest, figures that draw and templates
that render."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve, silhouette_score
from sklearn.model_selection import LeaveOneOut, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from reportgen.render.env import make_env
from reportgen.sections.embedding import stratified_subset
from tests.test_sections import CLASSES, K, compute, draw_all, group, make_result


def two_runs():
    return [group("a", [make_result(1), make_result(2)]), group("b", [make_result(3), make_result(4)])]


def render(impl, result) -> str:
    figures = [{"name": f.name, "caption": f.caption, "alt": f.alt, "src": "x.png", "number": i, "wide": f.wide}
               for i, f in enumerate(impl.figures(result), 1)]
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": figures})
    assert html.count("<figure") == len(figures)
    return html


# --- roc -------------------------------------------------------------------------------------------------------


def test_roc_aucs_equal_sklearn():
    groups = two_runs()
    impl, result = compute("roc", groups)
    json.loads(json.dumps(result, allow_nan=False))
    for g, entry in zip(groups, result["runs"], strict=True):
        for average in ("macro", "micro"):
            expected = [roc_auc_score(r.test_true, r.test_prob.astype(np.float64), multi_class="ovr",
                                      average=average, labels=list(range(K))) for r in g.results]
            assert entry[f"auc_{average}"]["values"] == pytest.approx(expected)
            assert entry[f"auc_{average}"]["std"] == pytest.approx(np.std(expected, ddof=1))
        for i, summary in enumerate(entry["auc_per_class"]):
            expected = [roc_auc_score(r.test_true == i, r.test_prob[:, i]) for r in g.results]
            assert summary["values"] == pytest.approx(expected)
        first = g.results[0]
        for i, curve in enumerate(entry["roc"]["per_class"]):
            fpr, tpr, _ = roc_curve(first.test_true == i, first.test_prob[:, i])
            np.testing.assert_allclose(curve["fpr"], fpr, atol=1e-6)
            np.testing.assert_allclose(curve["tpr"], tpr, atol=1e-6)
        assert entry["first_seed"] == 0 and entry["classes"] == list(CLASSES)
    assert [f.name for f in draw_all(impl, result)] == ["roc"]


def test_roc_text_compares_with_the_first_run_and_renders():
    impl, result = compute("roc", two_runs())
    text = result["analysis"]
    assert text[0].startswith("A has a macro-average AUC of ") and "lowest per-class AUC is class" in text[0]
    assert text[2].startswith("B against A: macro AUC ") and "micro AUC" in text[2]
    assert "better" not in " ".join(text).lower()
    html = render(impl, result)
    assert html.count("<caption>") == 2 and "Macro AUC" in html and "per class" in html


def test_roc_of_one_run_one_seed_and_a_log_axis():
    impl, result = compute("roc", [group("a", [make_result(5, accuracy=1.0)])])
    assert result["fpr_scale"] == "log"
    assert "logarithmic" in result["analysis"][-1] and len(result["analysis"]) == 2
    draw_all(impl, result)


# --- curves ----------------------------------------------------------------------------------------------------


def test_curves_are_means_over_seeds_with_events():
    runs = [make_result(0), make_result(1)]
    runs[0] = replace(runs[0], events=[{"epoch": 2, "kind": "lr_decay", "detail": "learning rate 0.01 → 0.001"}])
    impl, result = compute("curves", [group("a", runs), group("b", [make_result(2), make_result(3)])])
    json.loads(json.dumps(result, allow_nan=False))
    curves = result["curves"]["A"]
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        assert curves[key] == pytest.approx(np.mean([r.history[key] for r in runs], axis=0).tolist())
    assert curves["events"] == [{"epoch": 2, "kind": "lr_decay", "detail": "learning rate 0.01 → 0.001"}]
    facts = result["runs"][0]["curve"]
    assert facts["epochs"] == 3 and facts["best_val_acc_epoch"] == 3 and facts["best_val_loss_epoch"] == 3
    text = " ".join(result["analysis"])
    assert "The learning rate of seed 0 of A was decayed after epoch 2" in text
    assert "over-fitting" not in text  # validation loss falls to the end
    (figure,) = draw_all(impl, result)
    assert "trainer's events" in figure.caption
    fig = figure.draw()
    assert any(t.get_text() == "LR decay" for ax in fig.axes for t in ax.texts)
    html = render(impl, result)
    assert "Highest val accuracy" in html and html.count("<tr>") == 3


def test_curves_name_a_rising_validation_loss_and_an_early_stop():
    r = make_result(0)
    r.history = {**r.history, "train_loss": [2.0, 1.0, 0.6, 0.4], "val_loss": [2.1, 1.0, 1.2, 1.4],
                 "train_acc": [0.4, 0.7, 0.8, 0.9], "val_acc": [0.35, 0.7, 0.68, 0.66]}
    r.events = [{"epoch": 4, "kind": "early_stop", "detail": "weights of epoch 2 restored"}]
    impl, result = compute("curves", [group("a", [r])])
    text = " ".join(result["analysis"])
    assert "lowest in epoch 2 (1.000)" in text and "peaks in epoch 2 at 70.0 %" in text
    assert "After epoch 2 the validation loss of A rises by 40 % while the training loss keeps falling" in text
    assert "Early stopping ended A after epoch 4: weights of epoch 2 restored." in text
    draw_all(impl, result)


# --- tsne ------------------------------------------------------------------------------------------------------


def test_tsne_separation_equals_sklearn_on_one_shared_subset():
    y_test = make_result(0).test_true  # one test set, as every seed and run of a report has
    groups = [group(name, [replace(make_result(s), test_true=y_test) for s in seeds])
              for name, seeds in (("a", (1, 2)), ("b", (3, 4)))]
    impl, result = compute("tsne", groups, tsne_points=60, tsne_perplexity=10.0, seed=3)
    json.loads(json.dumps(result, allow_nan=False))
    subset = stratified_subset(y_test, 60, 3)
    y = y_test[subset]
    assert result["tsne"] == {**result["tsne"], "points": 60, "perplexity": 10.0, "seed": 3, "same_subset": True}
    for g, entry in zip(groups, result["runs"], strict=True):
        assert entry["tsne"]["labels"] == y.tolist()
        assert np.asarray(entry["tsne"]["coords"]).shape == (60, 2)
        sil = [silhouette_score(r.test_features[subset], y) for r in g.results]
        knn = [cross_val_score(KNeighborsClassifier(5), r.test_features[subset], y, cv=LeaveOneOut()).mean()
               for r in g.results]
        assert entry["features"]["silhouette"]["values"] == pytest.approx(sil)
        assert entry["features"]["knn_accuracy"]["values"] == pytest.approx(knn)
        coords = np.asarray(entry["tsne"]["coords"])
        assert entry["tsne"]["silhouette"] == pytest.approx(silhouette_score(coords, y), abs=1e-2)
    text = result["analysis"]
    assert text[0].startswith("A: in its 4-dimensional penultimate-layer features (mean over 2 seeds)")
    assert any("for B vs" in s and "for A," in s for s in text)
    assert text[-1].startswith("The t-SNE embeddings of 60 points per run took ")
    assert [f.name for f in draw_all(impl, result)] == ["tsne"]
    assert "perplexity 10" in impl.figures(result)[0].caption
    assert "t-SNE plane" in render(impl, result)


def test_tsne_caps_the_perplexity_for_few_points():
    _, result = compute("tsne", [group("a", [make_result(7)])], tsne_points=50)
    assert result["tsne"]["perplexity"] == pytest.approx(49 / 3)
    assert len(result["analysis"]) == 2  # the run's separation and the cost: nothing to compare with


# --- the manifest ----------------------------------------------------------------------------------------------


SECTIONS = """
[sections.roc]
runs = ["conv", "mobilenet"]
[sections.curves]
runs = ["conv"]
[sections.tsne]
runs = ["conv", "mobilenet"]
tsne_points = 100
tsne_perplexity = 20
seed = 4
"""


def test_the_three_types_load_from_a_manifest(load_ok, load_error, tiny_manifest_text):
    manifest = load_ok(tiny_manifest_text + SECTIONS)
    assert [manifest.sections[k].type for k in ("roc", "curves", "tsne")] == ["roc", "curves", "tsne"]
    assert manifest.sections["tsne"].options == {"tsne_points": 100, "tsne_perplexity": 20.0, "seed": 4}
    assert load_error(tiny_manifest_text + SECTIONS.replace("seed = 4", "tsne_point = 4")) == (
        'experiments.toml: sections.tsne.tsne_point: unknown key "tsne_point"; did you mean "tsne_points"?'
    )
    assert load_error(tiny_manifest_text + SECTIONS.replace("tsne_points = 100", "tsne_points = 10")).startswith(
        "experiments.toml: sections.tsne.tsne_points: ")
