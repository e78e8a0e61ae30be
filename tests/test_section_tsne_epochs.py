"""tsne_epochs: features after epoch k against the end on one shared test subset, separation measured with
scikit-learn as the oracle, runs without the snapshot named with the manifest key to add, and text that never
claims more than the seeds support."""

from __future__ import annotations

import json
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.stats import ttest_rel
from sklearn.metrics import silhouette_score
from sklearn.model_selection import LeaveOneOut, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from reportgen.config.specs import SectionSpec
from reportgen.render.env import make_env
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.embedding import stratified_subset
from reportgen.sections.tsne_epochs import missing_snapshot
from tests.support import tiny_group
from tests.test_sections import draw_all

KIND = "tsne_epochs"
POINTS = 50  # small subsets keep the t-SNE (memoised per process) cheap


def compute(groups, **options):
    spec = SectionSpec(id="q7", type=KIND, title="Q7", question="?", marks=5, runs=tuple(g.name for g in groups),
                       options={"tsne_points": POINTS, **options})
    impl = SECTIONS.get(KIND)(spec)
    return impl, impl.compute(SectionContext(spec, groups))


def snap_group(seeds=(0, 1), epochs=3, **train):
    """The tiny MLP (3 epochs unless told) with its test features kept after epoch 1."""
    return tiny_group("mlp", seeds=seeds, epochs=epochs, feature_snapshots=[1], **train)


@pytest.fixture(scope="module")
def real():
    """A run with the snapshot (two seeds) and one without it."""
    groups = [snap_group(), tiny_group("mlp", seeds=(0, 1), epochs=3)]
    impl, result = compute(groups)
    return groups, impl, result


def test_separation_equals_sklearn_in_feature_space(real):
    groups, _, result = real
    g, e = groups[0], result["runs"][0]
    assert e["status"] == "ok" and e["seeds_used"] == [0, 1] and e["first_seed"] == 0
    subset = stratified_subset(g.results[0].test_true, POINTS, 0)
    for when, feats in (("early", lambda r: r.feature_snapshots[1]), ("end", lambda r: r.test_features)):
        sil = [silhouette_score(feats(r)[subset], r.test_true[subset]) for r in g.results]
        assert e["features"]["silhouette"][when]["values"] == pytest.approx(sil, abs=1e-6)  # float32 features
        assert e["features"]["silhouette"][when]["std"] == pytest.approx(np.std(sil, ddof=1))
        r = g.results[0]  # the oracle refits per left-out point: one seed is enough to pin the measure down
        knn = cross_val_score(KNeighborsClassifier(5), feats(r)[subset], r.test_true[subset], cv=LeaveOneOut()).mean()
        assert e["features"]["knn_accuracy"][when]["values"][0] == pytest.approx(knn)
    gain = e["features"]["knn_accuracy"]["gain"]["values"]
    assert gain == pytest.approx(np.subtract(e["features"]["knn_accuracy"]["end"]["values"],
                                             e["features"]["knn_accuracy"]["early"]["values"]))
    # The epoch-1 features really are earlier ones: they differ from the final features.
    assert not np.allclose(g.results[0].feature_snapshots[1], g.results[0].test_features)


def test_one_subset_for_both_epochs_and_every_run(real):
    groups, _, result = real
    e = result["runs"][0]
    subset = stratified_subset(groups[0].results[0].test_true, POINTS, 0)
    assert e["tsne"]["labels"] == groups[0].results[0].test_true[subset].tolist()
    for when in ("early", "end"):
        coords = np.asarray(e["tsne"][when]["coords"])
        assert coords.shape == (POINTS, 2)
        assert e["tsne"][when]["silhouette"] == pytest.approx(silhouette_score(coords, e["tsne"]["labels"]), abs=1e-2)
    assert result["tsne"]["points"] == POINTS and result["tsne"]["same_subset"]


def test_a_run_without_the_snapshot_names_the_key_to_add(real):
    groups, impl, result = real
    e = result["runs"][1]
    assert e["status"] == "missing" and e["figure"] is None
    assert "`feature_snapshots = [1]`" in e["message"] and "[runs.mlp]" in e["message"]
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": []})
    assert 'class="warning"' in html and "<code>feature_snapshots = [1]</code>" in html
    # Asking for an epoch the run does not keep names the epoch to add to its list.
    _, other = compute([groups[0]], epoch=2)
    assert "add 2 to the `feature_snapshots` of [runs.mlp] (now [1])" in other["runs"][0]["message"]


