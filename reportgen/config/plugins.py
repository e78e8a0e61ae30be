"""References to a user's own code: ``"models.py:Net"``, ``"package.module:attr"``, ``"timm:vit_tiny_patch16_224"``.

The ecosystem's way of naming a class (Lightning CLI's ``class_path``, Hydra's ``_target_``, timm's ``create_model``),
with the manifest's located errors: a missing file, an import error or a ``SyntaxError`` in the user's file is one
:class:`~reportgen.config.errors.ManifestError` naming the manifest key and the user's file and line.

A file path is relative to the manifest's folder. Each file is imported once per process under a private module name
(so two manifests' ``models.py`` never collide, and a module the file imports beside it is found: its folder goes on
``sys.path`` while it loads).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.config.errors import ManifestError

#: Namespaces handled by a library's own factory rather than by ``getattr`` (``"timm:NAME"``).
FACTORIES = ("timm",)


@dataclass(frozen=True)
class Reference:
    """A parsed ``"left:attr"``: ``file`` (a ``.py`` path), ``module`` (an importable name) or ``factory``."""

    text: str
    kind: str  # "file" | "module" | "factory"
    target: str  # the path as written, the module name, or the factory's namespace ("timm")
    attr: str  # attribute (dotted for nested: "Outer.Inner"), or the factory's model name

    @property
    def shown(self) -> str:
        return self.text


def is_reference(text: str) -> bool:
    """Whether ``text`` names code by reference (has a ``:``) rather than a registered name."""
    return ":" in text


def parse_reference(text: str, where: str) -> Reference:
    left, _, attr = text.rpartition(":")
    if not left or not attr:
        raise ManifestError(f'"{text}": expected "file.py:name" or "package.module:name"', location=where)
    if left in FACTORIES:
        return Reference(text, "factory", left, attr)
    if left.endswith(".py") or "/" in left or "\\" in left:
        return Reference(text, "file", left, attr)
    return Reference(text, "module", left, attr)


_MODULES: dict[Path, Any] = {}


def load_file_module(path: Path, where: str) -> Any:
    """Import the Python file at ``path`` (once per process); errors name ``where`` and the file's line."""
    path = path.resolve()
    if path in _MODULES:
        return _MODULES[path]
    if not path.is_file():
        raise ManifestError(f"no such file {path}", location=where)
    name = "reportgen_user_" + hashlib.sha256(str(path).encode()).hexdigest()[:12] + "_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))  # so that "from blocks import X" beside it works
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        sys.modules.pop(name, None)
        raise ManifestError(f"{err.filename or path}:{err.lineno}: SyntaxError: {err.msg}", location=where) from None
    except Exception as err:  # noqa: BLE001 - any error in the user's code becomes one located message
        sys.modules.pop(name, None)
        raise ManifestError(f"{user_frame(err, path)}: {type(err).__name__}: {err}", location=where) from None
    finally:
        if sys.path and sys.path[0] == str(path.parent):
            sys.path.pop(0)
    _MODULES[path] = module
    return module


def user_frame(err: BaseException, path: Path | None = None) -> str:
    """``"file:line"`` of the innermost frame of ``err``'s traceback in ``path`` (or outside reportgen, torch and the
    standard library when ``path`` is None): where the user's code failed."""
    frames = traceback.extract_tb(err.__traceback__)
    if path is not None:
        mine = [f for f in frames if Path(f.filename).resolve() == Path(path).resolve()]
    else:
        skip = (str(Path(__file__).resolve().parents[1]), "/torch/", "/site-packages/", "/lib/python", "<frozen")
        mine = [f for f in frames if not any(s in f.filename for s in skip)]
    if not mine:
        return str(path) if path is not None else "(unknown place)"
    last = mine[-1]
    return f"{last.filename}:{last.lineno}"


def resolve(ref: Reference, base_dir: Path, where: str) -> Any:
    """The object ``ref`` names (for a factory: the factory bound to its model name)."""
    if ref.kind == "factory":
        return _factory(ref, where)
    if ref.kind == "file":
        module = load_file_module(Path(base_dir) / ref.target, where)
        shown = ref.target
    else:
        try:
            module = importlib.import_module(ref.target)
        except ModuleNotFoundError as err:
            raise ManifestError(f'cannot import "{ref.target}": {err}', location=where) from None
        except SyntaxError as err:
            raise ManifestError(f"{err.filename}:{err.lineno}: SyntaxError: {err.msg}", location=where) from None
        except Exception as err:  # noqa: BLE001
            raise ManifestError(f"importing {ref.target}: {user_frame(err)}: {type(err).__name__}: {err}",
                                location=where) from None
        shown = ref.target
    obj = module
    for part in ref.attr.split("."):
        if not hasattr(obj, part):
            from reportgen.config.registry import did_you_mean

            names = [n for n in dir(obj) if not n.startswith("_")]
            raise ManifestError(f'{shown} has no "{ref.attr}"{did_you_mean(part, names)}', location=where)
        obj = getattr(obj, part)
    if not callable(obj):
        raise ManifestError(f'{ref.text} is a {type(obj).__name__}, not a class or function', location=where)
    return obj


def _factory(ref: Reference, where: str) -> Any:
    if ref.target == "timm":
        try:
            import timm
        except ImportError:
            raise ManifestError('"timm:" models need timm: pip install "reportgen[timm]"', location=where) from None
        if not timm.is_model(ref.attr):
            from reportgen.config.registry import did_you_mean

            raise ManifestError(f'timm has no model "{ref.attr}"{did_you_mean(ref.attr, timm.list_models())}',
                                location=where)
        return timm.models.model_entrypoint(ref.attr)
    raise ManifestError(f'unknown factory "{ref.target}"', location=where)  # unreachable: parse_reference checked


def fingerprint(ref: Reference, base_dir: Path) -> dict[str, str]:
    """What a run's key records about the code ``ref`` names: a file's content hash, or the version of the installed
    distribution a module belongs to (its source file's hash when it belongs to none, e.g. a module on PYTHONPATH)."""
    if ref.kind == "file":
        return {"sha256": hashlib.sha256((Path(base_dir) / ref.target).read_bytes()).hexdigest()[:16]}
    top = ref.target.split(".")[0]
    try:
        return {"package": top, "version": importlib.metadata.version(top)}
    except importlib.metadata.PackageNotFoundError:
        module = sys.modules.get(ref.target) or importlib.import_module(ref.target)
        source = getattr(module, "__file__", None)
        if source and Path(source).is_file():
            return {"sha256": hashlib.sha256(Path(source).read_bytes()).hexdigest()[:16]}
        return {"package": top, "version": "unknown"}


def load_plugins(entries: tuple[str, ...] | list[str], base_dir: Path) -> list[Any]:
    """Import each ``[report] plugins`` entry (a file relative to ``base_dir``, or a module name) once; importing a
    plugin registers its section types and grading checks. Errors are located at ``report.plugins[i]``."""
    modules = []
    for i, entry in enumerate(entries):
        where = f"report.plugins[{i}]"
        if entry.endswith(".py") or "/" in entry or "\\" in entry:
            modules.append(load_file_module(Path(base_dir) / entry, where))
            continue
        try:
            modules.append(importlib.import_module(entry))
        except ModuleNotFoundError as err:
            raise ManifestError(f'cannot import "{entry}": {err}', location=where) from None
        except SyntaxError as err:
            raise ManifestError(f"{err.filename}:{err.lineno}: SyntaxError: {err.msg}", location=where) from None
        except Exception as err:  # noqa: BLE001
            raise ManifestError(f"{user_frame(err)}: {type(err).__name__}: {err}", location=where) from None
    return modules

