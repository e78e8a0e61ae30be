"""References to a user's own code: ``"models.py:Net"``, ``"package.module:attr"``, ``"timm:vit_tiny_patch16_224"``.

The ecosystem's way of naming a class (Lightning CLI's ``class_path``, Hydra's ``_target_``, timm's ``create_model``),
with the manifest's located errors: a missing file, an import error or a ``SyntaxError`` in the user's file is one
:class:`~reportgen.config.errors.ManifestError` naming the manifest key and the user's file and line.

A file path is relative to the manifest's folder. Each file is imported under a private module name (so two
manifests' ``models.py`` never collide, and a module the file imports beside it is found: its folder goes on
``sys.path`` while it loads), once per content: loading the same unchanged file again (a second build in the same
process) returns the module already imported, and registers nothing twice. A file that changed on disk since is
imported afresh, because its content hash is what run keys record (:func:`fingerprint`): what the file registered
before (section types, checks, models) is withdrawn first, and put back if the new version fails to import.

``[report] plugins`` (:func:`load_plugins`) are such files (or module names) imported for what they register: a
plugin registers a section type with ``@SECTIONS.register("my_type")`` and a grading check with
``@check("MY_CODE", "…")`` exactly as reportgen's own do. A name reportgen or another plugin already registered
is a located error (``report.plugins[0]: …/b.py:7: section type "confusion" is already registered (built in)``).
Registrations last for the process; :func:`unload` withdraws a plugin's.
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
from reportgen.config.registry import RegistrationError, forget, registering_for, restore

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


_MODULES: dict[Path, tuple[str, Any]] = {}  # resolved path -> (content hash, module)


def load_file_module(path: Path, where: str) -> Any:
    """Import the Python file at ``path`` (again only if its content changed); errors name ``where`` and the
    file's line. What it registers while importing belongs to it (see the module's docstring)."""
    path = path.resolve()
    if not path.is_file():
        raise ManifestError(f"no such file {path}", location=where)
    source = path.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    cached = _MODULES.get(path)
    if cached is not None and cached[0] == digest:
        return cached[1]
    name = "reportgen_user_" + hashlib.sha256(str(path).encode()).hexdigest()[:12] + "_" + path.stem
    origin = str(path)
    withdrawn = forget(origin)  # an edited file: what its previous version registered goes
    previous = sys.modules.get(name)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))  # so that "from blocks import X" beside it works
    try:
        # Compiled from the bytes just hashed (no __pycache__ beside the user's file, no stale bytecode after an
        # edit within the same second).
        code = compile(source, str(path), "exec", dont_inherit=True)
        with registering_for(origin):
            exec(code, module.__dict__)  # noqa: S102 - importing the user's own file is the point
    except BaseException as err:
        forget(origin)  # whatever the failed version registered before it failed
        restore(withdrawn, origin)
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        if not isinstance(err, Exception):
            raise
        raise _import_error(err, path, where) from None
    finally:
        if sys.path and sys.path[0] == str(path.parent):
            sys.path.pop(0)
    _MODULES[path] = (digest, module)
    return module


def _import_error(err: Exception, path: Path, where: str) -> ManifestError:
    """One located line for an error raised while importing the user's file ``path``."""
    if isinstance(err, SyntaxError):
        return ManifestError(f"{err.filename or path}:{err.lineno}: SyntaxError: {err.msg}", location=where)
    if isinstance(err, RegistrationError):
        return ManifestError(f"{user_frame(err, path)}: {err}", location=where)
    return ManifestError(f"{user_frame(err, path)}: {type(err).__name__}: {err}", location=where)


def unload(plugin: Path | str) -> None:
    """Forget a plugin (a file's path, or a module's name): withdraw what it registered, so that it (or another
    plugin) may register those names again. For long-lived processes and tests; a build never needs it."""
    text = str(plugin)
    if isinstance(plugin, Path) or _is_file(text):
        path = Path(plugin).resolve()
        forget(str(path))
        cached = _MODULES.pop(path, None)
        if cached is not None:
            sys.modules.pop(cached[1].__name__, None)
    else:
        forget(text)
        sys.modules.pop(text, None)


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


def _is_file(entry: str) -> bool:
    return entry.endswith(".py") or "/" in entry or "\\" in entry


def plugin_origins(entries: tuple[str, ...] | list[str], base_dir: Path) -> list[str]:
    """What the registries record as the owner of each entry's registrations: a file's resolved path, or the
    module's name."""
    return [str((Path(base_dir) / e).resolve()) if _is_file(e) else e for e in entries]


def load_plugins(entries: tuple[str, ...] | list[str], base_dir: Path) -> list[Any]:
    """Import each ``[report] plugins`` entry (a file relative to ``base_dir``, or a module name); importing a
    plugin registers its section types and grading checks, which are then checked like reportgen's own. Errors are
    located at ``report.plugins[i]``."""
    modules = []
    for i, (entry, origin) in enumerate(zip(entries, plugin_origins(entries, base_dir), strict=True)):
        where = f"report.plugins[{i}]"
        if _is_file(entry):
            modules.append(load_file_module(Path(base_dir) / entry, where))
        else:
            modules.append(_import_plugin_module(entry, where))
        _check_section_types(origin, where)
    return modules


def _import_plugin_module(entry: str, where: str) -> Any:
    if entry in sys.modules:  # imported once per process, as Python does; what it registered stays
        return sys.modules[entry]
    try:
        with registering_for(entry):
            return importlib.import_module(entry)
    except ModuleNotFoundError as err:
        raise ManifestError(f'cannot import "{entry}": {err}', location=where) from None
    except SyntaxError as err:
        raise ManifestError(f"{err.filename}:{err.lineno}: SyntaxError: {err.msg}", location=where) from None
    except RegistrationError as err:
        forget(entry)
        raise ManifestError(f"{user_frame(err)}: {err}", location=where) from None
    except Exception as err:  # noqa: BLE001
        forget(entry)
        raise ManifestError(f"{user_frame(err)}: {type(err).__name__}: {err}", location=where) from None


def _check_section_types(origin: str, where: str) -> None:
    """The section types ``origin`` registered keep the contract reportgen's own keep (a ``Section`` subclass, an
    ``Options`` dataclass, ``run_count`` and ``template``), so a mistake is found here and not halfway through a
    build."""
    import dataclasses
    import inspect

    from reportgen.sections import SECTIONS, Section

    for name in SECTIONS.names():
        if SECTIONS.origin(name) != origin:
            continue
        cls = SECTIONS.get(name)
        problem = ""
        if not (isinstance(cls, type) and issubclass(cls, Section)):
            problem = "not a subclass of reportgen.sections.Section"
        elif not (isinstance(cls.Options, type) and dataclasses.is_dataclass(cls.Options)):
            problem = "its Options must be a dataclass (its fields are the section's manifest options)"
        elif not (isinstance(cls.run_count, tuple) and len(cls.run_count) == 2
                  and isinstance(cls.run_count[0], int) and cls.run_count[0] >= 0
                  and (cls.run_count[1] is None or isinstance(cls.run_count[1], int))):
            problem = f"its run_count must be (at least, at most or None), got {cls.run_count!r}"
        elif not isinstance(cls.template, str):
            problem = f"its template must be a path (str), got {type(cls.template).__name__}"
        if problem:
            try:
                place = f"{inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]}: "
            except (TypeError, OSError):
                place = ""
            raise ManifestError(f'{place}section type "{name}": {problem}', location=where)
