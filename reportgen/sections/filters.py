"""``filters``: learned filters of the first and last convolution layers, and feature maps (ITU A3 question 5).

Works for any ``nn.Module``. From the first finished seed's trained model: the first ``Conv2d``'s kernels, the last
one's (for a depthwise + pointwise pair, a MobileNet block, its depthwise k×k kernels and its pointwise weights as a
C_out × C_in matrix), each output filter's L2 norm, and one test image run through the model with forward hooks: the
maps that enter global pooling ("before pooling") and the pooled vector ("after pooling"); without a pooling layer,
the last maps after the last convolution (those the classifier or a ViT's transformer receives). Plus the maps
around the first MaxPool2d/AvgPool2d if the model has one. A model without a convolution gets a sentence saying so.
Counts that change with the seed (near-dead filters, all-zero maps, the largest weight) are computed for every
finished seed and summarised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np

from reportgen.config.errors import CacheError
from reportgen.config.params import Range
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.predictions import image_list
from reportgen.sections.stats import summarize
from reportgen.text import pct

DEAD = 0.05  # a filter whose L2 norm is below this fraction of the layer's largest is "near-dead"
MAX_INPUTS = 32  # input channels shown per filter of a standard conv (a row of k×k tiles each)
DIGITS = 4
BATCHNORM = ("Every convolution shown feeds a BatchNorm, which rescales each channel, so a small weight norm alone "
             "does not silence a filter; the feature maps show which channels are actually zero.")


def _r(a) -> list:
    return np.round(np.asarray(a, dtype=np.float64), DIGITS).tolist()


def kind_of(conv) -> str:
    """``"depthwise"`` (one k×k kernel per channel), ``"pointwise"`` (1×1) or ``"standard"``."""
    # A 1 → 1 channel conv (a MobileNet block on a grey image) is a depthwise conv of one channel as well.
    if conv.groups == conv.in_channels and (conv.groups > 1 or conv.out_channels == 1):
        return "depthwise"
    return "pointwise" if tuple(conv.kernel_size) == (1, 1) else "standard"


def shown_layers(model) -> list[tuple[str, str, Any]]:
    """``(role, name, conv)``: the first conv layer and the last block's (its depthwise + pointwise pair, if it is
    one); a layer that is both is listed once with role ``"first and last"``."""
    from torch import nn

    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    last = convs[-1:]
    if len(convs) > 1 and kind_of(convs[-1][1]) == "pointwise" and kind_of(convs[-2][1]) == "depthwise":
        last = convs[-2:]
    if convs[0] in last:
        return [("first and last", n, m) for n, m in last]
    return [("first", *convs[0]), *(("last", n, m) for n, m in last)]


def layer_stats(conv) -> dict[str, Any]:
    """Per-seed numbers of one conv layer: max |w| and how many output filters are near-dead."""
    w = conv.weight.detach().double().numpy()
    norms = np.sqrt((w.reshape(w.shape[0], -1) ** 2).sum(axis=1))
    return {"absmax": float(np.abs(w).max()), "dead": int((norms < DEAD * norms.max()).sum()), "norms": norms}


def layer_entry(role: str, name: str, conv, max_filters: int, batchnorm: bool) -> dict[str, Any]:
    """One layer for the figures: ``weights`` (n, c, k, k) with n ≤ max_filters output filters and c ≤ MAX_INPUTS
    input channels (1 for depthwise; a pointwise layer's (n, C_in, 1, 1) is its weight matrix)."""
    w = conv.weight.detach().double().numpy()  # (C_out, C_in / groups, k, k)
    kind = kind_of(conv)
    stats = layer_stats(conv)
    inputs = w.shape[1] if kind == "pointwise" else min(w.shape[1], MAX_INPUTS)
    return {"role": role, "name": name, "kind": kind, "shape": list(w.shape), "batchnorm": batchnorm,
            "weights": _r(w[:max_filters, :inputs]), "norms": _r(stats["norms"]),
            "min": float(w.min()), "max": float(w.max()), "absmax": stats["absmax"], "dead_threshold": DEAD}


def followed_by_batchnorm(model, name: str) -> bool:
    """Whether the leaf module defined right after ``name`` is a BatchNorm (which rescales every channel)."""
    from torch import nn

    leaves = [(n, m) for n, m in model.named_modules() if n and not any(m.children())]
    names = [n for n, _ in leaves]
    i = names.index(name)
    return i + 1 < len(leaves) and isinstance(leaves[i + 1][1], nn.BatchNorm2d)


def feature_maps(model, x) -> dict[str, Any]:
    """Run ``x`` (1, C, H, W) through ``model`` (any ``nn.Module``) with forward hooks on every leaf module.

    ``before`` (C, h, w): the maps entering the first global (adaptive) pooling layer; without one, the last
    ``(1, C, h, w)`` output of a layer between the last ``Conv2d`` call and the first ``Linear`` called after it (the
    maps the classifier receives; a ViT's patch embedding), or None if there is none. ``after`` (C,): that pooling's
    output; without a pooling layer, the input of that ``Linear`` when it is one number per channel (a pooling done
    in the forward code, ``x.mean((2, 3))``); else None. ``local``: the maps before and after the first
    MaxPool2d/AvgPool2d, or None; ``logits`` (K,): the first tensor of the model's output.
    """
    import torch
    from torch import nn

    from reportgen.models.measure import first_tensor

    calls: list[tuple[nn.Module, Any, Any]] = []  # (module, first input tensor, first output tensor)
    leaves = [m for n, m in model.named_modules() if n and not any(m.children())] or [model]

    def hook(m, inputs, output) -> None:
        calls.append((m, first_tensor(inputs), first_tensor(output)))

    hooks = [m.register_forward_hook(hook) for m in leaves]
    try:
        with torch.inference_mode():
            logits = first_tensor(model(x))[0]
    finally:
        for h in hooks:
            h.remove()

    def is_map(t) -> bool:
        return t is not None and t.dim() == 4

    names = {id(m): n for n, m in model.named_modules()}
    glob = next(((m, i, o) for m, i, o in calls if isinstance(m, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d)
                 and m.output_size in (1, (1, 1)) and is_map(i)), None)
    local = next(((m, i, o) for m, i, o in calls if isinstance(m, nn.MaxPool2d | nn.AvgPool2d)
                  and is_map(i) and is_map(o)), None)
    before = after = source = pooling = None
    if glob is not None:
        before, after = glob[1][0], glob[2][0].flatten()
        kind = "average" if isinstance(glob[0], nn.AdaptiveAvgPool2d) else "max"
        pooling = f"global {kind} pooling ({names.get(id(glob[0])) or type(glob[0]).__name__})"
    else:
        convs = [k for k, (m, _, o) in enumerate(calls) if isinstance(m, nn.Conv2d) and is_map(o)]
        last_conv = convs[-1] if convs else None
        if last_conv is not None:
            end = next((k for k in range(last_conv, len(calls)) if isinstance(calls[k][0], nn.Linear)), len(calls))
            m, _, o = next(c for c in reversed(calls[last_conv:end]) if is_map(c[2]))
            before, source = o[0], names.get(id(m)) or type(m).__name__
            head_in = calls[end][1] if end < len(calls) else None
            if head_in is not None and head_in.dim() == 2 and head_in.shape[1] == before.shape[0]:
                after = head_in[0]  # one number per channel: pooled in the forward code
                pooling = f"the pooling before {names.get(id(calls[end][0])) or 'the linear layer'}"
    return {"before": None if before is None else before.numpy(), "after": None if after is None else after.numpy(),
            "logits": logits.numpy(), "source": source, "pooling": pooling,
            "local": None if local is None else (type(local[0]).__name__, local[1][0].numpy(), local[2][0].numpy())}


def _image(group: RunGroup, index: int):
    """Test image ``index`` as the trainer feeds it: ``(x/255 - mean)/std`` per channel, shape (1, C, H, W)."""
    import torch

    mean, std = group.data.channel_stats()
    x = group.data.test.x[index : index + 1].to(torch.float32) / 255.0
    return (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)


def group_filters(group: RunGroup, options) -> dict[str, Any]:
    entry: dict[str, Any] = {"run": group.name, "label": group.label, "failures": group.failures,
                             "status": "failed", "reason": "no seed finished training", "layers": None}
    results = group.results
    if not results:
        return entry
    if group.data is None:
        return {**entry, "status": "unavailable", "reason": f"{group.label}'s dataset is not available."}
    try:
        models = [group.trained_model(r) for r in results]
    except CacheError as err:
        return {**entry, "status": "unavailable", "reason": f"{err}."}
    from torch import nn

    if not any(isinstance(m, nn.Conv2d) for m in models[0].modules()):
        return {**entry, "status": "not applicable", "reason": f"{group.label} ({group.spec.arch}) has no "
                "convolution layer, so it has no filters or feature maps to show."}
    n_test = len(group.data.test)
    index = options.image_index if options.image_index < n_test else 0
    x = _image(group, index)
    maps = [feature_maps(m, x) for m in models]
    first, model = maps[0], models[0]
    layers = [layer_entry(role, name, conv, options.max_filters, followed_by_batchnorm(model, name))
              for role, name, conv in shown_layers(model)]
    per_seed = [[layer_stats(conv) for _, _, conv in shown_layers(m)] for m in models]
    for i, layer in enumerate(layers):
        layer["absmax_seeds"] = summarize([s[i]["absmax"] for s in per_seed])
        layer["dead_seeds"] = summarize([s[i]["dead"] for s in per_seed])
    before = first["before"]
    if before is None:
        where = None
    elif first["source"] is None:
        where = f"enter {first['pooling']}"
    else:
        where = f"{first['source']} outputs"
    prob = np.exp(first["logits"] - first["logits"].max())
    prob /= prob.sum()
    local = first["local"]
    return {
        **entry, "status": "ok", "reason": "", "arch": group.spec.arch,
        "seed": group.seeds[group.outcomes.index(results[0])], "layers": layers,
        "image_index": index, "image_index_asked": options.image_index, "n_test": n_test,
        "image": image_list(group.data.test.x[index].numpy()),
        "true": results[0].classes[int(group.data.test.y[index])],
        "pred": results[0].classes[int(prob.argmax())], "p": round(float(prob.max()), DIGITS),
        "before": None if before is None else _r(before[: options.max_filters]),
        "before_shape": None if before is None else list(before.shape),
        "after": None if first["after"] is None else _r(first["after"]),
        "maps_where": where, "maps_source": first["source"], "pooling": first["pooling"],
        "zero_maps": summarize([int((m["before"].reshape(len(m["before"]), -1).max(axis=1) <= 0).sum())
                                for m in maps if m["before"] is not None]),
        "local": None if local is None else {"type": local[0], "before": _r(local[1][: options.max_filters]),
                                             "after": _r(local[2][: options.max_filters]),
                                             "before_shape": list(local[1].shape),
                                             "after_shape": list(local[2].shape)},
    }


def _v(summary: dict[str, Any], fmt: str = ".0f") -> str:
    """``"3"`` for one seed, ``"2.5 ± 0.7"`` (one more digit) over several."""
    if summary["n"] > 1:
        more = fmt.replace("0f", "1f") if fmt == ".0f" else fmt
        return f"{summary['mean']:{more}} ± {summary['std']:{more}}"
    return f"{summary['mean']:{fmt}}"


def _layer_words(layer: dict[str, Any]) -> str:
    out, cin, kh, kw = layer["shape"]
    shape = {"depthwise": f"{out} kernels of {kh} × {kw}, one per channel",
             "pointwise": f"the {out} × {cin} matrix of its 1 × 1 weights",
             "standard": f"{out} filters of {cin} × {kh} × {kw}"}[layer["kind"]]
    dead = layer["dead_seeds"]
    dead = (f"none of its {out} filters is near-dead" if dead["mean"] == 0
            else f"{_v(dead)} of its {out} filters are near-dead")
    return f"{layer['name']} ({shape}) has max |w| = {_v(layer['absmax_seeds'], '.2f')} and {dead}"


def describe(entry: dict[str, Any]) -> list[str]:
    if entry["status"] != "ok":
        return [entry["reason"]] if entry["status"] == "not applicable" else []
    n_seeds = len(entry["layers"][0]["absmax_seeds"]["values"])
    over = f" (mean ± std over {n_seeds} seeds)" if n_seeds > 1 else ""
    first = [la for la in entry["layers"] if la["role"] != "last"]
    last = [la for la in entry["layers"] if la["role"] != "first"]
    if len(last) == 2:
        lead = (f"{entry['label']}'s last block is a MobileNet block: its depthwise layer {_layer_words(last[0])}, "
                f"and its pointwise layer {_layer_words(last[1])}")
    else:
        lead = f"{entry['label']}'s last convolution layer {_layer_words(last[0])}"
    text = [f"{lead}{over}; a filter is near-dead when its L2 norm is below {pct(DEAD, 0)} of the layer's largest."]
    if first and first != last:
        text.append(f"Its first layer {_layer_words(first[0])}.")
    if entry["before_shape"] is None:
        text.append("Its feature maps cannot be shown: no layer from its last convolution on returns a "
                    "(1, C, h, w) map.")
        return text
    c, h, w = entry["before_shape"]
    zero, where = entry["zero_maps"], entry["maps_where"]
    zero = (f"none of the {c} maps of {h} × {w} that {where} is all zero" if zero["mean"] == 0 else
            f"{_v(zero)} of the {c} maps of {h} × {w} that {where} ({pct(zero['mean'] / c, 0)}) are all zero")
    maps = (f"For test image {entry['image_index']} (true class {entry['true']}, predicted {entry['pred']} with "
            f"p = {entry['p']:.2f}), {zero}{over}")
    if entry["after"] is not None:
        top = int(np.argmax(entry["after"]))
        maps += (f"; {entry['pooling']} turns them into {c} numbers, the largest from channel {top} "
                 f"({entry['after'][top]:.2f})")
    text.append(maps + ".")
    if entry["image_index_asked"] != entry["image_index"]:
        text.append(f"image_index = {entry['image_index_asked']} is past the {entry['n_test']} test images, "
                    "so image 0 is shown.")
    return text


@SECTIONS.register("filters")
class FiltersSection(Section):
    @dataclass(frozen=True)
    class Options:
        max_filters: Annotated[int, Range(1, 256)] = 32  # output filters (and feature maps) shown per layer
        image_index: Annotated[int, Range(0)] = 0  # the test image whose feature maps are shown

    run_count = (1, None)
    version = 2  # 2: any nn.Module (feature maps found by forward hooks)
    template = "sections/filters.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [group_filters(g, self.options) for g in ctx.groups]
        for i, e in enumerate(entries):
            # Figure names, kept in the entry so the template finds each run's figures by exact name.
            slug = f"{i}-{_safe(e['run'])}"
            e["figures"] = [] if e["status"] != "ok" else [
                *(f"{_safe(la['name'])}-{slug}" for la in e["layers"]),
                *([f"maps-{slug}"] if e["before"] is not None else []),
                *([f"pool-{slug}"] if e["local"] is not None else [])]
        analysis = [s for e in entries for s in describe(e)]
        if any(la["batchnorm"] for e in entries if e["status"] == "ok" for la in e["layers"]):
            analysis.append(BATCHNORM)
        return {"runs": entries, "seeds": ctx.groups[0].seeds, "max_filters": self.options.max_filters,
                "dead_threshold": DEAD, "analysis": analysis}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        return [f for entry in result["runs"] if entry["status"] == "ok" for f in figures_of(entry, result)]


def _of(shown: int, total: int) -> str:
    return f"all {total}" if shown == total else f"the first {shown} of {total}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _what(layer: dict[str, Any]) -> str:
    """What a layer figure shows, for its caption."""
    out, cin, kh, kw = layer["shape"]
    n, c = len(layer["weights"]), len(layer["weights"][0])
    first = f"the first {n} of {out}" if n < out else f"all {out}"
    if layer["kind"] == "pointwise":
        return (f"its pointwise 1 × 1 weights as a matrix ({first} output channels in rows, the {cin} input "
                "channels in columns)")
    if layer["kind"] == "depthwise":
        return f"{first} depthwise {kh} × {kw} kernels, one per channel"
    if cin == 1:
        return f"{first} kernels of {kh} × {kw} (one input channel)"
    inputs = f"the first {c} of {cin}" if c < cin else f"all {cin}"
    return (f"{first} filters, one row each, made of one {kh} × {kw} kernel per input channel "
            f"({inputs} input channels)")


def figures_of(entry: dict[str, Any], result: dict[str, Any]) -> list[Figure]:
    from reportgen.figures.filters import plot_feature_maps, plot_layer, plot_local_pool

    names = iter(entry["figures"])
    seed = f" (seed {entry['seed']})" if len(result["seeds"]) > 1 else ""
    figures = []
    for layer in entry["layers"]:
        role = {"first": "First", "last": "Last", "first and last": "First and last"}[layer["role"]]
        figures.append(Figure(
            next(names),
            f"{role} convolution layer of {entry['label']}{seed}, {layer['name']}: {_what(layer)}, on one "
            f"colour scale ±max|w| = ±{layer['absmax']:.2f} (red positive, blue negative). Below: the L2 norm "
            f"of each of its {layer['shape'][0]} output filters; the dashed line is {pct(layer['dead_threshold'], 0)} "
            "of the largest, and red bars below it are near-dead filters.",
            f"Heatmap of the learned weights of {layer['name']} in {entry['label']}, and a bar chart of its "
            "filters' L2 norms.",
            lambda layer=layer: plot_layer(layer), wide=True))
    if entry["before"] is not None:
        c, h, w = entry["before_shape"]
        after = (f" Bottom: the same maps after {entry['pooling']}, one number per channel."
                 if entry["after"] is not None else "")
        figures.append(Figure(
            next(names),
            f"Feature maps of {entry['label']}{seed} for test image {entry['image_index']} (true {entry['true']}, "
            f"predicted {entry['pred']}, p = {entry['p']:.2f}): {_of(len(entry['before']), c)} maps of {h} × {w} "
            f"that {entry['maps_where']}, on one colour scale (black = 0).{after}",
            f"The test image, {_of(len(entry['before']), c)} feature maps of {entry['label']} that "
            f"{entry['maps_where']}" + (" and a bar chart of the pooled values." if entry["after"] is not None
                                        else "."),
            lambda: plot_feature_maps(entry), wide=True))
    if entry["local"] is not None:
        local = entry["local"]
        figures.append(Figure(
            next(names),
            f"Feature maps of {entry['label']}{seed} for test image {entry['image_index']} before (left) and after "
            f"(right) its first {local['type']}, on one shared colour scale.",
            f"Feature maps before and after {local['type']} in {entry['label']}.",
            lambda: plot_local_pool(local), wide=True))
    return figures