def test_snapshot_at_or_after_the_last_epoch_and_early_stops():
    g = tiny_group("mlp", seeds=(0,), epochs=1, feature_snapshots=[1])
    assert "not before the last epoch (epochs = 1)" in missing_snapshot(g, 1)
    # A seed that early stopping ended before epoch 2 keeps no snapshot of it.
    base = snap_group(seeds=(0,))
    stopped = replace(base.results[0], feature_snapshots={}, history={"train_loss": [1.0], "val_loss": [1.0]})
    spec = replace(base.spec, train=replace(base.spec.train, feature_snapshots=(2,)))
    text = missing_snapshot(RunGroup("mlp", spec, [0], [stopped]), 2)
    assert "stopped training early (after at most 1 epoch), before epoch 2" in text


def test_seeds_without_the_snapshot_are_left_out(real):
    groups, _, _ = real
    g = groups[0]
    partial = RunGroup(g.name, g.spec, [0, 1], [g.results[0], replace(g.results[1], feature_snapshots={})])
    _, result = compute([partial])
    e = result["runs"][0]
    assert e["seeds_used"] == [0] and e["seeds_without"] == [1]
    assert "Seed 1 of MLP stopped training before epoch 1 and is left out" in " ".join(result["analysis"])


def test_change_is_tested_over_seeds_and_never_overclaimed(real):
    _, _, result = real
    f = result["runs"][0]["features"]
    for m in ("silhouette", "knn_accuracy"):
        end, early = f[m]["end"]["values"], f[m]["early"]["values"]
        expected = ttest_rel(end, early).pvalue  # the same seeds twice: paired
        if np.isnan(expected):
            assert f[m]["test"]["testable"] is False and f[m]["test"]["p"] is None
        else:
            # The two changes are one family: each keeps its own p as p_raw, and p is Holm-adjusted.
            assert f[m]["test"].get("p_raw", f[m]["test"]["p"]) == pytest.approx(expected)
    live = [f[m]["test"] for m in ("silhouette", "knn_accuracy") if f[m]["test"]["testable"]]
    if len(live) == 2:
        from statsmodels.stats.multitest import multipletests

        adjusted = multipletests([t["p_raw"] for t in live], method="holm")[1]
        assert [t["p"] for t in live] == pytest.approx(list(adjusted))
        assert "Holm-corrected for the 2 comparisons" in result["rule"]
    text = result["analysis"][0]
    assert text.startswith("MLP: from epoch 1 to the end of training (epoch 3)")
    tests = [f[m]["test"] for m in ("silhouette", "knn_accuracy")]
    if not all(t["significant"] and t["diff"] > 0 for t in tests):
        assert "separate better" not in text
    assert "In the t-SNE plane of seed 0 (one embedding per epoch, so not tested)" in result["analysis"][1]


def test_one_seed_is_untested():
    _, result = compute([snap_group(seeds=(0,))])
    text = result["analysis"][0]
    assert "with one seed neither change is tested" in text and "better" not in text
    assert result["runs"][0]["features"]["knn_accuracy"]["test"]["testable"] is False


def test_events_and_early_stopping_are_reported():
    g = snap_group(seeds=(0,), lr=0.2, epochs=6, early_stopping=2, lr_schedule="plateau", plateau_patience=1)
    r = g.results[0]
    assert {ev["kind"] for ev in r.events} == {"lr_decay", "early_stop"}  # the trainer's decisions, for real
    _, result = compute([g])
    e = result["runs"][0]
    restored = int(np.argmin(r.history["val_loss"])) + 1
    assert e["events"] == r.events and e["ends"] == [{"seed": 0, "trained": len(r.history["val_loss"]),
                                                      "restored": restored}]
    text = " ".join(result["analysis"])
    assert f"stopped early after epoch {len(r.history['val_loss'])}, weights of epoch {restored} restored" in text
    assert "learning rate of seed 0 was decayed after epoch" in text


def test_figures_json_and_template(real):
    _, impl, result = real
    json.loads(json.dumps(result, allow_nan=False))
    figures = draw_all(impl, result)
    assert [f.name for f in figures] == ["tsne-1-mlp"]
    fig = figures[0].draw()
    try:
        assert [ax.get_title(loc="left") for ax in fig.axes] == ["After epoch 1", "End of training"]
        assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["class 0", "class 1"]
    finally:
        plt.close(fig)
    rendered = [{"name": f.name, "caption": f.caption, "alt": f.alt, "src": "x.png", "number": 1, "wide": True}
                for f in figures]
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": rendered})
    assert html.count("<caption>") == 2 and html.count("<figure") == 1
    assert '<small class="nowrap">3 of 3</small>' in html  # epochs trained, on one line
