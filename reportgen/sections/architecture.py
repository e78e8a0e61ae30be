"""``architecture``: each run's model as a layer table and a diagram, generated from the model itself (ITU A2
item 11: "the architectures of both tasks ... and the reasoning for them").

The model is built from the run's spec (no weights needed): a built-in one, a user's ``nn.Module``, torchvision's
or timm's. ``model_summary`` (forward hooks) gives every leaf layer's output shape (batch dimension dropped) and
parameters, plus rows for parameters held outside any layer (a ViT's ``cls_token``) and for modules whose own
forward computes (timm's ``Attention``); ``macs_by_module`` says where the multiply-adds are, as counted by
PyTorch's FLOP counter (convolutions, matrix products, attention). Long models are grouped into blocks by name
prefix (``blocks.0.conv`` → ``blocks.0``, else the shallowest module path that fits). The text says where the
parameters and multiply-adds are, how far the input is downsampled, the last spatial map's theoretical receptive
field, and how the runs compare in size and cost. Nothing here depends on the seed, so nothing is summarised over
seeds.
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
OWN = ("attention", "product")  # rows for a module's own forward code (not a layer of its own)
NEXT = {"AdaptiveAvgPool2d": "global average pooling", "AdaptiveMaxPool2d": "global max pooling",
        "Flatten": "flattening"}
# Layers that pass a map on unchanged in shape or meaning (skipped when saying what follows the last map).
TRANSPARENT = ("Identity", "Dropout", "Dropout2d", "DropPath", "DropBlock2d")
TOP = "(top level)"  # the row of the model's own forward code, when it computes besides its layers
CONVENTION = ("counted by PyTorch's FLOP counter: convolutions, matrix products and attention, not bias additions, "
              "normalisation, activations or pooling")


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


def _groupings(layers: list[dict[str, Any]]):
    """Ways to group layers into blocks, best first, each as ``(runs of rows, name of each run or None)``: by
    :func:`block_of`, then by module path prefixes from the deepest to the top-level children."""
    yield [list(g) for _, g in groupby(layers, key=lambda r: block_of(r["name"]))], block_of
    depth = max(len(r["name"].split(".")) for r in layers)
    for d in range(depth - 1, 0, -1):
        def prefix(name: str, d=d) -> str:
            return ".".join(name.split(".")[:d])
        yield [list(g) for _, g in groupby(layers, key=lambda r: prefix(r["name"]))], prefix


def group_blocks(model, layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive layers of one block as one row: by name prefix (``blocks.0``), else by the deepest module path
    prefix that leaves at most ``MAX_BOXES`` rows (down to the model's top-level children); if even that leaves more
    (a flat ``Sequential`` of leaves), a block starts at every layer with weights instead."""
    modules = dict(model.named_modules())
    runs, key = next(((r, k) for r, k in _groupings(layers) if len(r) <= MAX_BOXES), ([], None))
    if key is None:
        for row in layers:
            if not runs or (row["kind"] in WEIGHTED and any(r["kind"] in WEIGHTED for r in runs[-1])):
                runs.append([])
            runs[-1].append(row)
    blocks = []
    for rows in runs:
        first, last = rows[0]["name"], rows[-1]["name"]
        name = first if len(rows) == 1 else key(first) if key else f"{first}–{last.split('.')[-1]}"
        module = modules.get(name) if len(rows) > 1 and key and name else None
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


def _kernel(module) -> dict[str, Any]:
    """Kernel, stride and groups of a convolution or local pooling layer of any dimension, in words."""
    k, s = module.kernel_size, _first(module.stride)
    k = f"{k}×{k}" if isinstance(k, int) else "×".join(map(str, k))
    long, short = [k, *([f"stride {s}"] if s > 1 else [])], [k, *([f"s{s}"] if s > 1 else [])]
    groups, channels = getattr(module, "groups", 1), getattr(module, "in_channels", 0)
    if groups > 1:
        dw = groups == channels
        long.append("depthwise" if dw else f"{groups} groups")
        short.append("dw" if dw else f"g{groups}")
    return {"detail": ", ".join(long), "tag": " ".join(short)}


