"""End to end: build a real (tiny) report, then open its HTML and PDF and check their structure."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.build import build
from reportgen.config.manifest import load_manifest
from reportgen.training import train as train_module
from tests.conftest import TINY_MANIFEST


class Structure(HTMLParser):
    """Collects section ids, images (with their alt) and whether each image sits in a captioned figure."""

    def __init__(self) -> None:
        super().__init__()
        self.section_ids: list[str] = []
        self.images: list[dict] = []
        self.figures: list[dict] = []
        self._figure: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "id" in attrs:
            self.section_ids.append(attrs["id"])
        elif tag == "figure":
            self._figure = {"images": 0, "caption": False}
        elif tag == "img":
            self.images.append(attrs)
            if self._figure is not None:
                self._figure["images"] += 1
        elif tag == "figcaption" and self._figure is not None:
            self._figure["caption"] = True

    def handle_endtag(self, tag):
        if tag == "figure" and self._figure is not None:
            self.figures.append(self._figure)
            self._figure = None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    manifest = folder / "experiments.toml"
    manifest.write_text(TINY_MANIFEST)
    summary = build(manifest, quiet=True, device="cpu")
    return manifest, summary


def parse(html_path: Path) -> Structure:
    parser = Structure()
    parser.feed(html_path.read_text(encoding="utf-8"))
    return parser


def test_first_build_trains_every_run_once_and_writes_the_outputs(built):
    _, summary = built
    assert summary.trained == 2 and summary.cached == 0 and summary.failed == 0
    out = summary.out
    for name in ("report.html", "report.pdf", "results.json", "sections/compare.json", "sections/confusion.json"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "figures").glob("*.png")) == [
        "compare-curves.png", "confusion-matrix-conv.png", "confusion-matrix-mobilenet.png"
    ]
    assert len([p for p in (out / "cache").iterdir() if not p.name.startswith(".")]) == 2


def test_html_has_every_section_and_every_image_has_alt_text_and_a_caption(built):
    manifest, summary = built
    page = parse(summary.html)
    assert page.section_ids == [*load_manifest(manifest).sections, "provenance"]
    assert len(page.images) == 3
    for img in page.images:
        assert img.get("alt", "").strip(), img
        assert img["src"].startswith("data:image/png;base64,")  # self-contained
    assert page.figures and all(f["images"] == 1 and f["caption"] for f in page.figures)
    html = summary.html.read_text()
    assert "Figure 1." in html and "Figure 3." in html
    assert "Compare the two architectures." in html  # the question text


def test_pdf_opens_and_holds_the_headings_and_page_numbers(built):
    _, summary = built
    reader = PdfReader(summary.pdf)
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in ("Tiny report", "Contents", "1. Conv vs MobileNet", "2. Confusion matrices", "Provenance"):
        assert heading in text, heading
    assert f"2 / {len(reader.pages)}" in text  # page numbers from print.css


def test_results_json_holds_every_sections_numbers(built):
    _, summary = built
    results = json.loads(summary.results.read_text())
    assert list(results["sections"]) == ["compare", "confusion"]
    compare = results["sections"]["compare"]
    assert compare["marks"] == 5 and compare["status"] == "ok"
    rows = {row["label"]: row for row in compare["result"]["rows"]}
    assert set(rows) == {"C2", "C1+M1"}
    assert 0 <= rows["C2"]["accuracy"]["mean"] <= 1
    assert rows["C1+M1"]["params"] < rows["C2"]["params"]
    confusion = results["sections"]["confusion"]["result"]["runs"][0]
    assert sum(map(sum, confusion["matrix"])) == 200  # 20 test images per class
    assert results["provenance"]["seeds"] == [0]
    assert len(results["provenance"]["manifest_sha256"]) == 64


def test_second_build_trains_nothing(built, monkeypatch):
    manifest, _ = built
    calls = []
    monkeypatch.setattr(train_module, "train", lambda *a, **k: calls.append(a) or pytest.fail("retrained"))
    summary = build(manifest, quiet=True, device="cpu")
    assert calls == [] and summary.trained == 0 and summary.cached == 2
    assert summary.sections_built == []  # nothing changed, so the stored section results are reused


def test_section_rebuilds_that_section_only_and_keeps_the_others(built, monkeypatch):
    manifest, summary = built
    monkeypatch.setattr(train_module, "train", lambda *a, **k: pytest.fail("retrained"))
    compare_json = summary.out / "sections" / "compare.json"
    before = compare_json.read_bytes()
    stamp = compare_json.stat().st_mtime_ns
    again = build(manifest, sections=["confusion"], quiet=True, device="cpu", pdf=False)
    assert again.sections_built == ["confusion"]
    assert compare_json.stat().st_mtime_ns == stamp and compare_json.read_bytes() == before
    page = parse(again.html)
    assert page.section_ids == ["compare", "confusion", "provenance"]
    assert len(page.images) == 3


def test_a_changed_section_that_was_not_rebuilt_is_marked_stale(built, tmp_path):
    manifest, summary = built
    copy = tmp_path / "experiments.toml"
    copy.write_text(manifest.read_text().replace('title = "Conv vs MobileNet"', 'title = "Renamed"'))
    shutil.copytree(summary.out, tmp_path / "out")
    again = build(copy, sections=["confusion"], quiet=True, device="cpu", pdf=False)
    assert "built from an earlier version of the manifest" in again.html.read_text()


def test_manifest_template_folder_overrides_a_builtin_template(write_manifest, tmp_path):
    templates = tmp_path / "mytemplates" / "sections"
    templates.mkdir(parents=True)
    (templates / "confusion.html.j2").write_text("<p>course-specific confusion: {{ s.result.runs|length }} runs</p>")
    text = TINY_MANIFEST.replace('seeds = [0]', 'seeds = [0]\ntemplates = "mytemplates"')
    summary = build(write_manifest(text), quiet=True, device="cpu", pdf=False)
    html = summary.html.read_text()
    assert "course-specific confusion: 2 runs" in html
    assert 'id="compare"' in html  # the built-in templates still serve the rest


def test_a_failing_run_is_reported_and_the_build_finishes(write_manifest, monkeypatch):
    real_train = train_module.train

    def flaky(planned, *args, **kwargs):
        if planned.run.name == "mobilenet":
            raise RuntimeError("out of memory (simulated)")
        return real_train(planned, *args, **kwargs)

    monkeypatch.setattr(train_module, "train", flaky)
    summary = build(write_manifest(), quiet=True, device="cpu", pdf=False)
    assert summary.failed == 1 and summary.trained == 1
    html = summary.html.read_text()
    assert "out of memory (simulated)" in html
    results = json.loads(summary.results.read_text())
    statuses = {r["run"]: r["status"] for r in results["sections"]["compare"]["runs"].values()}
    assert statuses == {"conv": "ok", "mobilenet": "failed"}
    # The failure is not cached: the next build tries the run again.
    monkeypatch.setattr(train_module, "train", real_train)
    assert build(write_manifest(), quiet=True, device="cpu", pdf=False).trained == 1
