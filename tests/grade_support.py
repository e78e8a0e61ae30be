"""Small inputs for the grading tests: a Document from text, a course manifest with a [grading] table, and a
results.json to grade against. Nothing here trains or reads real data."""

from __future__ import annotations

import json
from pathlib import Path

from reportgen.config.manifest import load_manifest
from reportgen.config.specs import Manifest
from reportgen.grade.conflicts import resolve as resolve_conflicts
from reportgen.grade.grader import grade_document
from reportgen.grade.model import Document, Flag, Grade, Line, Location
from reportgen.grade.reference import Reference, load_reference

# Two runs (C4 trained 8 epochs, C1+M3) and three questions with marks; the course tests on 100 images of 3 classes.
COURSE = """\
[report]
title = "Graded course"
course = "Test course"
author = "pytest"
seeds = [0]

[datasets.d]
kind = "mnist5k"

[runs.c4]
label = "C4"
dataset = "d"
model = { arch = "conv_mobilenet", conv_blocks = 2, mobilenet_blocks = 0, channels = 8 }
epochs = 8
lr = 0.003
batch_size = 64

[runs.c1m3]
extends = "c4"
label = "C1+M3"
model = { conv_blocks = 1, mobilenet_blocks = 1 }

[sections.compare]
type = "compare"
number = "1"
title = "Conv blocks vs MobileNet blocks"
question = "Compare results of simple convolution block based architecture vs MobileNet block based architecture."
marks = 5
runs = ["c4", "c1m3"]

[sections.confusion]
type = "confusion"
number = "2"
title = "Confusion matrices, recall and accuracy"
question = "Report confusion matrices, recall, and accuracy for the testing set."
marks = 4
runs = ["c4", "c1m3"]

[sections.predictions]
type = "predictions"
number = "3"
title = "Correct and wrong predictions"
question = "Show figures along with labels for correct predictions and wrong ones."
marks = 2
runs = ["c4"]
"""

# A fourth section that carries no marks (the course grades it by hand, or not at all).
CONCLUSIONS = """
[sections.conclusions]
type = "conclusions"
number = "4"
title = "Conclusions"
question = "Report what you learned from this assignment and your analysis."
marks = 0
"""

GRADING = """
[grading]
test_size = 100
classes = 3
"""

ALIASES = """
[grading.aliases]
c4 = ["convolution block architecture", "without mobilenet"]
c1m3 = ["mobilenet block architecture", "with mobilenet"]
"""

# The reproduction: C4 at 95.0 % ± 0.2 %, C1+M3 at 93.0 % ± 1.0 %, three seeds each.
REFERENCE_ROWS = [
    {"run": "c4", "label": "C4", "accuracy": {"mean": 0.95, "std": 0.002, "n": 3, "values": [0.948, 0.95, 0.952]}},
    {"run": "c1m3", "label": "C1+M3", "accuracy": {"mean": 0.93, "std": 0.01, "n": 3, "values": [0.92, 0.93, 0.94]}},
]


def doc(text: str, fmt: str = "markdown") -> Document:
    """A report whose lines are ``text``'s lines, numbered from 1; merge-conflict blocks resolved as reading does."""
    texts, starts = resolve_conflicts(text.splitlines())
    return Document("r.md", fmt, [Line(t, i + 1) for i, t in enumerate(texts)],
                    conflicts=[Location(i + 1) for i in starts])


def course(tmp_path: Path, grading: str = GRADING + ALIASES, sections: str = "") -> Manifest:
    """The course manifest with ``grading`` as its [grading] table(s) and ``sections`` appended to its sections."""
    path = tmp_path / "course.toml"
    path.write_text(COURSE + sections + grading, encoding="utf-8")
    return load_manifest(path)


def reference(tmp_path: Path, rows: list[dict] = REFERENCE_ROWS) -> Reference:
    """A reproduction whose compare section shows ``rows`` (each with run, label and metric summaries)."""
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"sections": {"compare": {"result": {"rows": rows}}}}), encoding="utf-8")
    return load_reference(path)


def grade(text: str, manifest: Manifest, ref: Reference | None = None, fmt: str = "markdown") -> Grade:
    return grade_document(doc(text, fmt), manifest, reference=ref)


def flags_of(g: Grade, code: str) -> list[Flag]:
    return [f for f in g.flags if f.code == code]


def question(g: Grade, qid: str):
    return next(q for q in g.questions if q.id == qid)


# scikit-learn's classification_report as printed (3 classes, 3,147 test images, accuracy 0.9731)
CLASSIFICATION_REPORT = """\
              precision    recall  f1-score   support

           0       0.98      0.99      0.98       980
           1       0.97      0.96      0.97      1135
           2       0.95      0.94      0.95      1032

    accuracy                           0.9731      3147
   macro avg       0.97      0.96      0.97      3147
weighted avg       0.97      0.97      0.97      3147"""

# [grading] test sets told apart by keyword and class count: 100 digit images (3 classes), 40 line images (4)
TWO_TEST_SETS = """
[grading.test_sets.digits]
size = 100
classes = 3
keywords = ["digit"]
[grading.test_sets.lines]
size = 40
classes = 4
keywords = ["line"]
"""