def layer_info(module, shape: list[int] | None) -> dict[str, Any]:
    """What the table and diagram show of a leaf layer besides its name, type, shape and parameters: ``kind``
    (its colour class), ``detail`` ("3×3, stride 2, depthwise") and ``tag`` ("3×3 s2 dw", for the diagram)."""
    from torch import nn
    from torch.nn.modules.conv import _ConvNd
    from torch.nn.modules.pooling import _AvgPoolNd, _MaxPoolNd

    name = type(module).__name__
    info = {"kind": "other", "detail": "", "tag": ""}
    if isinstance(module, nn.Linear):
        return {**info, "kind": "linear", "detail": f"{module.in_features} → {module.out_features}"}
    if isinstance(module, _ConvNd):
        return {**info, "kind": "conv", **_kernel(module)}
    if isinstance(module, _MaxPoolNd | _AvgPoolNd):
        return {**info, "kind": "pool", **_kernel(module)}
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        return {**info, "kind": "pool", "detail": "global" if module.output_size in (1, (1, 1)) else ""}
    if isinstance(module, nn.Dropout):
        return {**info, "detail": f"p = {module.p:g}"}
    kind = ("norm" if "Norm" in name else "pool" if "Pool" in name else "reshape" if name in ("Flatten", "Unflatten")
            else "act" if type(module).__module__.endswith("activation") else "other")
    return {**info, "kind": kind}


def own_info(ops: list[str]) -> dict[str, Any]:
    """A row for a module's own forward code, by the aten ops it ran: attention, or other matrix products."""
    if any("attention" in op for op in ops):
        return {"kind": "attention", "detail": "own forward: attention (Q·Kᵀ and softmax·V)", "tag": "attn"}
    what = "convolutions" if any("conv" in op for op in ops) else "matrix products"
    return {"kind": "product", "detail": f"own forward: {what}", "tag": ""}


def _spatial_kernel(module):
    """``(k, stride, dilation)`` of a 2-D convolution or local pooling layer, None for any other module."""
    from torch.nn.modules.conv import _ConvNd
    from torch.nn.modules.pooling import _AvgPoolNd, _MaxPoolNd

    if not isinstance(module, _ConvNd | _MaxPoolNd | _AvgPoolNd):
        return None
    k = module.kernel_size
    if not isinstance(k, int) and len(k) != 2:
        return None
    return _first(k), _first(module.stride), _first(getattr(module, "dilation", 1))


def spatial(modules: dict, calls: list[dict[str, Any]], input_shape=None) -> dict[str, Any]:
    """Downsampling and the theoretical receptive field of the last spatial map larger than 1×1, from ``calls``
    (every layer call in the order they ran: ``name``, ``type``, ``kind``, ``shape``): the output of the last 2-D
    convolution or pooling layer with one, and of the layers after it that keep its shape.

    The receptive field grows by ``(k - 1)·dilation·jump`` at each conv/pool layer, where ``jump`` is the
    product of the strides so far (global/adaptive pooling is left out: it sees the whole map by design). A strided
    layer whose output is no smaller than the map before it runs beside the main path (a ResNet's projection
    shortcut) and is left out too. A layer called twice (one ``self.pool`` after each convolution) counts twice.
    ``attention_after`` says whether attention runs after that map (or anywhere, when there is no map)."""
    def is_map(r) -> bool:
        return bool(r["shape"]) and len(r["shape"]) == 3 and math.prod(r["shape"][1:]) > 1

    maps = [i for i, r in enumerate(calls) if r["kind"] in ("conv", "pool") and is_map(r)
            and _spatial_kernel(modules.get(r["name"])) is not None]
    if not maps or not any(r["kind"] == "conv" for r in calls):
        return {"final_map": None, "receptive_field": None, "downsampled_at": [], "next": None, "next_name": None,
                "attention_after": any(r["kind"] == "attention" for r in calls)}
    last = maps[-1]
    while last + 1 < len(calls) and calls[last + 1]["shape"] == calls[last]["shape"]:
        last += 1  # BatchNorm and activations after the last conv keep its map
    size = input_shape[1] if input_shape else None
    rf, jump, strided = 1, 1, []
    for r in calls[: last + 1]:
        kernel = _spatial_kernel(modules.get(r["name"]))
        if kernel is None or not r["shape"] or len(r["shape"]) != 3:
            continue
        k, s, d = kernel
        out = r["shape"][1]
        if s > 1 and size is not None and out >= size:
            continue  # a strided branch beside the main path
        rf += (k - 1) * d * jump
        if s > 1:
            jump *= s
            strided.append(r["name"])
        size = out
    nxt = next((r for r in calls[last + 1 :] if r["shape"] and r["type"] not in TRANSPARENT), None)
    return {"final_map": calls[last]["shape"][1:], "receptive_field": rf, "downsampled_at": strided,
            "next": nxt["type"] if nxt else None, "next_name": nxt["name"] if nxt else None,
            "attention_after": any(r["kind"] == "attention" for r in calls[last + 1 :])}


