"""Score `reportgen grade` against the held-out reports and their hand-written expectations.

    python -m tests.heldout.agreement                 # one row per report, then totals
    python -m tests.heldout.agreement -v              # also every disagreement, report by report
    python -m tests.heldout.agreement -v NAME ...     # only these reports (file names, or a part of one)
    python -m tests.heldout.agreement --fresh         # the fresh set in fresh/ (never tuned on; see its README)
    python -m tests.heldout.agreement --dev2          # the second development set in dev2/ (see its README)
    python -m tests.heldout.agreement --dev3          # the third development set in dev3/ (see its README)

Each ``expected/<report>.json`` says what a careful TA reads in ``reports/<report>``: the status of every marked
question, every metric value stated (claims) and the flags that must or must not be raised. See README.md here for
the format and for how agreement is computed. :func:`evaluate` returns the rows and totals for tests;
``evaluate(folder=FRESH)`` (or ``--fresh``) scores the second set in ``fresh/``, laid out the same way, and
``evaluate(folder=DEV2)`` (or ``--dev2``) the second development set in ``dev2/`` and ``evaluate(folder=DEV3)``
(or ``--dev3``) the third in ``dev3/``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REPORTS = HERE / "reports"
EXPECTED = HERE / "expected"
FRESH = HERE / "fresh"  # a second set with its own reports/ and expected/: for checking, never for tuning
DEV2 = HERE / "dev2"  # a second development set, laid out the same way (no thresholds)
DEV3 = HERE / "dev3"  # a third development set, laid out the same way (no thresholds)

STATUSES = ("answered", "unclear", "missing")
METRICS = ("accuracy", "recall", "precision", "f1", "auc", "loss")
BOUNDED = ("accuracy", "recall", "precision", "f1", "auc")
SPLITS = ("test", "val", "train", "")
FLAG_CODES = ("MISSING_QUESTION", "ACCURACY_MISMATCH", "RECALL_EQUALS_ACCURACY", "TEST_SIZE_MISMATCH",
              "ZERO_RECALL_CLASS", "IMPOSSIBLE_VALUE", "VAL_TEST_GAP", "DUPLICATE_RESULTS", "VS_REFERENCE",
              "INCONSISTENT_REPEAT", "MISSING_EXPLANATION", "CONFLICT_MARKERS")
LINED_SUFFIXES = (".md", ".txt")  # formats whose expected claims may give a line (the file's own lines)
VALUE_TOLERANCE = 1e-6
_LINE = re.compile(r"\bline (\d+)\b")


@dataclass
class Row:
    """How the grader fared on one report."""

    report: str
    questions_agreed: int = 0
    questions_total: int = 0
    claims_expected: int = 0
    claims_extracted: int = 0
    claims_matched: int = 0
    flags_agreed: int = 0
    flags_total: int = 0
    seconds: float = 0.0
    error: str = ""  # the report could not be graded (all its questions, claims and flags count as disagreements)
    disagreements: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.claims_matched / self.claims_expected if self.claims_expected else 1.0

    @property
    def precision(self) -> float:
        return self.claims_matched / self.claims_extracted if self.claims_extracted else (0.0 if self.error else 1.0)

    def to_json(self) -> dict:
        return {"report": self.report, "questions_agreed": self.questions_agreed,
                "questions_total": self.questions_total, "claims_expected": self.claims_expected,
                "claims_extracted": self.claims_extracted, "claims_matched": self.claims_matched,
                "claims_recall": self.recall, "claims_precision": self.precision, "flags_agreed": self.flags_agreed,
                "flags_total": self.flags_total, "seconds": self.seconds, "error": self.error,
                "disagreements": list(self.disagreements)}


def expected_files(folder: Path | None = None) -> list[Path]:
    """The expectations of the default set, or of ``folder`` (which holds ``expected/`` and ``reports/``)."""
    return sorted((folder / "expected" if folder else EXPECTED).glob("*.json"))


def load_expected(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def report_path(expected_path: Path, folder: Path | None = None) -> Path:
    """``expected/NAME.json`` describes ``reports/NAME`` (of the default set, or of ``folder``)."""
    return (folder / "reports" if folder else REPORTS) / expected_path.name.removesuffix(".json")


# --- comparing --------------------------------------------------------------------------------------------------
def question_status(question: dict) -> str:
    """The grader's status of one question (older output has only ``answered``)."""
    status = question.get("status")
    if status in STATUSES:
        return status
    return "answered" if question.get("answered") else "missing"


def line_of(location: str) -> int | None:
    """The line a location string names ("line 12", "p. 2, line 12", "line 3 of hw2.ipynb"), if any."""
    match = _LINE.search(location or "")
    return int(match.group(1)) if match else None


