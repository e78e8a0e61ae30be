"""How big a model is: trainable parameters, multiply-adds, and a per-layer summary, for any ``nn.Module``."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _cpu_attention_formulas() -> dict[Any, Any]:
    """FLOP formulas for the attention kernels PyTorch's counter has no entry for: on the CPU,
    ``F.scaled_dot_product_attention`` runs ``_scaled_dot_product_flash_attention_for_cpu`` (and on other backends
    the "overrideable" kernel), which the counter would silently skip. They get PyTorch's own formula for the
    CUDA kernels (``sdpa_flop_count``: the two batched products ``Q·Kᵀ`` and ``softmax·V``)."""
    from torch.utils.flop_counter import sdpa_flop_count

    def formula(query_shape, key_shape, value_shape, *_args, out_shape=None, **_kwargs) -> int:
        return sdpa_flop_count(query_shape, key_shape, value_shape)

    names = ("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_fused_attention_overrideable")
    return {getattr(torch.ops.aten, n): formula for n in names if hasattr(torch.ops.aten, n)}


def _probe(model: nn.Module, input_shape: tuple[int, int, int]) -> torch.Tensor:
    """A zero ``(1, C, H, W)`` input on the model's device, in its floating dtype."""
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), None)
    device = tensor.device if tensor is not None else torch.device("cpu")
    dtype = tensor.dtype if tensor is not None and tensor.is_floating_point() else torch.float32
    return torch.zeros(1, *input_shape, device=device, dtype=dtype)


def count_macs(model: nn.Module, input_shape: tuple[int, int, int]) -> int:
    """Multiply-adds of one forward pass on one image: FLOPs counted by PyTorch's FLOP counter
    (:class:`torch.utils.flop_counter.FlopCounterMode`), halved.

    The counter has a formula for every matrix product (``mm``, ``addmm``, ``bmm``, ``baddbmm``: linear layers and
    any ``@`` in a forward), every convolution and attention (``F.scaled_dot_product_attention``; its CPU kernel is
    added, see :func:`_cpu_attention_formulas`). It counts 2 FLOPs per multiply-add and nothing else, so this is the
    ptflops/fvcore convention: a convolution is ``out_elements × in_channels/groups × kH × kW``, a linear layer
    ``in × out`` per row; bias additions, BatchNorm, activations, pooling, softmax and residual additions are not
    counted. Runs on a zero ``(1, C, H, W)`` input on the model's device, in eval mode (BatchNorm's running
    statistics stay untouched) under ``torch.no_grad()``; the model's train/eval mode is restored afterwards.
    """
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False, custom_mapping=_cpu_attention_formulas())
    try:
        with torch.no_grad(), counter:
            model(_probe(model, input_shape))
    finally:
        model.train(was_training)
    return int(counter.get_total_flops()) // 2


