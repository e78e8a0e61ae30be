"""A section's ``target``: parsed with located errors, evaluated per run against scikit-learn's and numpy's numbers,
told in verdicts that say only what the numbers support, shown in the built report (HTML and PDF) and checked by
the grader (BELOW_TARGET)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from pypdf import PdfReader
from sklearn.metrics import f1_score

from reportgen.config.specs import RunSpec, Target, TrainConfig
from reportgen.grade.checks import CHECKS
from reportgen.sections.base import RunGroup
from reportgen.sections.target import evaluate_target, seed_metric
from reportgen.training.result import RunFailure, RunResult
from tests.conftest import edit
from tests.grade_support import ALIASES, GRADING, course, flags_of, grade, question

NBSP = "\u00a0"

# --- the manifest -------------------------------------------------------------------------------------------------

COMPARE_RUNS = 'runs = ["conv", "mobilenet"]\n'


def _with_target(text: str, target: str) -> str:
    """The tiny manifest with ``target = …`` in its compare section (the first section listing both runs)."""
    head, tail = text.split("[sections.confusion]")
    return edit(head, COMPARE_RUNS, f"{COMPARE_RUNS}target = {target}\n") + "[sections.confusion]" + tail


def test_a_valid_target_is_parsed(load_ok, tiny_manifest_text) -> None:
    manifest = load_ok(_with_target(tiny_manifest_text, '{ metric = "accuracy", at_least = 0.92 }'))
    assert manifest.sections["compare"].target == Target(metric="accuracy", at_least=0.92)
    assert manifest.sections["confusion"].target is None
    about = load_ok(_with_target(tiny_manifest_text, '{ metric = "loss", about = 0.46, tolerance = 0.02 }'))
    assert about.sections["compare"].target == Target(metric="loss", about=0.46, tolerance=0.02)


@pytest.mark.parametrize("target", ['{ metric = "accuracy", at_least = 0.92, at_most = 0.99 }',
                                    '{ metric = "accuracy" }'])
def test_a_target_needs_exactly_one_bound(load_error, tiny_manifest_text, target: str) -> None:
    message = load_error(_with_target(tiny_manifest_text, target))
    assert message == ('experiments.toml: sections.compare.target: needs exactly one of "at_least", "at_most" or '
                       '"about"')


def test_an_unknown_metric_gets_a_did_you_mean(load_error, tiny_manifest_text) -> None:
    message = load_error(_with_target(tiny_manifest_text, '{ metric = "acuracy", at_least = 0.92 }'))
    assert "sections.compare.target.metric" in message and 'did you mean "accuracy"' in message


# --- evaluate_target ----------------------------------------------------------------------------------------------


def _seed(correct: int, total: int = 200, classes: int = 4, seed: int = 0) -> RunResult:
    """A finished seed whose argmax is right on exactly ``correct`` of ``total`` test images (random probabilities
    otherwise, so that F1 and the loss are not trivial)."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, classes, total)
    prob = rng.dirichlet(np.ones(classes), total)
    for i in range(total):
        order = np.argsort(prob[i])
        wanted = true[i] if i < correct else (true[i] + 1) % classes
        top = order[-1]
        prob[i, [top, wanted]] = prob[i, [wanted, top]]
    return RunResult(f"k{seed}", {}, {}, true, prob.astype(np.float32), np.zeros((total, 2), np.float32),
                     tuple("abcd"[:classes]), 1, 1, 1.0)


def _group(name: str, label: str, outcomes: list) -> RunGroup:
    spec = RunSpec(name=name, label=label, dataset="digits", arch="mlp", model_options={}, train=TrainConfig())
    return RunGroup(name, spec, list(range(len(outcomes))), outcomes)


def test_seed_metrics_equal_sklearn_and_numpy() -> None:
    result = _seed(150, seed=3)
    assert seed_metric("accuracy", result) == pytest.approx(0.75)
    assert seed_metric("accuracy", result) == pytest.approx(np.mean(result.test_prob.argmax(1) == result.test_true))
    assert seed_metric("f1_macro", result) == pytest.approx(
        f1_score(result.test_true, result.test_prob.argmax(1), average="macro"))
    prob = result.test_prob.astype(np.float64)
    assert seed_metric("loss", result) == pytest.approx(-np.log(prob[np.arange(200), result.test_true]).mean())