def claim_matches(expected: dict, found: dict) -> bool:
    """Whether an extracted claim (``Claim.to_json()``) is the expected one."""
    if found.get("metric") != expected["metric"]:
        return False
    try:
        value = float(found.get("value"))
    except (TypeError, ValueError):
        return False
    if not math.isfinite(value) or abs(value - float(expected["value"])) > VALUE_TOLERANCE:
        return False
    if expected.get("run") and found.get("run") != expected["run"]:
        return False
    if expected.get("split") and found.get("split") != expected["split"]:
        return False
    if bool(found.get("approximate", False)) != bool(expected.get("approximate", False)):
        return False
    if expected.get("line") is not None and line_of(str(found.get("location", ""))) != expected["line"]:
        return False
    return True


def match_claims(expected: list[dict], found: list[dict]) -> list[tuple[int, int]]:
    """A largest one-to-one matching of expected to extracted claims (augmenting paths; the lists are short).
    Returns (expected index, extracted index) pairs."""
    candidates = [[j for j, f in enumerate(found) if claim_matches(e, f)] for e in expected]
    owner: dict[int, int] = {}  # extracted index -> expected index

    def assign(i: int, seen: set[int]) -> bool:
        for j in candidates[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        assign(i, set())
    return sorted((i, j) for j, i in owner.items())


def describe(claim: dict) -> str:
    bits = [claim.get("metric", "?"), str(claim.get("value"))]
    if claim.get("run"):
        bits.append(f"run={claim['run']}")
    if claim.get("split"):
        bits.append(f"split={claim['split']}")
    if claim.get("approximate"):
        bits.append("approx")
    where = claim.get("location") or (f"line {claim['line']}" if claim.get("line") is not None else "")
    if where:
        bits.append(f"@ {where}")
    return " ".join(bits)


def compare(expected: dict, graded: dict, row: Row) -> None:
    """Fill ``row`` from one report's expectations and the grader's ``Grade.to_json()``."""
    statuses = {q.get("id"): question_status(q) for q in graded.get("questions", [])}
    for qid, want in expected["questions"].items():
        got = statuses.get(qid, "missing")
        row.questions_total += 1
        if got == want:
            row.questions_agreed += 1
        else:
            row.disagreements.append(f"question {qid}: expected {want}, graded {got}")

    want_claims, found = expected["claims"], list(graded.get("claims", []))
    pairs = match_claims(want_claims, found)
    row.claims_expected, row.claims_extracted, row.claims_matched = len(want_claims), len(found), len(pairs)
    matched_expected = {i for i, _ in pairs}
    matched_found = {j for _, j in pairs}
    for i, claim in enumerate(want_claims):
        if i not in matched_expected:
            near = [describe(f) for f in found if f.get("metric") == claim["metric"]
                    and _close(f.get("value"), claim["value"])]
            hint = f" (extracted as: {'; '.join(near)})" if near else ""
            row.disagreements.append(f"claim not found: {describe(claim)}{hint}")
    for j, claim in enumerate(found):
        if j not in matched_found:
            row.disagreements.append(f"claim not expected: {describe(claim)}")

    codes = {f.get("code") for f in graded.get("flags", [])}
    for code in expected["flags"].get("present", []):
        row.flags_total += 1
        if code in codes:
            row.flags_agreed += 1
        else:
            row.disagreements.append(f"flag {code}: expected, not raised")
    for code in expected["flags"].get("absent", []):
        row.flags_total += 1
        if code not in codes:
            row.flags_agreed += 1
        else:
            row.disagreements.append(f"flag {code}: raised, expected absent")


def _close(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) <= VALUE_TOLERANCE
    except (TypeError, ValueError):
        return False


def error_row(name: str, expected: dict, error: str) -> Row:
    """A report the grader could not grade: every expectation counts as a disagreement."""
    flags = expected["flags"]
    return Row(report=name, questions_total=len(expected["questions"]), claims_expected=len(expected["claims"]),
               flags_total=len(flags.get("present", [])) + len(flags.get("absent", [])), error=error,
               disagreements=[f"not graded: {error}"])


# --- running ----------------------------------------------------------------------------------------------------
def grade_one(expected_path: Path, manifests: dict, folder: Path | None = None) -> Row:
    from reportgen.config.manifest import load_manifest
    from reportgen.grade.grader import grade_report

    expected = load_expected(expected_path)
    path = report_path(expected_path, folder)
    name = path.name
    try:
        key = expected["manifest"]
        if key not in manifests:
            manifests[key] = load_manifest(ROOT / key)
        start = time.perf_counter()
        grade = grade_report(path, manifests[key])
        seconds = time.perf_counter() - start
        graded = grade.to_json()
    except Exception as err:  # noqa: BLE001 - a report the grader cannot read yet is a row, not a crash
        return error_row(name, expected, f"{type(err).__name__}: {err}".splitlines()[0][:200])
    row = Row(report=name, seconds=seconds)
    compare(expected, graded, row)
    return row


def select(names: list[str] | None, folder: Path | None = None) -> list[Path]:
    paths = expected_files(folder)
    if not names:
        return paths
    return [p for p in paths if any(n in p.name for n in names)]


def totals(rows: list[Row]) -> dict:
    q_total = sum(r.questions_total for r in rows)
    expected = sum(r.claims_expected for r in rows)
    extracted = sum(r.claims_extracted for r in rows)
    matched = sum(r.claims_matched for r in rows)
    f_total = sum(r.flags_total for r in rows)
    return {
        "reports": len(rows),
        "errors": sum(bool(r.error) for r in rows),
        "questions_agreed": sum(r.questions_agreed for r in rows), "questions_total": q_total,
        "questions_agreement": sum(r.questions_agreed for r in rows) / q_total if q_total else 1.0,
        "claims_expected": expected, "claims_extracted": extracted, "claims_matched": matched,
        "claims_recall": matched / expected if expected else 1.0,
        "claims_precision": matched / extracted if extracted else 0.0,
        "flags_agreed": sum(r.flags_agreed for r in rows), "flags_total": f_total,
        "flags_agreement": sum(r.flags_agreed for r in rows) / f_total if f_total else 1.0,
        "max_seconds": max((r.seconds for r in rows), default=0.0),
        "total_seconds": sum(r.seconds for r in rows),
    }


def evaluate(names: list[str] | None = None, folder: Path | None = None) -> dict:
    """Grade every held-out report (or those whose file name contains one of ``names``) and compare; ``folder``
    (e.g. ``FRESH``) grades that set instead of the default one. Returns ``{"rows": [Row.to_json(), ...],
    "totals": {...}}``."""
    manifests: dict = {}
    rows = [grade_one(p, manifests, folder) for p in select(names, folder)]
    return {"rows": [r.to_json() for r in rows], "totals": totals(rows)}


def table(result: dict, details: bool = False) -> str:
    """The rows and totals as a fixed-width text table (and, with ``details``, every disagreement)."""
    rows, tot = result["rows"], result["totals"]
    width = max([len(r["report"]) for r in rows] + [len("report")])
    head = f"{'report':<{width}}  {'questions':>9}  {'claims R':>8}  {'claims P':>8}  {'flags':>7}  {'seconds':>7}"
    out = [head, "-" * len(head)]
    for r in rows:
        line = (f"{r['report']:<{width}}  {r['questions_agreed']:>4}/{r['questions_total']:<4}  "
                f"{r['claims_recall']:>8.2f}  {r['claims_precision']:>8.2f}  "
                f"{r['flags_agreed']:>3}/{r['flags_total']:<3}  {r['seconds']:>7.2f}")
        if r["error"]:
            line += f"  ERROR {r['error']}"
        out.append(line)
    out.append("-" * len(head))
    out.append(f"{'total':<{width}}  {tot['questions_agreed']:>4}/{tot['questions_total']:<4}  "
               f"{tot['claims_recall']:>8.2f}  {tot['claims_precision']:>8.2f}  "
               f"{tot['flags_agreed']:>3}/{tot['flags_total']:<3}  {tot['max_seconds']:>7.2f}")
    out.append(f"questions agreement {tot['questions_agreement']:.3f} · claims recall {tot['claims_recall']:.3f} "
               f"({tot['claims_matched']}/{tot['claims_expected']}) · claims precision {tot['claims_precision']:.3f} "
               f"({tot['claims_matched']}/{tot['claims_extracted']}) · flags agreement {tot['flags_agreement']:.3f} · "
               f"slowest {tot['max_seconds']:.2f} s · {tot['errors']} of {tot['reports']} reports not graded")
    if details:
        for r in rows:
            if r["disagreements"]:
                out.append("")
                out.append(f"== {r['report']}")
                out.extend(f"   {d}" for d in r["disagreements"])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.heldout.agreement", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only reports whose file name contains one of these")
    parser.add_argument("-v", "--details", action="store_true", help="list every disagreement")
    parser.add_argument("--json", metavar="PATH", help="also write the rows and totals as JSON")
    sets = parser.add_mutually_exclusive_group()
    sets.add_argument("--fresh", action="store_true",
                      help="score the fresh set in fresh/ instead (for checking only, never for tuning)")
    sets.add_argument("--dev2", action="store_true", help="score the second development set in dev2/ instead")
    sets.add_argument("--dev3", action="store_true", help="score the third development set in dev3/ instead")
    args = parser.parse_args(argv)
    folder = FRESH if args.fresh else DEV2 if args.dev2 else DEV3 if args.dev3 else None
    result = evaluate(args.names or None, folder=folder)
    print(table(result, details=args.details))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