def first_tensor(value: Any) -> torch.Tensor | None:
    """The first tensor in a module's output: the output itself, or the first found (depth first) in a tuple,
    list, dict (in insertion order) or dataclass (timm's and Hugging Face's output classes); None if there is none."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = [getattr(value, f.name) for f in dataclasses.fields(value)]
    if isinstance(value, list | tuple):
        for item in value:
            found = first_tensor(item)
            if found is not None:
                return found
    return None


@dataclasses.dataclass
class Profile:
    """One forward pass of a model, seen through hooks on every module (see :func:`profile`)."""

    rows: list[dict[str, Any]]  # model_summary's rows
    macs: dict[str, dict[str, Any]]  # macs_by_module's: {module name: {"macs": int, "ops": [aten op names]}}
    calls: list[tuple[str, list[int] | None]]  # every call of a row's module, in call order: (name, output shape)


def profile(model: nn.Module, input_shape: tuple[int, int, int]) -> Profile:
    """:func:`model_summary`, :func:`macs_by_module` and the order the layers ran in, from one forward pass on a
    zero ``(1, C, H, W)`` input (on the model's device, in eval mode under ``torch.no_grad()``; the mode is restored).

    FLOPs are attributed to the innermost module running when PyTorch's counter counts them: a pre-hook and a
    post-hook on every module keep a stack of the running modules, and what the counter adds between two hooks
    belongs to the module on top. ``calls`` lists every call of a leaf, or of a module whose own code computes, with
    its output's shape (a layer reused, like a course network's one ``self.pool``, appears once per call).
    """
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[int, list[int] | None] = {}
    own: dict[int, dict[str, int]] = {}
    order: list[tuple[int, list[int] | None]] = []
    stack: list[int] = []
    seen: dict[str, int] = {}
    counter = FlopCounterMode(display=False, custom_mapping=_cpu_attention_formulas())

    def settle() -> None:  # what the counter added since the last hook belongs to the module on top of the stack
        now = {str(op): n for op, n in counter.get_flop_counts().get("Global", {}).items()}
        if stack:
            mine = own.setdefault(stack[-1], {})
            for op, n in now.items():
                if n > seen.get(op, 0):
                    mine[op] = mine.get(op, 0) + n - seen.get(op, 0)
        seen.clear()
        seen.update(now)

    def pre(module: nn.Module, _inputs) -> None:
        settle()
        stack.append(id(module))

    def post(module: nn.Module, _inputs, output: Any) -> None:
        settle()
        if stack and stack[-1] == id(module):
            stack.pop()
        tensor = first_tensor(output)
        shape = list(tensor.shape) if tensor is not None else None
        shapes.setdefault(id(module), shape)  # a module called several times keeps its first call
        order.append((id(module), shape))

    handles = []
    for m in model.modules():
        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), counter:
            model(_probe(model, input_shape))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    rows: list[dict[str, Any]] = []
    names: dict[int, str] = {}

    def walk(prefix: str, module: nn.Module) -> None:
        names[id(module)] = prefix
        children = list(module.named_children())
        if not children:
            rows.append({"name": prefix, "type": type(module).__name__, "output_shape": shapes.get(id(module)),
                         "params": sum(p.numel() for p in module.parameters())})
            return
        rows.extend({"name": f"{prefix}.{n}" if prefix else n, "type": "Parameter", "output_shape": None,
                     "params": p.numel()} for n, p in module.named_parameters(recurse=False))
        for n, child in children:
            if id(child) not in names:  # a module registered twice is listed once, like named_modules()
                walk(f"{prefix}.{n}" if prefix else n, child)
        if sum(own.get(id(module), {}).values()):
            rows.append({"name": prefix, "type": type(module).__name__, "output_shape": shapes.get(id(module)),
                         "params": 0})

    walk("", model)
    macs = {names[key]: {"macs": sum(ops.values()) // 2, "ops": sorted(op for op, n in ops.items() if n)}
            for key, ops in own.items() if key in names and sum(ops.values())}
    listed = {r["name"] for r in rows if r["type"] != "Parameter"}
    calls = [(names[key], shape) for key, shape in order if names.get(key) in listed]
    return Profile(rows, macs, calls)


def macs_by_module(model: nn.Module, input_shape: tuple[int, int, int]) -> dict[str, dict[str, Any]]:
    """Where :func:`count_macs`'s multiply-adds happen: for each module (by name, the model itself ``""``) whose own
    code did any, ``{"macs": int, "ops": [aten op names]}``. A leaf's are all its own; a container's are those of
    its forward outside its children (timm's ``Attention`` calling ``F.scaled_dot_product_attention``). The values
    add up to :func:`count_macs`."""
    return profile(model, input_shape).macs


def model_summary(model: nn.Module, input_shape: tuple[int, int, int]) -> list[dict[str, Any]]:
    """One row per leaf module, in definition order: ``name``, ``type``, ``output_shape``, ``params``; works for any
    ``nn.Module``.

    Shapes come from forward hooks during one pass on a zero ``(1, C, H, W)`` input in eval mode (so BatchNorm's
    running statistics stay untouched). ``output_shape`` is that of the first tensor in the output (a tuple, list,
    dict or dataclass is searched), None if there is none or the pass never calls the module; a module called
    several times keeps its first call's. Two more kinds of row make the table whole:

    * parameters held directly by a module with children (a ViT's ``cls_token`` and ``pos_embed``): one row each,
      named after the parameter, type ``"Parameter"``, no output shape, before that module's children; so the rows'
      ``params`` add up to every parameter of the model (:func:`count_params` when all are trainable);
    * a module with children whose own forward code does multiply-adds (timm's ``Attention``, which calls
      ``F.scaled_dot_product_attention`` between its ``qkv`` and ``proj`` layers): a row named after it, after its
      children, with its output shape and 0 parameters; :func:`macs_by_module` says how many multiply-adds.
    """
    return profile(model, input_shape).rows