def test_evaluate_target_summarises_each_run_over_its_seeds() -> None:
    seeds = [_seed(190, seed=0), _seed(194, seed=1), _seed(188, seed=2)]
    out = evaluate_target(Target(metric="f1_macro", at_least=0.5), [_group("c4", "C4", seeds)])
    json.dumps(out)  # JSON-able, as results.json needs
    [run] = out["runs"]
    f1 = [f1_score(s.test_true, s.test_prob.argmax(1), average="macro") for s in seeds]
    assert run["summary"]["values"] == pytest.approx(f1)
    assert run["summary"]["mean"] == pytest.approx(np.mean(f1))
    assert run["summary"]["std"] == pytest.approx(np.std(f1, ddof=1))
    assert (run["meets"], run["seeds_meeting"], run["status"], run["seeds"]) == (True, 3, "met", [0, 1, 2])
    assert out["met_by"] == ["C4"] and out["text"] == f"macro F1 of at least 50{NBSP}%"


def test_about_and_at_most_compare_the_mean() -> None:
    group = _group("c4", "C4", [_seed(180, seed=0), _seed(184, seed=1)])
    loss = np.mean([seed_metric("loss", s) for s in group.outcomes])
    assert evaluate_target(Target(metric="loss", at_most=loss + 1e-6), [group])["runs"][0]["meets"] is True
    assert evaluate_target(Target(metric="loss", at_most=loss - 1e-3), [group])["runs"][0]["meets"] is False
    near = evaluate_target(Target(metric="accuracy", about=0.90, tolerance=0.011), [group])["runs"][0]
    far = evaluate_target(Target(metric="accuracy", about=0.95, tolerance=0.01), [group])["runs"][0]
    assert (near["meets"], far["meets"]) == (True, False)
    assert _plain(near["verdict"]) == ("C4 reaches 91.0 % ± 1.4 (2 seeds), within 1.1 points of the target of "
                                       "about 90 %; 1 of 2 seeds is within it.")
    assert _plain(far["verdict"]) == ("C4 reaches 91.0 % ± 1.4 (2 seeds): 4.0 points from the target of about 95 %, "
                                      "more than its tolerance of 1 point (neither seed is within it).")


def _plain(text: str) -> str:
    return text.replace(NBSP, " ")


def test_verdict_when_the_mean_meets_the_target() -> None:
    group = _group("c4", "C4", [_seed(194, seed=0), _seed(196, seed=1), _seed(192, seed=2)])  # 97, 98, 96 %
    out = evaluate_target(Target(at_least=0.92), [group])
    assert _plain(out["runs"][0]["verdict"]) == ("C4 reaches 97.0 % ± 1.0 (3 seeds), above the target of 92 %; "
                                                 "all 3 seeds meet it.")
    assert out["summary"] == "C4 meets the target."


def test_verdict_when_the_mean_misses_the_target() -> None:
    group = _group("m", "C1+M3", [_seed(186, seed=0), _seed(182, seed=1), _seed(180, seed=2)])  # 93, 91, 90 %
    out = evaluate_target(Target(at_least=0.92), [group])
    assert _plain(out["runs"][0]["verdict"]) == ("C1+M3 reaches 91.3 % ± 1.5 (3 seeds): below the target of 92 % "
                                                 "(1 of 3 seeds meets it).")
    assert out["summary"] == "C1+M3 does not meet the target."


def test_verdict_with_one_seed_says_there_is_no_spread() -> None:
    out = evaluate_target(Target(at_least=0.92), [_group("c4", "C4", [_seed(190)])])
    assert _plain(out["runs"][0]["verdict"]) == "C4 reaches 95.0 % (1 seed, so no spread), above the target of 92 %."
    below = evaluate_target(Target(at_least=0.96), [_group("c4", "C4", [_seed(190)])])
    assert _plain(below["runs"][0]["verdict"]) == "C4 reaches 95.0 % (1 seed, so no spread): below the target of 96 %."


