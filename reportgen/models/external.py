"""Build a model reportgen did not write: a user's ``nn.Module`` class or factory, torchvision's, timm's.

The conventions of the ecosystem decide what reportgen passes: ``num_classes`` (torchvision, timm, most student
code), ``in_chans`` (timm), ``in_channels`` or ``input_shape`` when the callable names them. A callable that takes
``**kwargs`` (torchvision's ``resnet18``) gets ``num_classes``. A model whose first convolution expects another
channel count than the data has (torchvision's 3-channel ResNet on 1-channel MNIST) gets that convolution replaced by
one of the right width, and the build notes say so: the report must not hide that the model was changed.

Pretrained weights never come from the network: ``weights_file`` (a state dict beside the manifest) for any model,
or torchvision's ``weights = "NAME"`` when the file is already in torch's local hub cache.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reportgen.config.errors import TrainingError


def build_external(fn, arch: str, options: dict[str, Any], input_shape: tuple[int, int, int], num_classes: int,
                   base_dir: str | Path | None = None) -> nn.Module:
    """``fn`` (what ``arch`` names) called with ``options`` and the arguments it accepts of those reportgen supplies;
    the result is an ``nn.Module`` with ``build_notes`` (a list of sentences) set on it."""
    options = dict(options)
    weights_file = options.pop("weights_file", None)
    c = int(input_shape[0])
    if arch.startswith("timm:"):
        import timm

        if options.get("pretrained"):
            raise TrainingError(f'{arch}: pretrained = true would download weights; use weights_file = "…" instead')
        model = timm.create_model(arch.split(":", 1)[1], pretrained=False, num_classes=num_classes, in_chans=c,
                                  **options)
    else:
        _check_torchvision_weights(fn, arch, options)
        supplied = {"num_classes": num_classes, "input_shape": tuple(input_shape), "in_chans": c, "in_channels": c}
        model = fn(**_accepted(fn, supplied, options), **options)
    if not isinstance(model, nn.Module):
        raise TrainingError(f"{arch} returned a {type(model).__name__}, not a torch.nn.Module")
    notes: list[str] = []
    if weights_file is not None:
        notes.append(load_weights_file(model, Path(base_dir or ".") / weights_file))
    adapted = adapt_first_conv(model, c)
    if adapted:
        notes.append(adapted)
    model.build_notes = notes
    return model


def _accepted(fn, supplied: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or C extension: pass nothing extra
        return {}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    out = {k: v for k, v in supplied.items() if k in params and k not in options}
    if var_kw and "num_classes" not in params and "num_classes" not in options:
        out["num_classes"] = supplied["num_classes"]  # torchvision's builders pass **kwargs to the model class
    return out


def _check_torchvision_weights(fn, arch: str, options: dict[str, Any]) -> None:
    """torchvision's ``weights = "NAME"`` only when its file is in torch's local hub cache (never downloaded)."""
    name = options.get("weights")
    if name is None or not getattr(fn, "__module__", "").startswith("torchvision."):
        return
    from torchvision.models import get_model_weights

    try:
        enum = get_model_weights(fn)
        weights = enum[name] if isinstance(name, str) and "." not in name else enum.verify(name)
    except (KeyError, ValueError) as err:
        raise TrainingError(f"{arch}: weights {name!r}: {err}") from None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not cached.is_file():
        raise TrainingError(f"{arch}: weights {name!r} are not in torch's local hub cache ({cached}); reportgen never "
                            "downloads weights: put the file there, or use weights_file, or leave weights out")
    options["weights"] = weights


def load_weights_file(model: nn.Module, path: Path) -> str:
    """Copy every tensor of the state dict at ``path`` whose name and shape match (a new head keeps its fresh
    initialisation); returns a sentence saying what was loaded."""
    if not path.is_file():
        raise TrainingError(f"weights_file: no such file {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    loaded, skipped = copy_matching(model, state)
    text = f"weights from {path.name}: {loaded} tensors loaded"
    if skipped:
        text += f", {len(skipped)} kept fresh ({', '.join(skipped[:4])}{', …' if len(skipped) > 4 else ''})"
    return text


def copy_matching(model: nn.Module, state: dict[str, torch.Tensor]) -> tuple[int, list[str]]:
    """Load the tensors of ``state`` whose names and shapes match ``model``'s; ``(loaded, names kept fresh)``."""
    own = model.state_dict()
    matching = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    model.load_state_dict({**own, **matching})
    return len(matching), [k for k in own if k not in matching]


def adapt_first_conv(model: nn.Module, channels: int) -> str:
    """Replace the first ``Conv2d`` when it expects another channel count than the data has; a sentence, or ``""``."""
    for name, conv in model.named_modules():  # noqa: B007 - name is used after the loop
        if isinstance(conv, nn.Conv2d):
            break
    else:
        return ""
    if conv.in_channels == channels or conv.groups != 1:
        return ""
    new = nn.Conv2d(channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                    bias=conv.bias is not None, padding_mode=conv.padding_mode)
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    setattr(parent, name.rpartition(".")[2], new)
    return (f"its first convolution ({name}) expected {conv.in_channels} input channels; it was replaced by a freshly "
            f"initialised one taking the data's {channels}")
