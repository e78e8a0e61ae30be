"""``architecture``: each run's model as a layer table and a diagram, generated from the model itself (ITU A2
item 11: "the architectures of both tasks ... and the reasoning for them").

The model is built from the run's spec (no weights needed); ``model_summary`` gives every leaf layer's output
shape (batch dimension dropped) and parameters, plus multiply-adds by the ``count_macs`` convention. Long models
are grouped into blocks by name prefix (``blocks.0.conv`` → ``blocks.0``). The text says where the parameters
and multiply-adds are, how far the input is downsampled, the last spatial map's theoretical receptive field,
and how the runs compare in size and cost. Nothing here depends on the seed, so nothing is summarised over seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.text import count, pct, ratio

MAX_BOXES = 25  # a diagram with more boxes than this groups layers into blocks ("auto")
MAX_ROWS = 40  # a table with more rows than this groups layers into blocks ("auto")
SHORT, CONTAINERS = {"BatchNorm1d": "BN", "BatchNorm2d": "BN"}, ("Sequential", "ModuleList", "ModuleDict")
WEIGHTED = ("conv", "linear")  # layer kinds with weights
NEXT = {"AdaptiveAvgPool2d": "global average pooling", "AdaptiveMaxPool2d": "global max pooling",
        "Flatten": "flattening"}


def _first(v) -> int:
    """A kernel size or stride as one number (``3`` for ``(3, 3)``)."""
    return v if isinstance(v, int) else v[0]


def shape_text(shape: list[int] | None) -> str:
    """``[32, 14, 14] -> "32×14×14"``; a layer the forward pass never reached -> "–"."""
    return "–" if not shape else "×".join(str(s) for s in shape)


def block_of(name: str) -> str:
    """The block a leaf belongs to: its name up to the last numeric part before the leaf's own name
    (``blocks.0.conv`` → ``blocks.0``, ``stages.1.blocks.2.act`` → ``stages.1.blocks.2``, ``head`` → ``head``)."""
    parts = name.split(".")
    numeric = [i for i, p in enumerate(parts[:-1]) if p.isdigit()]
    return ".".join(parts[: numeric[-1] + 1]) if numeric else name


def group_blocks(model, layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive layers of one block (by name prefix) as one row; if that still leaves more than
    ``MAX_BOXES`` rows (a flat ``Sequential`` of leaves), a block starts at every layer with weights instead."""
    runs = [list(g) for _, g in groupby(layers, key=lambda r: block_of(r["name"]))]
    by_prefix = len(runs) <= MAX_BOXES
    if not by_prefix:
        runs = []
        for row in layers:
            if not runs or (row["kind"] in WEIGHTED and any(r["kind"] in WEIGHTED for r in runs[-1])):
                runs.append([])
            runs[-1].append(row)
    blocks = []
    for rows in runs:
        first, last = rows[0]["name"], rows[-1]["name"]
        name = first if len(rows) == 1 else block_of(first) if by_prefix else f"{first}–{last.split('.')[-1]}"
        module = model.get_submodule(name) if len(rows) > 1 and by_prefix else None
        if module is not None and type(module).__name__ not in CONTAINERS:
            label = type(module).__name__  # a named block class says more than its parts ("MobileNetBlock")
        else:
            label = "+".join(SHORT.get(r["type"], r["type"]) for r in rows[:4]) + ("+…" if len(rows) > 4 else "")
        weighted = [r for r in rows if r["kind"] in WEIGHTED]
        blocks.append({
            "name": name, "type": label, "shape": next((r["shape"] for r in reversed(rows) if r["shape"]), None),
            **{k: sum(r[k] for r in rows) for k in ("params", "macs", "share")},
            "layers": len(rows), "kind": weighted[0]["kind"] if weighted else rows[0]["kind"],
            "detail": "; ".join(r["detail"] for r in weighted if r["detail"]),
            "tag": weighted[0]["tag"] if weighted else "",
        })
    return blocks