def describe_layer(modules: dict, layers: list[dict[str, Any]], i: int, input_shape) -> str:
    """What layer ``i`` does, in words: "3×3 convolution, 32 → 32 channels", "flattening 32×14×14 maps into
    1024 units", "a learned 1×50×192 tensor outside any layer"."""
    from torch import nn

    row = layers[i]
    if row["kind"] == "param":
        return f"a learned {row['detail']} outside any layer"
    m = modules.get(row["name"])
    if isinstance(m, nn.Conv2d):
        kh, kw = m.kernel_size
        what = "depthwise " if m.groups == m.in_channels and m.groups > 1 else ""
        return f"{kh}×{kw} {what}convolution, {m.in_channels} → {m.out_channels} channels"
    if not isinstance(m, nn.Linear):
        return row["type"]
    source = (list(input_shape) if i == 1 else layers[i - 2]["shape"]) if i and layers[i - 1]["type"] == "Flatten" \
        else None
    if source and len(source) > 1:
        what = f"the {shape_text(source)} input" if i == 1 else f"{shape_text(source)} maps"
        return f"flattening {what} into {m.out_features} units"
    return f"{m.in_features} inputs into {m.out_features} units"


def model_architecture(model, input_shape: tuple[int, int, int], options) -> dict[str, Any]:
    """Layers, blocks, totals and spatial facts of ``model`` (any ``nn.Module``) on one ``(C, H, W)`` input;
    ``options`` picks the table's and the diagram's level (``"auto"``, ``"layers"``, ``"blocks"``)."""
    from reportgen.models import count_params
    from reportgen.models.measure import profile

    modules = dict(model.named_modules())
    modules[TOP] = model
    found = profile(model, input_shape)
    by_module = found.macs
    params, macs = count_params(model), sum(v["macs"] for v in by_module.values())
    layers = []
    for row in found.rows:
        shape = row["output_shape"][1:] if row["output_shape"] else None
        name, module = row["name"], modules.get(row["name"])
        if row["type"] == "Parameter":
            info = {"kind": "param", "detail": f"{shape_text(list(model.get_parameter(name).shape))} tensor", "tag": ""}
        elif module is not None and any(module.children()):  # a container's own forward code
            info = own_info(by_module.get(name, {}).get("ops", []))
        else:
            info = layer_info(module, shape)
        name = TOP if not name and any(model.children()) else name
        layers.append({"name": name, "type": row["type"], "shape": shape, "params": int(row["params"]),
                       "share": row["params"] / params if params else 0.0,
                       "macs": by_module.get(row["name"], {}).get("macs", 0), **info})
    kinds = {r["name"]: (r["type"], r["kind"]) for r in layers}
    calls = [{"name": TOP if not n and n not in kinds else n, "shape": shape[1:] if shape else None}
             for n, shape in found.calls]
    calls = [{**c, "type": kinds[c["name"]][0], "kind": kinds[c["name"]][1]} for c in calls]
    largest = max(range(len(layers)), key=lambda i: layers[i]["params"])
    busiest = max(layers, key=lambda r: r["macs"])
    parts: dict[str, int] = {}
    for row in layers:  # parameters per top-level module ("blocks", "head")
        parts[row["name"].split(".")[0]] = parts.get(row["name"].split(".")[0], 0) + row["params"]
    n_layers = sum(r["kind"] not in ("param", *OWN) for r in layers)
    levels = {"table": (options.table, MAX_ROWS), "diagram": (options.diagram, MAX_BOXES)}
    chosen = {k: "layers" if v == "layers" or (v == "auto" and len(layers) <= limit) else "blocks"
              for k, (v, limit) in levels.items()}
    return {
        "input_shape": list(input_shape),
        "params": params,
        "macs": macs,
        "layers": layers,
        "n_layers": n_layers,
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
        "loose_params": [{"name": r["name"], "params": r["params"]} for r in layers if r["kind"] == "param"],
        "own_compute": [{"name": r["name"], "type": r["type"], "kind": r["kind"], "macs": r["macs"]}
                        for r in layers if r["kind"] in OWN],
        **spatial(modules, calls, input_shape),
    }


def run_architecture(group: RunGroup, options) -> dict[str, Any]:
    """One run's model, built from its spec (weights are not needed), described by :func:`model_architecture`."""
    from reportgen.config.errors import ReportgenError
    from reportgen.models import build_run_model

    entry = {"run": group.name, "label": group.label, "arch": group.spec.arch, "failures": group.failures}
    if group.data is None:
        return {**entry, "layers": None, "note": "The run's dataset is unavailable, so its model cannot be built."}
    shape = tuple(group.data.input_shape)
    try:
        model = build_run_model(group.spec, shape, group.data.num_classes)
    except (ReportgenError, ImportError) as err:
        return {**entry, "layers": None, "note": f"Its model could not be built: {err}."}
    try:
        found = model_architecture(model, shape, options)
    except RuntimeError as err:  # e.g. a model whose layers do not fit this input shape
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return {**entry, "layers": None, "note": f"Its forward pass on one {shape_text(list(shape))} input failed: "
                f"{first}."}
    notes = [str(n) for n in getattr(model, "build_notes", None) or []]
    return {**entry, "num_classes": group.data.num_classes, "build_notes": notes, **found}