def test_verdict_without_a_finished_seed() -> None:
    failed = [RunFailure("k0", {}, "out of memory"), RunFailure("k1", {}, "out of memory")]
    out = evaluate_target(Target(at_least=0.92), [_group("c4", "C4", failed), _group("m", "C1+M3", [_seed(190)])])
    run = out["runs"][0]
    assert run["verdict"] == "C4: no finished seed, so the target cannot be checked."
    assert (run["meets"], run["status"], run["summary"]["mean"]) == (None, "unchecked", None)
    assert out["summary"] == "C1+M3 meets the target; C4 cannot be checked (no finished seed)."
    json.dumps(out)


def test_a_mean_just_below_the_bound_does_not_print_as_the_bound() -> None:
    group = _group("c4", "C4", [_seed(1839, total=2000)])  # 91.95 %
    verdict = _plain(evaluate_target(Target(at_least=0.92), [group])["runs"][0]["verdict"])
    assert verdict.startswith("C4 reaches 91.95 % ") and "below the target of 92 %" in verdict


# --- the report -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_with_targets(tmp_path_factory):
    from reportgen.build import build
    from tests.conftest import TINY_MANIFEST

    text = _with_target(TINY_MANIFEST, '{ metric = "accuracy", at_least = 0.05 }')
    text = text.replace('marks = 2.5\nruns = ["conv", "mobilenet"]\n',
                        'marks = 2.5\nruns = ["conv", "mobilenet"]\ntarget = { metric = "loss", at_most = 100.0 }\n')
    folder = tmp_path_factory.mktemp("targets")
    (folder / "experiments.toml").write_text(text, encoding="utf-8")
    return build(folder / "experiments.toml", quiet=True, device="cpu")


def test_the_build_stores_the_target_in_the_section_and_results(built_with_targets) -> None:
    summary = built_with_targets
    stored = json.loads((summary.out / "sections" / "compare.json").read_text())["target"]
    results = json.loads(summary.results.read_text())["sections"]
    assert results["compare"]["target"] == stored
    assert [r["label"] for r in stored["runs"]] == ["C2", "C1+M1"]
    assert results["confusion"]["target"]["met_by"] == ["C2", "C1+M1"]  # any loss is at most 100


def test_the_report_shows_a_target_box_under_each_question_with_one(built_with_targets) -> None:
    summary = built_with_targets
    html = _plain(summary.html.read_text(encoding="utf-8"))
    compare = html[html.index('<section class="question" id="compare"'):html.index('id="confusion"')]
    box = compare[compare.index('<aside class="target-box"'):]
    assert compare.index("question-text") < compare.index("target-box")  # right after the question
    assert "test accuracy of at least 5 %" in box and "C2 reaches " in box and "C1+M1 reaches " in box
    assert "test loss (mean cross-entropy) of at most 100" in html
    assert html.count('<aside class="target-box"') == 2
    pdf = _plain("\n".join(page.extract_text() for page in PdfReader(summary.pdf).pages))
    assert "Target:" in pdf and "test accuracy of at least 5 %" in pdf and "C1+M1 reaches" in pdf


# --- grading: BELOW_TARGET ----------------------------------------------------------------------------------------

COMPARE = "# 1 Conv blocks vs MobileNet blocks\n\n"
AT_LEAST_92 = '\n[sections.compare.target]\nmetric = "accuracy"\nat_least = 0.92\n'
PROSE = ("The MobileNet blocks train faster, but the conv blocks generalise a little better on these digits; the "
         "curves below show both over the epochs, and the confusion matrices tell the rest of the story.\n")


@dataclass
class Case:
    """A report graded in the course with ``target`` (a TOML table appended to its sections); ``line``: where the
    flag points; ``words``: what its message says."""

    id: str
    text: str
    line: int | None = None
    words: tuple[str, ...] = ()
    target: str = AT_LEAST_92
    severity: str = "warning"