def layer_info(module, shape: list[int] | None) -> dict[str, Any]:
    """What the table and diagram show of a leaf layer besides its name, type, shape and parameters: ``kind``
    (its colour class), ``detail`` ("3×3, stride 2, depthwise"), ``tag`` ("3×3 s2 dw", for the diagram) and
    ``macs`` on one image, by the convention of ``count_macs`` (convolutions and linear layers only)."""
    from torch import nn

    name = type(module).__name__
    out = math.prod(shape) if shape else 0
    info = {"kind": "other", "detail": "", "tag": "", "macs": 0}
    if isinstance(module, nn.Linear):
        return {**info, "kind": "linear", "detail": f"{module.in_features} → {module.out_features}",
                "macs": out * module.in_features}
    if isinstance(module, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
        k, s = module.kernel_size, _first(module.stride)
        k = f"{k}×{k}" if isinstance(k, int) else "×".join(map(str, k))
        long, short = [k, *([f"stride {s}"] if s > 1 else [])], [k, *([f"s{s}"] if s > 1 else [])]
        info.update(kind="pool")
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            info.update(kind="conv", macs=out * (module.in_channels // module.groups) * kh * kw)
            if module.groups > 1:
                dw = module.groups == module.in_channels
                long.append("depthwise" if dw else f"{module.groups} groups")
                short.append("dw" if dw else f"g{module.groups}")
        return {**info, "detail": ", ".join(long), "tag": " ".join(short)}
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        return {**info, "kind": "pool", "detail": "global" if module.output_size in (1, (1, 1)) else ""}
    if isinstance(module, nn.Dropout):
        return {**info, "detail": f"p = {module.p:g}"}
    kind = ("norm" if "Norm" in name else "pool" if "Pool" in name else "reshape" if name in ("Flatten", "Unflatten")
            else "act" if type(module).__module__.endswith("activation") else "other")
    return {**info, "kind": kind}


def spatial(modules: dict, layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Downsampling and the theoretical receptive field of the last layer with a spatial map larger than 1×1.

    The receptive field grows by ``(k - 1)·dilation·jump`` at each conv/pool layer, where ``jump`` is the
    product of the strides so far (global/adaptive pooling is left out: it sees the whole map by design)."""
    from torch import nn

    maps = [i for i, r in enumerate(layers) if r["shape"] and len(r["shape"]) == 3 and math.prod(r["shape"][1:]) > 1]
    if not maps or not any(r["kind"] == "conv" for r in layers):
        return {"final_map": None, "receptive_field": None, "downsampled_at": [], "next": None}
    last = maps[-1]
    rf, jump, strided = 1, 1, []
    for r in layers[: last + 1]:
        m = modules[r["name"]]
        if isinstance(m, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
            k, s, d = _first(m.kernel_size), _first(m.stride), _first(getattr(m, "dilation", 1))
            rf += (k - 1) * d * jump
            jump *= s
            if s > 1:
                strided.append(r["name"])
    nxt = layers[last + 1] if last + 1 < len(layers) else None
    return {"final_map": layers[last]["shape"][1:], "receptive_field": rf, "downsampled_at": strided,
            "next": nxt["type"] if nxt else None}


def describe_layer(modules: dict, layers: list[dict[str, Any]], i: int, input_shape) -> str:
    """What layer ``i`` does, in words: "3×3 convolution, 32 → 32 channels", "flattening 32×14×14 maps into
    1024 units"."""
    from torch import nn

    m = modules[layers[i]["name"]]
    if isinstance(m, nn.Conv2d):
        kh, kw = m.kernel_size
        what = "depthwise " if m.groups == m.in_channels and m.groups > 1 else ""
        return f"{kh}×{kw} {what}convolution, {m.in_channels} → {m.out_channels} channels"
    if not isinstance(m, nn.Linear):
        return layers[i]["type"]
    source = (list(input_shape) if i == 1 else layers[i - 2]["shape"]) if i and layers[i - 1]["type"] == "Flatten" \
        else None
    if source and len(source) > 1:
        what = f"the {shape_text(source)} input" if i == 1 else f"{shape_text(source)} maps"
        return f"flattening {what} into {m.out_features} units"
    return f"{m.in_features} inputs into {m.out_features} units"


def model_architecture(model, input_shape: tuple[int, int, int], options) -> dict[str, Any]:
    """Layers, blocks, totals and spatial facts of ``model`` on one ``(C, H, W)`` input; ``options`` picks the
    table's and the diagram's level (``"auto"``, ``"layers"``, ``"blocks"``)."""
    from reportgen.models import count_macs, count_params, model_summary

    modules = dict(model.named_modules())
    params, macs = count_params(model), count_macs(model, input_shape)
    layers = []
    for row in model_summary(model, input_shape):
        shape = row["output_shape"][1:] if row["output_shape"] else None
        layers.append({"name": row["name"], "type": row["type"], "shape": shape, "params": int(row["params"]),
                       "share": row["params"] / params if params else 0.0, **layer_info(modules[row["name"]], shape)})
    largest = max(range(len(layers)), key=lambda i: layers[i]["params"])
    busiest = max(layers, key=lambda r: r["macs"])
    parts: dict[str, int] = {}
    for row in layers:  # parameters per top-level module ("blocks", "head")
        parts[row["name"].split(".")[0]] = parts.get(row["name"].split(".")[0], 0) + row["params"]
    levels = {"table": (options.table, MAX_ROWS), "diagram": (options.diagram, MAX_BOXES)}
    chosen = {k: "layers" if v == "layers" or (v == "auto" and len(layers) <= limit) else "blocks"
              for k, (v, limit) in levels.items()}
    return {
        "input_shape": list(input_shape),
        "params": params,
        "macs": macs,
        "layers": layers,
        "blocks": group_blocks(model, layers),
        "table_level": chosen["table"],
        "diagram_level": chosen["diagram"],
        "largest": {**{k: layers[largest][k] for k in ("name", "type", "params", "share")},
                    "what": describe_layer(modules, layers, largest, input_shape)},
        "most_macs": {**{k: busiest[k] for k in ("name", "type", "macs", "shape")},
                      "share": busiest["macs"] / macs if macs else 0.0},
        "parts": [{"name": k, "params": v, "share": v / params if params else 0.0} for k, v in parts.items() if v],
        "weight_layers": {k: sum(r["kind"] == k for r in layers) for k in WEIGHTED},
        "weighted_layers": sum(r["kind"] in WEIGHTED for r in layers),
        **spatial(modules, layers),
    }


def run_architecture(group: RunGroup, options) -> dict[str, Any]:
    """One run's model, built from its spec (weights are not needed), described by :func:`model_architecture`."""
    from reportgen.models import build_model

    entry = {"run": group.name, "label": group.label, "arch": group.spec.arch, "failures": group.failures}
    if group.data is None:
        return {**entry, "layers": None, "note": "The run's dataset is unavailable, so its model cannot be built."}
    shape = tuple(group.data.input_shape)
    model = build_model(group.spec.arch, group.spec.model_options, shape, group.data.num_classes)
    return {**entry, "num_classes": group.data.num_classes, **model_architecture(model, shape, options)}


def describe(e: dict[str, Any]) -> str:
    """A paragraph about one run: size, where the parameters and the multiply-adds are, spatial reasoning."""
    c, h, w = e["input_shape"]
    convs, linears = e["weight_layers"]["conv"], e["weight_layers"]["linear"]
    kinds = ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in
                      ((convs, "convolution"), (linears, "linear layer")) if n)
    text = [f"{e['label']} ({e['arch']}) maps a {c}×{h}×{w} input to {e['num_classes']} classes through "
            f"{len(e['layers'])} layers, {convs + linears} of them with weights ({kinds}): {count(e['params'])} "
            f"parameters and {count(e['macs'])} multiply-adds per image."]
    big = e["largest"]
    where = (f"The largest layer, {big['name']} ({big['what']}), holds {pct(big['share'])} of the "
             f"{count(e['params'])} parameters")
    parts = [p for p in e["parts"] if p["share"] >= 0.0005]  # leave out parts that round to 0.0 %
    if 1 < len(parts) <= 6:
        where += "; by part: " + ", ".join(f"{p['name']} {pct(p['share'])}" for p in parts)
    text.append(where + ".")
    busy = e["most_macs"]
    if busy["macs"]:
        at = f" (output {shape_text(busy['shape'])})" if busy["shape"] else ""
        same = "The same layer" if busy["name"] == big["name"] else f"{busy['name']} ({busy['type']})"
        text.append(f"{same} does the most computation: {pct(busy['share'])} of the multiply-adds{at}.")
    if e["final_map"] is None:
        text.append(f"There are no convolutions: the first layer sees all {c * h * w} input values at once, with no "
                    "built-in notion of neighbouring pixels, and every position needs its own weights.")
    else:
        fh, fw = e["final_map"]
        at = f", at {', '.join(e['downsampled_at'])}" if e["downsampled_at"] else ""
        shrink = (f"downsample the {h}×{w} input to a {fh}×{fw} map ({h / fh:.3g}× per side{at})" if (fh, fw) != (h, w)
                  else f"keep the full {h}×{w} resolution")
        after = f" before {NEXT.get(e['next'], e['next'])}" if e["next"] else ""
        rf = e["receptive_field"]
        cover = "covering the whole input" if rf >= max(h, w) else f"{pct(rf * rf / (h * w), 0)} of the input's area"
        text.append(f"The network's layers {shrink}{after}; each position of that map sees an input window of "
                    f"{rf}×{rf} pixels (its theoretical receptive field), {cover}.")
    return " ".join(text)


def more_or_fewer(a: int, b: int, what: str) -> str:
    """``ratio`` for clear gaps ("5.7× fewer parameters"), a percentage for close ones ("3.4 % more ...")."""
    if a and b and 1 / 1.5 < a / b < 1.5 and abs(a / b - 1) >= 0.005:
        return f"{abs(a / b - 1) * 100:.1f} % {'more' if a > b else 'fewer'} {what}"
    if a and b and max(a / b, b / a) >= 100:  # "1,305× more", not "1304.8× more"
        return f"{max(a / b, b / a):,.0f}× {'more' if a > b else 'fewer'} {what}"
    return ratio(a, b, what)


def compare(entries: list[dict[str, Any]]) -> list[str]:
    """Each other run against the first: parameter and multiply-add ratios (architecture is seed-free)."""
    return [f"{e['label']} has {more_or_fewer(e['params'], a['params'], 'parameters')} ({count(e['params'])} vs "
            f"{count(a['params'])}) and {more_or_fewer(e['macs'], a['macs'], 'multiply-adds')} ({count(e['macs'])} vs "
            f"{count(a['macs'])}) than {a['label']}." for a in entries[:1] for e in entries[1:]]


@SECTIONS.register("architecture")
class ArchitectureSection(Section):
    @dataclass(frozen=True)
    class Options:
        table: Literal["auto", "layers", "blocks"] = "auto"  # rows: every leaf layer, or blocks; auto: layers ≤ 40
        diagram: Literal["auto", "layers", "blocks"] = "auto"  # boxes: every leaf layer, or blocks; auto: layers ≤ 25

    run_count = (1, None)
    template = "sections/architecture.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [run_architecture(g, self.options) for g in ctx.groups]
        built = [e for e in entries if e["layers"] is not None]
        notes = [f"{e['label']}: {e['note']}" for e in entries if e["layers"] is None]
        return {"runs": entries, "analysis": [*notes, *(describe(e) for e in built), *compare(built)]}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.diagram import plot_architecture_figure

        figures = []
        for e in result["runs"]:  # a run whose model could not be built has no diagram
            if e["layers"] is None:
                continue
            boxes = [{"name": "input", "type": "Input", "shape": e["input_shape"], "params": 0, "share": 0.0,
                      "kind": "input"}, *(e["layers"] if e["diagram_level"] == "layers" else e["blocks"])]
            unit = "leaf layer" if e["diagram_level"] == "layers" else "block of consecutive layers"
            title = f"{e['label']}: {count(e['params'])} parameters, {count(e['macs'])} multiply-adds"
            figures.append(Figure(
                f"diagram-{e['run']}",
                f"{e['label']} ({e['arch']}), one box per {unit}, generated from the model: type and output shape "
                "below each box, parameters (and share of all parameters) above it; box height grows with the "
                "logarithm of the output size.",
                f"Diagram of {e['label']}: " + ", ".join(f"{b['type']} {shape_text(b['shape'])}" for b in boxes) + ".",
                lambda boxes=boxes, title=title: plot_architecture_figure(boxes, title=title),
                wide=True,
            ))
        return figures
