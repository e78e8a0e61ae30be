"""What configuration a claim is about: the run the course's aliases name, the test set its keywords name, and the
hyperparameters and numbered labels ("Task 2", "Variation 3") its headings and caption state."""

from __future__ import annotations

import re

from reportgen.grade.rubric import GradingSpec
from reportgen.grade.settings import settings_in


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def parts(about: str) -> list[str]:
    """The pieces of an ``about`` string, most specific first (row label, caption, innermost heading, ...)."""
    pieces = [p for chunk in about.split(" | ") for p in chunk.split(" > ")]
    return [p for p in reversed(pieces) if p.strip()]


def run_named(about: str, aliases: dict[str, list[str]]) -> str | None:
    """The run the most specific piece of ``about`` names, when exactly one is named there."""
    for piece in parts(about):
        text = _norm(piece)
        spans: list[tuple[int, int, str]] = []
        for run, phrases in aliases.items():
            for phrase in phrases:
                p = _norm(phrase)
                for m in re.finditer(rf"(?<![\w+]){re.escape(p)}(?![\w+])", text) if p else ():
                    spans.append((m.start(), m.end(), run))
        # A phrase inside a longer one names nothing by itself ("mobilenet block" in "1 convolution block and
        # 3 mobilenet blocks"); two runs named side by side ("C4 beats C1+M3") name no single run.
        outer = {run for s, e, run in spans if not any(s2 <= s and e <= e2 and (s2, e2) != (s, e)
                                                        for s2, e2, _ in spans)}
        if outer:
            return outer.pop() if len(outer) == 1 else None
    return None


def test_set_named(about: str, grading: GradingSpec) -> str | None:
    for piece in parts(about):
        text = piece.lower()
        named = [t.name for t in grading.test_sets.values() if any(k.lower() in text for k in t.keywords)]
        if len(named) == 1:
            return named[0]
    return None


def identity(about: str, grading: GradingSpec, aliases: dict[str, list[str]]) -> dict:
    """Everything ``about`` says about the configuration: settings, labels, run and test set."""
    found = dict(settings_in(about))
    run = run_named(about, aliases)
    if run is not None:
        found["run"] = run
    test_set = test_set_named(about, grading)
    if test_set is not None:
        found["test set"] = test_set
    return found
