"""ablation (formerly with_without_mobilenet): ROC from probabilities (scikit-learn as the oracle), t-SNE of features
on one shared test subset, separation measures, text that never claims more than the seeds support; the reference
run (the ``reference`` option, else the first listed) and the old name, which keeps old manifests meaning the same."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import auc, roc_auc_score, roc_curve, silhouette_score

from reportgen.config.manifest import load_manifest
from reportgen.config.specs import SectionSpec
from reportgen.models.conv_mobilenet import block_counts
from reportgen.render.env import make_env
from reportgen.sections import SECTIONS, SectionContext
from reportgen.sections.ablation import reference_run
from reportgen.sections.compare import mean_curves
from reportgen.sections.embedding import stratified_subset
from reportgen.sections.roc import roc_aucs, roc_curves
from reportgen.training.result import RunFailure
from tests.support import tiny_group
from tests.test_sections import draw_all, group, make_result

KIND = "ablation"


def compute(groups, kind=KIND, **options):
    spec = SectionSpec(id="q6", type=kind, title="Q6", question="?", marks=10, runs=tuple(g.name for g in groups),
                       options=options)
    impl = SECTIONS.get(kind)(spec)
    return impl, impl.compute(SectionContext(spec, groups))


@pytest.fixture(scope="module")
def real():
    """The tiny conv net (C2) and the tiny MobileNet net (C1+M1), two seeds each, trained for real."""
    groups = [tiny_group("conv", seeds=(0, 1)), tiny_group("mobilenet", seeds=(0, 1))]
    impl, result = compute(groups)
    return groups, impl, result


def test_aucs_equal_sklearn_over_seeds(real):
    groups, _, result = real
    for g, entry in zip(groups, result["runs"], strict=True):
        for average in ("macro", "micro"):
            expected = [roc_auc_score(r.test_true, r.test_prob.astype(np.float64), multi_class="ovr",
                                      average=average, labels=list(range(10))) for r in g.results]
            assert entry[f"auc_{average}"]["values"] == pytest.approx(expected)
            assert entry[f"auc_{average}"]["std"] == pytest.approx(np.std(expected, ddof=1))
        assert entry["accuracy"]["values"] == pytest.approx([r.test_accuracy for r in g.results])


def test_roc_curves_come_from_probabilities(real):
    groups, _, result = real
    for g, entry in zip(groups, result["runs"], strict=True):
        first = g.results[0]
        onehot = np.eye(10)[first.test_true]
        for i, curve in enumerate(entry["roc"]["per_class"]):
            fpr, tpr, _ = roc_curve(onehot[:, i], first.test_prob[:, i])
            np.testing.assert_allclose(curve["fpr"], fpr, atol=1e-6)
            np.testing.assert_allclose(curve["tpr"], tpr, atol=1e-6)
        # Hard labels would give three points per curve; scores give a real curve.
        assert max(len(c["fpr"]) for c in entry["roc"]["per_class"]) > 3
        # The macro curve averages exact interpolations on the union grid: its area is the macro AUC (the
        # stored curve is thinned to 200 points, so its area is close; the full one is exact).
        macro = entry["roc"]["macro"]
        assert auc(macro["fpr"], macro["tpr"]) == pytest.approx(macro["auc"], abs=5e-3)
        full = roc_curves(first.test_true, first.test_prob, max_points=10**6)["macro"]
        assert auc(full["fpr"], full["tpr"]) == pytest.approx(macro["auc"], abs=1e-5)
        assert entry["first_seed"] == 0


def test_curves_are_thinned_to_200_points():
    r = make_result(0, n=3000)
    curves = roc_curves(r.test_true, r.test_prob)
    for curve in (*curves["per_class"], curves["micro"], curves["macro"]):
        assert 2 <= len(curve["fpr"]) <= 200 and curve["fpr"][0] == 0 and curve["tpr"][-1] == 1


def test_a_class_without_positives_has_no_auc():
    y = np.array([0, 0, 1, 1, 0, 1])
    prob = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.5, 0.2], [0.5, 0.4, 0.1],
                     [0.1, 0.8, 0.1]])
    aucs = roc_aucs(y, prob)
    assert aucs["per_class"][2] is None
    assert aucs["macro"] == pytest.approx(np.mean(aucs["per_class"][:2]))
    assert roc_curves(y, prob)["per_class"][2] is None


def test_tsne_uses_features_of_one_shared_subset(real):
    groups, _, result = real
    first = groups[0].results[0]
    subset = stratified_subset(first.test_true, 1000, 0)
    assert result["tsne"]["same_subset"] and result["tsne"]["points"] == len(subset)
    for g, entry in zip(groups, result["runs"], strict=True):
        t = entry["tsne"]
        assert t["labels"] == first.test_true[subset].tolist()
        assert np.asarray(t["coords"]).shape == (len(subset), 2)
        assert t["seconds"] >= 0
        sil = [silhouette_score(r.test_features[subset], r.test_true[subset]) for r in g.results]
        assert entry["features"]["silhouette"]["values"] == pytest.approx(sil)
        assert entry["features"]["dims"] == g.results[0].test_features.shape[1]
        assert t["silhouette"] == pytest.approx(silhouette_score(np.asarray(t["coords"]), t["labels"]), abs=1e-2)


def test_blocks_curves_confusion_and_json(real):
    groups, impl, result = real
    json.loads(json.dumps(result, allow_nan=False))
    assert [(e["conv_blocks"], e["mobilenet_blocks"]) for e in result["runs"]] == [(2, 0), (1, 1)]
    expected = mean_curves(groups[0])
    assert result["curves"]["C2"].keys() == expected.keys()
    for key, values in expected.items():  # pytest.approx does not compare nested mappings
        assert result["curves"]["C2"][key] == pytest.approx(values), key
    assert result["runs"][0]["confusion"]["matrix_seed"] == 0
    assert [f.name for f in draw_all(impl, result)] == ["roc", "curves", "confusion", "tsne"]


def test_analysis_judges_gaps_against_seed_noise(real):
    _, _, result = real
    text = " ".join(result["analysis"])
    assert "C1+M1 (1 conv, 1 MobileNet block) against C2 (2 conv, no MobileNet blocks) has " in text
    assert "p = " in text and "leave-one-out 5-NN accuracy" in text
    assert "better" not in text.lower() and "worse" not in text.lower()


def test_one_seed_is_untested_and_high_aucs_use_a_log_axis():
    perfect = [make_result(s, accuracy=1.0) for s in (1, 2)]
    _, result = compute([group("a", [perfect[0]]), group("b", [perfect[1]])], tsne_points=60)
    assert result["fpr_scale"] == "log" and 0 < result["fpr_floor"] < 0.01
    assert result["tsne"]["points"] == 60 and result["tsne"]["perplexity"] == pytest.approx(59 / 3)
    text = " ".join(result["analysis"])
    assert "untested" in text and "p = " not in text
    assert "logarithmic" in text
    _, noisy = compute([group("a", [make_result(3)]), group("b", [make_result(4)])], tsne_points=60)
    assert noisy["fpr_scale"] == "linear"


def test_template_renders(real):
    _, impl, result = real
    figures = [{"name": n, "caption": "c", "alt": "a", "src": "x.png", "number": i, "wide": True}
               for i, n in enumerate(("roc", "curves", "confusion", "tsne"), 1)]
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": figures})
    assert html.count("<caption>") == 3 and html.count("<figure") == 4
    assert "C1+M1" in html and "t-SNE plane" in html


# --- the reference run -------------------------------------------------------------------------------------------


def three_runs():
    return [group(name, [make_result(10 * i + s) for s in (0, 1)]) for i, name in enumerate(("a", "b", "c"))]


def test_the_reference_defaults_to_the_first_run_listed():
    _, result = compute(three_runs(), tsne_points=60)
    assert result["reference"] == "a" and [e["reference"] for e in result["runs"]] == [True, False, False]
    assert result["analysis"][0].startswith("B against A has ")
    assert any(s.startswith("C against A has ") for s in result["analysis"])


def test_a_reference_other_than_the_first():
    impl, result = compute(three_runs(), tsne_points=60, reference="b")
    assert result["reference"] == "b" and [e["reference"] for e in result["runs"]] == [False, True, False]
    text = result["analysis"]
    assert text[0].startswith("A against B has ")
    assert any(s.startswith("C against B has ") for s in text)
    assert not any(" against A " in s or " against C " in s for s in text)
    assert any("for A vs" in s and "for B," in s for s in text)  # separation: each run against the reference
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": []})
    assert "against the reference, B:" in html and html.count("(reference)") == 1
    assert "MobileNet" not in html and "MobileNet" not in " ".join(text)  # generic models: generic words


def test_a_reference_without_a_finished_seed_compares_nothing():
    groups = three_runs()
    groups[1].outcomes[:] = [RunFailure("f" * 20, {}, "boom"), RunFailure("e" * 20, {}, "boom")]
    impl, result = compute(groups, tsne_points=60, reference="b")
    assert result["analysis"] == ["No seed of the reference run, B, finished, so there is nothing to compare it with."]
    draw_all(impl, result)


SECTION = """
[sections.q6]
type = "{kind}"
runs = ["conv", "mobilenet"]
reference = "{reference}"
"""


@pytest.mark.parametrize("kind", ["ablation", "with_without_mobilenet"])
def test_reference_in_the_manifest(load_ok, load_error, tiny_manifest_text, kind):
    manifest = load_ok(tiny_manifest_text + SECTION.format(kind=kind, reference="mobilenet"))
    assert manifest.sections["q6"].type == "ablation"
    assert reference_run(manifest.sections["q6"]) == "mobilenet"
    assert load_error(tiny_manifest_text + SECTION.format(kind=kind, reference="mobilnet")) == (
        'experiments.toml: sections.q6.reference: "mobilnet" is not one of this section\'s runs ("conv", '
        '"mobilenet"); did you mean "mobilenet"?'
    )


def test_a_run_of_the_manifest_outside_the_section_is_no_reference(load_error, tiny_manifest_text):
    wide = '\n[runs.wide]\nextends = "conv"\nlabel = "C2 wide"\nmodel = { channels = 16 }\n'
    assert load_error(tiny_manifest_text + wide + SECTION.format(kind="ablation", reference="wide")) == (
        'experiments.toml: sections.q6.reference: "wide" is not one of this section\'s runs ("conv", "mobilenet")'
    )


REPO = Path(__file__).resolve().parents[1]


def old_reference(manifest, section) -> str:
    """with_without_mobilenet's rule before the rename: the run with the fewest MobileNet blocks (a model without
    them counting as 0), the first listed on a tie."""
    return min(section.runs, key=lambda run: block_counts(manifest.runs[run])[1] or 0)


@pytest.mark.parametrize(("path", "sid", "reference"), [
    ("experiments.toml", "with_without_mobilenet", "c4"),
    ("examples/itu-a3-course.toml", "with_without_mobilenet", "c4"),
    ("examples/itu-a2.toml", "with_without_conv", "mlp"),
])
def test_old_manifests_keep_their_reference(path, sid, reference):
    """The three manifests written for with_without_mobilenet load as ablation and compare against the same run."""
    manifest = load_manifest(REPO / path)
    section = manifest.sections[sid]
    assert section.type == "ablation" and "reference" not in section.options
    assert reference_run(section) == old_reference(manifest, section) == reference


def test_the_old_name_is_an_alias():
    assert SECTIONS.canonical("with_without_mobilenet") == "ablation"
    assert SECTIONS.get("with_without_mobilenet") is SECTIONS.get("ablation")
    assert "with_without_mobilenet" not in SECTIONS.names()  # one type, tested once by the contract tests
    groups = three_runs()
    _, new = compute(groups, tsne_points=60)
    _, old = compute(groups, kind="with_without_mobilenet", tsne_points=60)
    assert json.dumps(old["runs"]) == json.dumps(new["runs"])
