"""Checks that need only arithmetic: a number against the matrix it came from, against its range, against the
test set's size, and recall that is only accuracy again."""

from __future__ import annotations

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.model import Claim, Flag, Matrix
from reportgen.grade.rubric import TestSet

NEAR_LINES = 6  # claims this close, under one heading, are about the same model


def _near(f: Findings, a: Claim, b: Claim) -> bool:
    return abs(a.location.line - b.location.line) <= NEAR_LINES and f.same_block(a.location.line, b.location.line)


def _test_claims(f: Findings, metric: str) -> list[Claim]:
    return [c for c in f.claims if c.metric == metric and c.split in ("test", "")]


SEEDS_SDS = 3.0  # how far from a mean over seeds one seed's result may lie, in the seeds' SDs


@check("ACCURACY_MISMATCH", "A stated accuracy differs from trace/total of the confusion matrix given for the same "
                            "model by more than rounding (or than its hedge allows: \"about 97 %\").")
def accuracy_mismatch(f: Findings) -> list[Flag]:
    flags = []
    for matrix in f.matrices:
        if matrix.normalized:
            continue  # shares of each class: their diagonal's mean is balanced accuracy, not accuracy
        claim = _claim_for(f, matrix)
        # A mean over seeds ("0.9903 (± 0.0005)") need not be one seed's matrix: that one lies within a few SDs.
        slack = SEEDS_SDS * claim.spread if claim is not None and claim.spread is not None else 0.0
        if claim is None or claim.admits(matrix.accuracy, slack):
            continue
        # A number read from a picture may be misread: a warning, not an error.
        severity = "warning" if "image" in (claim.source, matrix.source) else "error"
        read = " (read from an image)" if severity == "warning" else ""
        flags.append(flag(
            "ACCURACY_MISMATCH", severity,
            f"accuracy {claim.as_written}{_about(claim)} does not match the confusion matrix{_about(matrix)} at "
            f"{matrix.location}: trace {matrix.trace:,} / total {matrix.total:,} = {matrix.accuracy:.4f}{read}",
            claim.context, claim.location.line, str(claim.location)))
    return flags


def _about(item) -> str:
    name = item.subject or item.run
    return f" of {name}" if name else ""


def _same_model(claim: Claim, matrix: Matrix) -> bool | None:
    """True: both name the same model; False: they name different ones; None: one of them names none."""
    if claim.run and matrix.run:
        return claim.run == matrix.run
    a, b = (claim.subject or "").lower(), (matrix.subject or "").lower()
    if a and b:
        return a == b or bool(claim.run) and claim.run == matrix.run
    return None


def _claim_for(f: Findings, matrix: Matrix) -> Claim | None:
    """The test accuracy stated for the matrix's model: under the same heading, the nearest one that names the
    same model, else the nearest that names no model — and none when the nearby accuracies name several models and
    the matrix names none (pairing them would be a guess)."""
    line = matrix.location.line
    accuracies = _test_claims(f, "accuracy")
    near = [c for c in accuracies if f.same_block(c.location.line, line)] or [
        c for c in accuracies if abs(c.location.line - line) <= NEAR_LINES and c.location.page == matrix.location.page]
    same = [c for c in near if _same_model(c, matrix) is True]
    if same:
        return min(same, key=lambda c: abs(c.location.line - line))
    if matrix.run or matrix.subject:
        unnamed = [c for c in near if _same_model(c, matrix) is None and not (c.subject or c.run)]
    else:
        models = {(c.run or c.subject).lower() for c in near if c.run or c.subject}
        if len(models) > 1:
            return None
        unnamed = near
    if not unnamed:
        return None
    return min(unnamed, key=lambda c: abs(c.location.line - line))


@check("RECALL_EQUALS_ACCURACY", "Recall is identical to accuracy everywhere it is reported: micro- or "
                                 "weighted-averaged recall, which says nothing beyond accuracy.")
def recall_equals_accuracy(f: Findings) -> list[Flag]:
    if all(t.balanced for t in f.grading.all_test_sets()):
        return []  # on a balanced test set macro recall equals accuracy too: equality proves nothing
    pairs = []
    accuracies = _test_claims(f, "accuracy")
    for recall in _test_claims(f, "recall"):
        if recall.average in ("macro", "weighted"):
            continue  # labelled: the writer says which recall it is (weighted recall is accuracy by definition)
        near = [a for a in accuracies if _near(f, a, recall)]
        if near:
            pairs.append((recall, min(near, key=lambda a: abs(a.location.line - recall.location.line))))
    if not pairs or any(abs(r.value - a.value) > 1e-9 for r, a in pairs):
        return []
    recall, accuracy = pairs[0]
    return [flag("RECALL_EQUALS_ACCURACY", "warning",
                 f"recall equals accuracy in all {len(pairs)} places both are given (e.g. {recall.as_written}): that "
                 "is micro- or weighted-averaged recall, which is accuracy again; per-class or macro recall "
                 "would show the classes the model misses",
                 f"{accuracy.context} / {recall.context}", recall.location.line, str(recall.location))]


def test_set_of(f: Findings, classes: int, about: str) -> TestSet | None:
    """The course's test set a table of ``classes`` classes about ``about`` refers to."""
    sets = f.grading.all_test_sets()
    if len(sets) == 1:
        return sets[0]
    by_keyword = [t for t in sets if any(k.lower() in about.lower() for k in t.keywords)]
    if len(by_keyword) == 1:
        return by_keyword[0]
    by_classes = [t for t in sets if t.classes == classes]
    return by_classes[0] if len(by_classes) == 1 else None


