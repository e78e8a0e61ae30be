"""The exceptions reportgen raises.

Library code raises a :class:`ReportgenError` subclass; only :mod:`reportgen.cli` turns one into an
``Error: …`` line and an exit status. Each error says *where* the problem is, so that a user can fix it
without reading a traceback.
"""

from __future__ import annotations


class ReportgenError(Exception):
    """Base class of every error reportgen raises on purpose."""


class ManifestError(ReportgenError):
    """A problem in the manifest, located by file and TOML key path.

    ``str(err)`` reads ``experiments.toml: sections.compare.runs[1]: unknown run "mobilnet"; did you
    mean "mobilenet"?`` — the form hatch uses for its configuration errors.
    """

    def __init__(self, message: str, *, location: str = "", file: str = "") -> None:
        self.message = message
        self.location = location
        self.file = file
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [p for p in (self.file, self.location) if p]
        return ": ".join([*parts, self.message])

    def in_file(self, file: str) -> ManifestError:
        """The same error, now naming the manifest file it came from."""
        return ManifestError(self.message, location=self.location, file=file)


class UnknownNameError(ReportgenError):
    """A name that no registry holds (a model, dataset kind, section type, loss, …)."""


class DataError(ReportgenError):
    """A dataset could not be loaded or split (missing files, bad CSV rows, too few samples)."""


class TrainingError(ReportgenError):
    """A run failed while training (raised inside the trainer, recorded by the runner)."""


class CacheError(ReportgenError):
    """A cache entry is unreadable, or the output folder cannot be written."""


class RenderError(ReportgenError):
    """The report could not be rendered (a template error, or WeasyPrint failed)."""


class ReportReadError(ReportgenError):
    """A student's report could not be read (unknown format, malformed or encrypted PDF, over a size limit).

    Names the file; grading goes on with the other reports.
    """

    def __init__(self, message: str, *, file: str = "") -> None:
        self.message = message
        self.file = file
        super().__init__(f"{file}: {message}" if file else message)


class ReportgenBug(Exception):  # noqa: N818 - a bug, not an error a user can fix: named for what it is
    """An exception raised in reportgen's own code (not by a user's model, data or plugin): a bug in reportgen.

    Deliberately not a :class:`ReportgenError`: nothing may treat it as a user's mistake (a section failure, an
    ``Error:`` line). It stops the build; the CLI prints one line naming the exception and where reportgen raised it,
    and the traceback (``error``'s, chained as ``__cause__``) under ``--debug``.
    """

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.where = reportgen_frame(error)
        message = " ".join(str(error).split())
        super().__init__(f"{type(error).__name__}: {message} at {self.where}" if message
                         else f"{type(error).__name__} at {self.where}")


def reportgen_frame(error: BaseException) -> str:
    """``"reportgen/…/file.py:line"`` of the innermost frame of ``error``'s traceback in reportgen's package."""
    import traceback
    from pathlib import Path

    package = Path(__file__).resolve().parents[1]
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename).resolve()
        if package == path or package in path.parents:
            return f"{path.relative_to(package.parent).as_posix()}:{frame.lineno}"
    return "(unknown place)"
