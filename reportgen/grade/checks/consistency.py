"""Checks that compare claims with each other: validation against test accuracy of one model, and the same
unusual numbers reported for configurations that differ."""

from __future__ import annotations

from collections import defaultdict

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.checks.identity import identity
from reportgen.grade.model import Claim, Flag
from reportgen.grade.settings import conflicts
from reportgen.grade.words import significant_digits

PAIR_LINES = 6
PAIR_COLUMNS = 20  # side-by-side columns of a two-column PDF layout are further apart than this


@check("VAL_TEST_GAP", "Validation accuracy far above test accuracy for the same model ([grading] val_test_gap): "
                       "the test data may be prepared differently, or the model chosen on the test set.")
def val_test_gap(f: Findings) -> list[Flag]:
    accuracies = [c for c in f.claims if c.metric == "accuracy"]
    vals = [c for c in accuracies if c.split == "val"]
    by_block: dict[int, list[tuple[Claim, Claim]]] = defaultdict(list)
    for test in (c for c in accuracies if c.split == "test"):
        candidates = [v for v in vals if abs(v.location.line - test.location.line) <= PAIR_LINES
                      and f.same_block(v.location.line, test.location.line)
                      and (v.location.line == test.location.line or abs(v.column - test.column) <= PAIR_COLUMNS)]
        if not candidates:
            continue
        val = min(candidates, key=lambda v: (abs(v.location.line - test.location.line), abs(v.column - test.column)))
        heading = f.context.heading(f.doc.lines[test.location.line - 1])
        by_block[heading.line.number if heading else 0].append((val, test))
    flags = []
    limit = f.grading.val_test_gap
    for pairs in by_block.values():
        # Rounding and hedges are given the benefit of the doubt: the gap counts from the lowest value the
        # validation claim allows to the highest the test claim allows.
        wide = [(v, t) for v, t in pairs if v.interval[0] - t.interval[1] > limit]
        if not wide:
            continue
        val, test = max(wide, key=lambda p: p[0].value - p[1].value)
        others = f" ({len(wide)} of {len(pairs)} pairs here)" if len(pairs) > 1 else ""
        flags.append(flag("VAL_TEST_GAP", "warning",
                          f"validation accuracy {val.as_written} vs test accuracy {test.as_written}: "
                          f"{100 * (val.value - test.value):.1f} points apart, more than the course's limit of "
                          f"{100 * limit:g}{others}; check that the test data is preprocessed like the training data",
                          f"{val.context} / {test.context}" if val.context != test.context else test.context,
                          test.location.line, str(test.location)))
    return flags


@check("DUPLICATE_RESULTS", "The same unusual number or confusion matrix is reported for configurations that "
                            "differ (copy-paste); the same configuration reported twice is fine.")
def duplicate_results(f: Findings) -> list[Flag]:
    groups: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for claim in f.claims:
        if significant_digits(claim.as_written) >= f.grading.duplicate_min_digits:
            groups[(claim.metric, claim.as_written)].append(claim)
    seen: dict[tuple[int, int], list[str]] = {}
    order: list[tuple[int, int]] = []
    evidence: dict[tuple[int, int], tuple[Claim, Claim, list[str]]] = {}
    for (metric, written), claims in groups.items():
        ids = [identity(c.about, f.grading, f.aliases) for c in claims]
        for i in range(len(claims)):
            for j in range(i + 1, len(claims)):
                differ = conflicts(ids[i], ids[j])
                if not differ:
                    continue
                key = (claims[i].location.line, claims[j].location.line)
                # The rows of one copied block (accuracy, recall, F1) make one finding, not three.
                block_key = (_block(f, claims[i]), _block(f, claims[j]))
                if block_key not in seen:
                    seen[block_key] = []
                    order.append(block_key)
                    evidence[block_key] = (claims[i], claims[j], differ)
                seen[block_key].append(f"{metric} {written}")
                break
            else:
                continue
            break
    flags = []
    for key in order:
        a, b, differ = evidence[key]
        numbers = ", ".join(dict.fromkeys(seen[key]))
        flags.append(flag("DUPLICATE_RESULTS", "warning",
                          f"{numbers} reported both at {a.location} and at {b.location}, for configurations that "
                          f"differ ({'; '.join(differ)}): copied results?",
                          f"{a.about[-160:]} / {b.about[-160:]}", b.location.line, str(b.location)))
    flags.extend(_duplicate_matrices(f))
    return flags


def _block(f: Findings, claim: Claim) -> int:
    heading = f.context.heading(f.doc.lines[claim.location.line - 1])
    return heading.line.number if heading else 0


def _duplicate_matrices(f: Findings) -> list[Flag]:
    flags = []
    for i, a in enumerate(f.matrices):
        for b in f.matrices[i + 1:]:
            if a.cells != b.cells or a.normalized or a.total < 10:
                continue
            differ = conflicts(identity(a.about, f.grading, f.aliases), identity(b.about, f.grading, f.aliases))
            if differ:
                flags.append(flag("DUPLICATE_RESULTS", "warning",
                                  f"the same {a.rows}×{a.cols} confusion matrix at {a.location} and {b.location}, "
                                  f"for configurations that differ ({'; '.join(differ)})",
                                  f"{a.about[-160:]} / {b.about[-160:]}", b.location.line, str(b.location)))
    return flags