@check("TEST_SIZE_MISMATCH", "Confusion-matrix totals or class-report supports differ from the size of the course's "
                             "test set ([grading] test_size).")
def test_size_mismatch(f: Findings) -> list[Flag]:
    flags = []
    for matrix in f.matrices:
        if matrix.normalized:
            continue  # shares, not counts
        expected = test_set_of(f, matrix.rows, matrix.about)
        if expected is None or expected.size is None or matrix.total == expected.size:
            continue
        if expected.classes is not None and expected.classes != matrix.rows:
            continue  # a matrix of another task (a 2-class sub-problem), not this test set
        flags.append(flag("TEST_SIZE_MISMATCH", "warning",
                          f"the {matrix.rows}×{matrix.cols} confusion matrix at {matrix.location} counts "
                          f"{matrix.total:,} test images; the course's {expected.name} set has {expected.size:,}",
                          _matrix_evidence(matrix), matrix.location.line, str(matrix.location)))
    for report in f.class_reports:
        expected = test_set_of(f, len(report.rows), report.about)
        total = report.support_total
        if expected is None or expected.size is None or total == expected.size:
            continue
        flags.append(flag("TEST_SIZE_MISMATCH", "warning",
                          f"the per-class supports at {report.location} add up to {total:,}; the course's "
                          f"{expected.name} set has {expected.size:,}",
                          f"supports: {', '.join(str(int(r['support'])) for r in report.rows.values())}",
                          report.location.line, str(report.location)))
    return flags


def _matrix_evidence(matrix: Matrix) -> str:
    rows = [" ".join(str(v) for v in row) for row in matrix.cells[:3]]
    return " / ".join(rows) + (" / …" if matrix.rows > 3 else "")


@check("ZERO_RECALL_CLASS", "A class is never predicted correctly (its row of the confusion matrix has 0 on the "
                            "diagonal, or its recall is 0).")
def zero_recall_class(f: Findings) -> list[Flag]:
    flags = []
    for matrix in f.matrices:
        zero = matrix.zero_recall_classes
        if zero:
            names = ", ".join(matrix.class_name(i) for i in zero)
            flags.append(flag("ZERO_RECALL_CLASS", "warning",
                              f"class{'es' if len(zero) > 1 else ''} {names} never predicted correctly in the matrix "
                              f"at {matrix.location}",
                              _matrix_evidence(matrix), matrix.location.line, str(matrix.location)))
    for report in f.class_reports:
        zero_labels = [label for label, row in report.rows.items() if row.get("recall") == 0 and row.get("support")]
        if zero_labels:
            flags.append(flag("ZERO_RECALL_CLASS", "warning",
                              f"recall 0 for class{'es' if len(zero_labels) > 1 else ''} {', '.join(zero_labels)} "
                              f"in the per-class report at {report.location}",
                              ", ".join(f"{label}: recall 0" for label in zero_labels),
                              report.location.line, str(report.location)))
    return flags


@check("IMPOSSIBLE_VALUE", "A metric outside its range (accuracy above 100 %, a negative loss), or an F1 above what "
                           "its precision and recall allow.")
def impossible_value(f: Findings) -> list[Flag]:
    flags = []
    for claim in f.claims:
        if claim.metric == "loss":
            bad = claim.value < 0
            why = "a loss below 0"
        else:
            bad = not -1e-12 <= claim.value <= 1 + 1e-12
            why = f"{claim.metric} outside 0–100 %"
        if bad:
            # A number read from a picture may be misread ("0.97" as "097"): a warning, not an error.
            image = claim.source == "image"
            flags.append(flag("IMPOSSIBLE_VALUE", "warning" if image else "error",
                              f"{claim.metric} {claim.as_written}: {why}{' (read from an image)' if image else ''}",
                              claim.context, claim.location.line, str(claim.location)))
    for f1 in [c for c in f.claims if c.metric == "f1"]:
        p = _partner(f, f1, "precision")
        r = _partner(f, f1, "recall")
        if p is None or r is None:
            continue
        # F1 is the harmonic mean of P and R per class (and for micro averaging); an average of per-class F1s is
        # at most the mean of the averaged P and R, since a harmonic mean never exceeds the arithmetic one.
        limit = (p.value + r.value) / 2
        if f1.value > limit + f1.tolerance + p.tolerance + r.tolerance:
            flags.append(flag("IMPOSSIBLE_VALUE", "error",
                              f"F1 {f1.as_written} is above the mean of precision {p.as_written} and recall "
                              f"{r.as_written} ({limit:.4f}), which no averaging of F1 can exceed",
                              f"{p.context} / {r.context} / {f1.context}", f1.location.line, str(f1.location)))
    return flags


def _partner(f: Findings, claim: Claim, metric: str) -> Claim | None:
    near = [c for c in f.claims if c.metric == metric and c.split == claim.split and c.average == claim.average
            and _near(f, c, claim) and not _other_model(c, claim)]
    return min(near, key=lambda c: (abs(c.location.line - claim.location.line),
                                    abs(c.column - claim.column))) if near else None


def _other_model(a: Claim, b: Claim) -> bool:
    """Whether two claims are known to be about different models ("| macro avg | 0.48 | ... | 0.74 |" under
    "| | MLP | | | CNN | | |": one row, two models)."""
    if a.run and b.run:
        return a.run != b.run
    return bool(a.subject and b.subject) and a.subject.lower() != b.subject.lower()
