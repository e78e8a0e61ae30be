"""Many generated manifests — wrong types, missing keys, unknown names, absurd values, unicode and path-like ids —
each give a valid plan or one located ReportgenError: never a traceback, never a file written."""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.config.errors import ReportgenError
from reportgen.config.manifest import load_manifest
from reportgen.runs.plan import make_plan
from tests.conftest import TINY_MANIFEST

BASE = tomllib.loads(TINY_MANIFEST)

# --- a small TOML writer (the project reads TOML with tomllib; nothing in the standard library writes it) -----


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_scalar(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def dumps(doc: dict, prefix: tuple[str, ...] = ()) -> str:
    lines = []
    tables = {k: v for k, v in doc.items() if isinstance(v, dict) and len(prefix) < 2}
    for key, value in doc.items():
        if key not in tables:
            lines.append(f"{json.dumps(key)} = {_scalar(value)}")
    for key, value in tables.items():
        lines.append("\n[" + ".".join(json.dumps(k) for k in (*prefix, key)) + "]")
        lines.append(dumps(value, (*prefix, key)))
    return "\n".join(lines)


def test_the_writer_round_trips_the_tiny_manifest():
    assert tomllib.loads(dumps(BASE)) == BASE


# --- hostile values and edits ----------------------------------------------------------------------------------

IDS = st.sampled_from(["conv", "mobilenet", "compare", "digits", "../../x", "a/b", "..", "ünïcödé", "", " ", "x" * 80,
                       "CON", "sections", "1abc", "ok_id", "a.b", "🙂"])
SCALARS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.sampled_from([-1, 0, 1, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.3, -0.5, 1e308, 0.0]),
    st.booleans(), st.text(max_size=12), IDS,
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(IDS, inner, max_size=3)), max_leaves=8)


def _paths(doc: dict, prefix=()):
    for key, value in doc.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))


ALL_PATHS = list(_paths(BASE))
EDITS = st.lists(st.tuples(st.sampled_from(["set", "delete", "rename", "add"]), st.sampled_from(ALL_PATHS), VALUES,
                           IDS), min_size=1, max_size=4)


def apply(doc: dict, edits) -> dict:
    doc = copy.deepcopy(doc)
    for action, path, value, name in edits:
        parent = doc
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
            if not isinstance(parent, dict):
                break
        if not isinstance(parent, dict) or path[-1] not in parent:
            continue
        if action == "set":
            parent[path[-1]] = value
        elif action == "delete":
            del parent[path[-1]]
        elif action == "rename" and name not in parent:
            parent[name] = parent.pop(path[-1])
        elif action == "add":
            target = parent[path[-1]]
            if isinstance(target, dict):
                target[name] = value
    return doc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(edits=EDITS)
def test_a_mangled_manifest_gives_a_plan_or_one_located_error(tmp_path: Path, edits):
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    manifest = folder / "experiments.toml"
    try:
        text = dumps(apply(BASE, edits))
        tomllib.loads(text)
    except (TypeError, tomllib.TOMLDecodeError, ValueError):
        return  # not expressible in TOML by this writer: nothing to test
    manifest.write_text(text, encoding="utf-8")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    try:
        plan = make_plan(load_manifest(manifest))
    except ReportgenError as err:
        message = str(err)
        assert message.startswith(str(manifest)) or message.startswith("experiments.toml"), message
        assert "\n" not in message and "Traceback" not in message
    else:
        assert plan.sections and plan.runs
        assert all(p.key and len(p.key) == 20 for p in plan.runs)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "nothing may be written"


@pytest.mark.parametrize(("path", "value", "where"), [
    (("runs", "conv", "epochs"), -1, "runs.conv.epochs"),
    (("runs", "conv", "batch_size"), 0, "runs.conv.batch_size"),
    (("datasets", "digits", "split"), [0.6, 0.4, 0.3], "datasets.digits.split"),
    (("runs", "conv", "dataset"), "imagenet", "runs.conv.dataset"),
    (("runs", "conv", "lr"), 1e308, "runs.conv.lr"),
    (("report", "seeds"), [0, 0], "report.seeds"),
])
def test_the_absurd_values_the_issue_names_are_located(tmp_path, path, value, where):
    doc = copy.deepcopy(BASE)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    manifest = tmp_path / "experiments.toml"
    manifest.write_text(dumps(doc))
    with pytest.raises(ReportgenError) as info:
        make_plan(load_manifest(manifest))
    assert f": {where}" in str(info.value)


@pytest.mark.parametrize("bad_id", ["../../x", "a/b", "..", "ünïcödé", "CON.json", ""])
def test_path_like_and_unicode_ids_are_refused_before_anything_is_written(tmp_path, bad_id):
    doc = copy.deepcopy(BASE)
    doc["sections"][bad_id] = doc["sections"].pop("confusion")
    manifest = tmp_path / "experiments.toml"
    manifest.write_text(dumps(doc))
    with pytest.raises(ReportgenError, match="a name must start with a letter"):
        load_manifest(manifest)
