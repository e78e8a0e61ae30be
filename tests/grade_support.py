"""Small inputs for the grading tests: a Document from text, a course manifest with a [grading] table, and a
results.json to grade against. Nothing here trains or reads real data."""

from __future__ import annotations

import json
from pathlib import Path

from reportgen.grade.grader import grade_document
from reportgen.grade.model import Document, Flag, Grade, Line
from reportgen.grade.reference import Reference, load_reference
from reportgen.manifest import load_manifest
from reportgen.specs import Manifest

# Two runs and three questions; the course tests on 100 images of 3 classes, unbalanced.
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


def doc(text: str, fmt: str = "markdown") -> Document:
    """A report whose lines are ``text``'s lines, numbered from 1."""
    return Document("r.md", fmt, [Line(t, i + 1) for i, t in enumerate(text.splitlines())])


def course(tmp_path: Path, grading: str = GRADING, sections: str = "") -> Manifest:
    """The course manifest with ``grading`` as its [grading] table(s) and ``sections`` appended to its sections."""
    path = tmp_path / "course.toml"
    path.write_text(COURSE + sections + grading, encoding="utf-8")
    return load_manifest(path)


def reference(tmp_path: Path, rows: list[dict]) -> Reference:
    """A reproduction whose compare section shows ``rows`` (each with run, label and metric summaries)."""
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"sections": {"compare": {"result": {"rows": rows}}}}), encoding="utf-8")
    return load_reference(path)


def grade(text: str, manifest: Manifest, ref: Reference | None = None, fmt: str = "markdown") -> Grade:
    return grade_document(doc(text, fmt), manifest, reference=ref)


def flags(g: Grade, code: str) -> list[Flag]:
    return [f for f in g.flags if f.code == code]


def matrix_lines(cells: list[list[int]]) -> str:
    return "\n".join(" ".join(f"{v:3d}" for v in row) for row in cells)