def describe(e: dict[str, Any], *, convention: bool = False) -> str:
    """A paragraph about one run: size, where the parameters and the multiply-adds are, spatial reasoning;
    ``convention`` adds how multiply-adds are counted."""
    c, h, w = e["input_shape"]
    convs, linears = e["weight_layers"]["conv"], e["weight_layers"]["linear"]
    kinds = ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in
                      ((convs, "convolution"), (linears, "linear layer")) if n)
    counted = f", {CONVENTION}" if convention else ""
    text = [f"{e['label']} ({e['arch']}) maps a {c}×{h}×{w} input to {e['num_classes']} classes through "
            f"{e['n_layers']} layer{'s' if e['n_layers'] != 1 else ''}, {convs + linears} of them with weights "
            f"({kinds or 'none'}): "
            f"{count(e['params'])} parameters and {count(e['macs'])} multiply-adds per image{counted}."]
    if e.get("build_notes"):
        text.append(f"How reportgen built it: {'; '.join(e['build_notes'])}.")
    if e["loose_params"]:
        names = ", ".join(p["name"] for p in e["loose_params"][:4]) + (", …" if len(e["loose_params"]) > 4 else "")
        text.append(f"{count(sum(p['params'] for p in e['loose_params']))} parameters are held outside any layer "
                    f"({names}).")
    own = e["own_compute"]
    if own:
        what = "attention" if all(o["kind"] == "attention" for o in own) else "matrix products"
        names = ", ".join(o["name"] for o in own[:2]) + (", …" if len(own) > 2 else "")
        n = f"{len(own)} modules compute" if len(own) > 1 else "One module computes"
        their = "their" if len(own) > 1 else "its"
        text.append(f"{n} {what} in {their} own forward, outside {their} layers ({names}): "
                    f"{count(sum(o['macs'] for o in own))} multiply-adds.")
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
        if e["attention_after"]:
            text.append(f"There are no convolutions: attention relates every part of the {c}×{h}×{w} input to every "
                        "other, with no built-in notion of neighbouring pixels.")
        else:
            text.append(f"There are no convolutions: the first layer sees all {c * h * w} input values at once, with "
                        "no built-in notion of neighbouring pixels, and every position needs its own weights.")
    else:
        fh, fw = e["final_map"]
        times = {n: e["downsampled_at"].count(n) for n in e["downsampled_at"]}  # a reused layer counts each time
        named = [n if k == 1 else f"{n} ({'twice' if k == 2 else f'{k} times'})" for n, k in times.items()]
        at = f", at {', '.join(named)}" if named else ""
        shrink = (f"downsample the {h}×{w} input to a {fh}×{fw} map ({h / fh:.3g}× per side{at})" if (fh, fw) != (h, w)
                  else f"keep the full {h}×{w} resolution")
        after = ""
        if e["next"]:
            after = f" before {NEXT[e['next']]}" if e["next"] in NEXT else f" before {e['next_name']} ({e['next']})"
        rf = e["receptive_field"]
        cover = "covering the whole input" if rf >= max(h, w) else f"{pct(rf * rf / (h * w), 0)} of the input's area"
        text.append(f"The network's layers {shrink}{after}; each position of that map sees an input window of "
                    f"{rf}×{rf} pixels (its theoretical receptive field), {cover}"
                    + ("; the attention after it lets every position see the whole input." if e["attention_after"]
                       else "."))
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
    version = 2  # 2: any nn.Module (forward hooks; multiply-adds by PyTorch's FLOP counter)
    template = "sections/architecture.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [run_architecture(g, self.options) for g in ctx.groups]
        built = [e for e in entries if e["layers"] is not None]
        notes = [f"{e['label']}: {e['note']}" for e in entries if e["layers"] is None]
        described = [describe(e, convention=i == 0) for i, e in enumerate(built)]
        return {"runs": entries, "analysis": [*notes, *described, *compare(built)]}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.diagram import plot_architecture_figure

        figures = []
        for e in result["runs"]:  # a run whose model could not be built has no diagram
            if e["layers"] is None:
                continue
            shown = e["layers"] if e["diagram_level"] == "layers" else e["blocks"]
            boxes = [{"name": "input", "type": "Input", "shape": e["input_shape"], "params": 0, "share": 0.0,
                      "kind": "input"}, *(b for b in shown if b["kind"] != "param")]  # a loose tensor is no step
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