FIRES = [
    Case("exact-below", f"{COMPARE}Test accuracy: 0.90\n", 3, ("90.0 %", "below", "test accuracy at least 92 %")),
    Case("one-run-of-two", f"{COMPARE}C4 reaches a test accuracy of 97.2 %, C1+M3 only 91.5 %.\n", 3,
         ("C1+M3", "91.5 %")),
    Case("table-row", f"{COMPARE}| Model | Test accuracy |\n|---|---|\n| C4 | 0.95 |\n| C1+M3 | 0.91 |\n", 6,
         ("C1+M3", "91.0 %")),
    Case("hedge-still-below", f"{COMPARE}C1+M3 reaches a test accuracy of just under 89 %.\n", 3,
         ("between 87.0 and 89.0 %",)),
    Case("loss-above", f"{COMPARE}Test loss: 0.45\n", 3, ("0.45", "above", "test loss at most 0.3"),
         target='\n[sections.compare.target]\nmetric = "loss"\nat_most = 0.3\n'),
    Case("f1-outside-about", f"{COMPARE}Macro F1: 0.80\n", 3, ("80.0 %", "outside", "macro F1 about 90 % ± 2 points"),
         target='\n[sections.compare.target]\nmetric = "f1_macro"\nabout = 0.9\ntolerance = 0.02\n'),
    Case("no-number", f"{COMPARE}{PROSE}\n![curves](curves.png)\n", 1,
         ("unclear", "states no test accuracy", "no marks taken"), severity="info"),
]

QUIET = [
    Case("above", f"{COMPARE}Test accuracy: 0.95\n"),
    Case("about-92", f"{COMPARE}C1+M3 reaches a test accuracy of ~92 %.\n"),
    Case("bound-claim", f"{COMPARE}C1+M3 reaches a test accuracy of > 92 %.\n"),
    Case("rounds-to-the-target", f"{COMPARE}Test accuracy: 92 %\n"),
    Case("validation-below", f"{COMPARE}C1+M3 reaches a validation accuracy of 90.0 % and a test accuracy of "
         "93.1 %.\n"),
    Case("other-epochs", f"{COMPARE}## C1+M3, Epoch = 1\nTest accuracy: 0.60\n\n## C1+M3, Epoch = 8\n"
         "Test accuracy: 0.93\n"),
    Case("no-target", f"{COMPARE}Test accuracy: 0.50\n", target=""),
    Case("run-the-section-does-not-use", "# 3 Correct and wrong predictions\n\nC1+M3 reaches a test accuracy of 0.50, "
         "C4 0.95.\n\n![right](r.png)\n",
         target='\n[sections.predictions.target]\nmetric = "accuracy"\nat_least = 0.92\n'),
    Case("loss-below", f"{COMPARE}Test loss: 0.25\n", target='\n[sections.compare.target]\nmetric = "loss"\n'
         'at_most = 0.3\n'),
]


def _graded(case: Case, tmp_path):
    return grade(case.text, course(tmp_path, GRADING + ALIASES, case.target))


def test_below_target_is_registered() -> None:
    assert CHECKS.get("BELOW_TARGET").description.strip()


@pytest.mark.parametrize("case", FIRES, ids=lambda c: c.id)
def test_below_target_fires(case: Case, tmp_path) -> None:
    [found] = flags_of(_graded(case, tmp_path), "BELOW_TARGET")
    assert (found.line, found.severity) == (case.line, case.severity)
    assert found.location == f"line {case.line}"
    for word in case.words:
        assert word in _plain(found.message), f"{word!r} not in {found.message!r}"


@pytest.mark.parametrize("case", QUIET, ids=lambda c: c.id)
def test_below_target_stays_quiet(case: Case, tmp_path) -> None:
    g = _graded(case, tmp_path)
    assert g.claims, "the near miss must hold a claim for the check to look at"
    assert flags_of(g, "BELOW_TARGET") == []


def test_a_question_without_an_answer_gets_no_target_flag(tmp_path) -> None:
    g = grade(f"{COMPARE}Test accuracy: 0.95\n", course(tmp_path, GRADING + ALIASES,
                                                       '\n[sections.predictions.target]\nat_least = 0.92\n'))
    assert question(g, "predictions").status == "missing"
    assert flags_of(g, "BELOW_TARGET") == []  # MISSING_QUESTION speaks for it


def test_below_target_costs_a_warning_and_no_number_costs_nothing(tmp_path) -> None:
    below = question(_graded(FIRES[0], tmp_path), "compare")
    assert below.score == 5 - 0.1 * 5 and below.deductions == ["BELOW_TARGET (warning): −0.5"]
    unclear = question(_graded(FIRES[-1], tmp_path), "compare")
    assert unclear.score == 5.0 and unclear.deductions == []
