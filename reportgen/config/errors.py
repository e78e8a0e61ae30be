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
